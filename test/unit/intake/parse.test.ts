import { readFileSync } from 'node:fs';
import { CodedError } from '../../../src/domain/errors.js';
import { parseAlertBody } from '../../../src/intake/parse.js';
import { rejectedIssues, thrownCoded as rejection } from '../../support/coded.js';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');
/** 2026-11-25T14:10:00.000Z */
const receivedAt = Date.UTC(2026, 10, 25, 14, 10, 0, 0);
const opts = { receivedAt };

const ACCEPTED =
  'Unrecognised alert format: expected one of: an egress event (a JSON object, a JSON array or NDJSON of objects ' +
  'with src_service, src_namespace, dst_type, dst_name, dst_port, protocol), a Prometheus Alertmanager webhook ' +
  '(version "4" with receiver, status and alerts[]), or a Falcosidekick event (rule, priority, output_fields); got ';

const event = {
  src_service: 'payments-api',
  src_namespace: 'prod',
  dst_type: 'fqdn',
  dst_name: 'exfil.example.net',
  dst_port: 443,
  protocol: 'https',
};

describe('format detection', () => {
  it('detects each format from the body, whatever the content type says', () => {
    expect(parseAlertBody(fixture('alertmanager/typical-group.json'), 'text/plain', opts).format).toBe(
      'alertmanager',
    );
    expect(
      parseAlertBody(fixture('falcosidekick/c2-servers.json'), 'application/x-ndjson', opts).format,
    ).toBe('falcosidekick');
    expect(
      parseAlertBody(fixture('egress-event/typical.json'), 'application/x-www-form-urlencoded', opts).format,
    ).toBe('egress-event');
    expect(parseAlertBody(fixture('egress-event/stream.ndjson'), 'application/json', opts).format).toBe(
      'egress-event',
    );
  });

  it('reads Falco events as NDJSON too (Falco file output shipped line by line)', () => {
    const one = fixture('falcosidekick/c2-servers.json').replace(/\n\s*/g, ' ');
    const two = fixture('falcosidekick/unexpected-destination.json').replace(/\n\s*/g, ' ');
    const batch = parseAlertBody(`${one}\n${two}\n`, undefined, opts);
    expect(batch.format).toBe('falcosidekick');
    expect(batch.alerts.map((a) => a.destination.name)).toEqual(['203.0.113.77', '198.51.100.23']);
  });

  it('classifies an array by its first recognisable item and reports the others against that format', () => {
    const batch = parseAlertBody(JSON.stringify([{ hello: 1 }, event]), undefined, opts);
    expect(batch.format).toBe('egress-event');
    expect(batch.alerts).toHaveLength(1);
    expect(rejectedIssues(batch).map((i) => i.path)).toEqual([
      '[0].src_service',
      '[0].src_namespace',
      '[0].dst_type',
      '[0].dst_name',
      '[0].dst_port',
      '[0].protocol',
    ]);
  });

  it('strips a UTF-8 byte order mark', () => {
    expect(parseAlertBody(`\ufeff${JSON.stringify(event)}`, undefined, opts).alerts[0]?.source.service).toBe(
      'payments-api',
    );
  });
});

describe('unknown formats say what is accepted and what was seen', () => {
  const unknown = (body: string, contentType?: string) => {
    const err = rejection(() => parseAlertBody(body, contentType, opts));
    expect(err.code).toBe('alert_format_unknown');
    expect(err.userSafe).toBe(true);
    expect(err.message.startsWith(ACCEPTED)).toBe(true);
    return err.message.slice(ACCEPTED.length);
  };

  it('empty and whitespace bodies', () => {
    expect(unknown('')).toBe('an empty body');
    expect(unknown(' \n\t\r\n ')).toBe('an empty body');
  });

  it('JSON null, numbers, strings, booleans', () => {
    expect(unknown(fixture('egress-event/null.json'))).toBe('JSON null');
    expect(unknown('42')).toBe('a JSON number (42)');
    expect(unknown('"src_service=a"')).toBe('a JSON string ("src_service=a")');
    expect(unknown('true')).toBe('a JSON boolean (true)');
  });

  it('objects and arrays that look like none of the formats', () => {
    expect(unknown('{}')).toBe('an empty JSON object');
    expect(unknown('{"text":"hello","channel":"#alerts"}')).toBe(
      'a JSON object with fields "text", "channel"',
    );
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));
    expect(unknown(JSON.stringify(many))).toBe(
      'a JSON object with fields "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", … (12 fields)',
    );
    expect(unknown('[1,2,3]')).toBe(
      'a JSON array of 3 items, none of which looks like an alert (first item: a JSON number (1))',
    );
    expect(unknown('{"alerts":[]}')).toBe('a JSON object with fields "alerts"');
  });

  it('an array of Alertmanager webhooks', () => {
    expect(unknown(`[${fixture('alertmanager/typical-group.json')}]`)).toBe(
      'a JSON array of Alertmanager webhooks (send one webhook object per request)',
    );
  });

  it('non-JSON text: an HTML error page, quoted and cut, with the content type', () => {
    const seen = unknown(fixture('egress-event/not-json.txt'), 'text/html');
    expect(seen).toMatch(/^text that is not JSON \(Unexpected token '<', .*\), sent as "text\/html": /);
    expect(seen).not.toContain('\n');
    expect(
      seen.endsWith(
        '"<html>\\n<head><title>502 Bad Gateway</title></head>\\n<body>\\n<center><h1>502 Bad Ga"… (143 chars)',
      ),
    ).toBe(true);
  });

  it('form-encoded and NDJSON-looking text with no alert objects', () => {
    expect(unknown('payload=%7B%22a%22%3A1%7D', 'application/x-www-form-urlencoded')).toMatch(
      /^text that is not JSON \(.+\), sent as "application\/x-www-form-urlencoded": "payload=%7B%22a%22%3A1%7D"$/,
    );
    expect(unknown('{"a":1}\n{"b":2}\n')).toMatch(
      /^text that is not JSON \(.+\): "\{\\"a\\":1\}\\n\{\\"b\\":2\}\\n"$/,
    );
  });

  it('binary garbage', () => {
    const bytes = Buffer.from([0x00, 0xff, 0x1f, 0x8b, 0x08, 0x00, 0x89, 0x50, 0x4e, 0x47]).toString(
      'latin1',
    );
    expect(unknown(bytes, 'application/octet-stream')).toMatch(
      /^text that is not JSON \(.+\), sent as "application\/octet-stream": "\\u0000ÿ\\u001f/,
    );
  });
});

describe('hostile input never throws anything but a CodedError', () => {
  it('a million nested arrays', () => {
    const err = rejection(() =>
      parseAlertBody(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`, undefined, opts),
    );
    expect(err.code).toBe('alert_invalid');
    expect(err.issues).toEqual([{ path: '', message: 'nests deeper than 64 levels' }]);
  });

  it('deep nesting inside a field of an otherwise valid event', () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const body = `{"src_service":"a","src_namespace":"b","dst_type":"ip","dst_name":"203.0.113.9","dst_port":${deep},"protocol":"tcp"}`;
    const err = rejection(() => parseAlertBody(body, undefined, opts));
    expect(err.code).toBe('alert_invalid');
    expect(err.message).toBe('Rejected: JSON nested deeper than 64 levels is not an alert');
  });

  it('a deep NDJSON line is reported by its line number', () => {
    const body = `${JSON.stringify(event)}\n${'['.repeat(100)}${']'.repeat(100)}\n`;
    expect(rejectedIssues(parseAlertBody(body, undefined, opts))).toEqual([
      { path: 'line 2', message: 'nests deeper than 64 levels' },
    ]);
  });

  it('a 1 MB body of non-JSON text', () => {
    const err = rejection(() => parseAlertBody('x'.repeat(1024 * 1024), undefined, opts));
    expect(err.code).toBe('alert_format_unknown');
    expect(err.message.length).toBeLessThan(ACCEPTED.length + 300);
  });

  it('a body that is not a string at all (a JS caller passing a Buffer)', () => {
    const err = rejection(() => parseAlertBody(Buffer.from('{}') as unknown as string, undefined, opts));
    expect(err.code).toBe('alert_format_unknown');
    expect(err.message.endsWith('got a body that is not text (object)')).toBe(true);
  });

  it('a receipt time that is not a number is our bug: internal, not user-safe', () => {
    const err = rejection(() => parseAlertBody(JSON.stringify(event), undefined, { receivedAt: Number.NaN }));
    expect(err.code).toBe('internal');
    expect(err.userSafe).toBe(false);
  });

  it('random mutations of real fixtures', () => {
    const sources = [
      fixture('egress-event/batch.json'),
      fixture('alertmanager/typical-group.json'),
      fixture('falcosidekick/batch.json'),
      fixture('egress-event/stream.ndjson'),
    ];
    // Deterministic PRNG so a failure is reproducible.
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['{', '}', '[', ']', '"', ',', ':', '0', '-1', 'null', '\n', '\\', 'é', '\u0000', 'x'];
    const outcomes = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const src = sources[i % sources.length]!;
      const at = rnd(src.length);
      const mutated = src.slice(0, at) + alphabet[rnd(alphabet.length)] + src.slice(at + rnd(4));
      try {
        const batch = parseAlertBody(mutated, undefined, opts);
        outcomes.add(`ok:${batch.format}`);
      } catch (err) {
        expect(err).toBeInstanceOf(CodedError);
        expect(['alert_invalid', 'alert_format_unknown']).toContain((err as CodedError).code);
        outcomes.add((err as CodedError).code);
      }
    }
    // The mutations exercise both failure kinds and some still parse.
    expect(outcomes.has('alert_invalid')).toBe(true);
    expect(outcomes.has('alert_format_unknown')).toBe(true);
  });
});

describe('batch limits', () => {
  it('rejects an empty JSON array', () => {
    const err = rejection(() =>
      parseAlertBody(fixture('egress-event/empty-array.json'), 'application/json', opts),
    );
    expect(err.code).toBe('alert_invalid');
    expect(err.message).toBe('Rejected: the batch is empty, there is nothing to record');
    expect(err.issues).toEqual([{ path: '', message: 'is empty: expected at least one alert' }]);
  });

  it('accepts exactly maxAlerts and rejects one more (JSON array and NDJSON)', () => {
    const arr = (n: number) =>
      JSON.stringify(Array.from({ length: n }, (_, i) => ({ ...event, request_id: `r${i}` })));
    expect(parseAlertBody(arr(3), undefined, { receivedAt, maxAlerts: 3 }).alerts).toHaveLength(3);
    const err = rejection(() => parseAlertBody(arr(4), undefined, { receivedAt, maxAlerts: 3 }));
    expect(err.message).toBe('Too many alerts in one request: 4, the limit is 3');
    expect(err.issues).toEqual([
      { path: '', message: 'carries 4 alerts; at most 3 are accepted per request (split the batch)' },
    ]);
    const ndjson = Array.from({ length: 4 }, () => JSON.stringify(event)).join('\n');
    expect(rejection(() => parseAlertBody(ndjson, undefined, { receivedAt, maxAlerts: 3 })).message).toBe(
      'Too many alerts in one request: 4, the limit is 3',
    );
  });

  it('defaults to 1000 alerts per request, also when maxAlerts is not a positive integer', () => {
    const arr = (n: number) => JSON.stringify(Array.from({ length: n }, () => event));
    expect(parseAlertBody(arr(1000), undefined, opts).alerts).toHaveLength(1000);
    for (const maxAlerts of [undefined, 0, -5, Number.NaN, 2.5]) {
      expect(rejection(() => parseAlertBody(arr(1001), undefined, { receivedAt, maxAlerts })).message).toBe(
        'Too many alerts in one request: 1001, the limit is 1000',
      );
    }
  });
});
