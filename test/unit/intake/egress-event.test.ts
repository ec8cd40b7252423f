import { readFileSync } from 'node:fs';
import { EgressAlert } from '../../../src/domain/alert.js';
import { parseEgressEvents } from '../../../src/intake/egress-event.js';
import { NAMESPACE_MESSAGE, SERVICE_MESSAGE } from '../../../src/intake/kube-names.js';
import { parseAlertBody } from '../../../src/intake/parse.js';
import { rejectedIssues, thrownCoded as rejection } from '../../support/coded.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/egress-event/${name}`, import.meta.url), 'utf8');
/** 2026-11-25T14:10:00.000Z: the receipt time in every test. */
const receivedAt = Date.UTC(2026, 10, 25, 14, 10, 0, 0);
const opts = { receivedAt };

const valid = {
  src_service: 'payments-api',
  src_namespace: 'prod',
  dst_type: 'fqdn',
  dst_name: 'exfil.example.net',
  dst_port: 443,
  protocol: 'https',
};

describe('egress events: good input', () => {
  it('normalises the typical event: lower-cased protocol, ids, scalar extras only', () => {
    const batch = parseAlertBody(fixture('typical.json'), 'application/json', opts);
    expect(batch.items).toEqual([{ index: 0, at: '', alert: batch.alerts[0] }]);
    expect({ format: batch.format, alerts: batch.alerts }).toEqual({
      format: 'egress-event',
      alerts: [
        {
          origin: 'egress-event',
          state: 'firing',
          event: 'egress.connect',
          source: {
            service: 'payments-api',
            namespace: 'prod',
            identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
          },
          destination: { type: 'fqdn', name: 'exfil.example.net', port: 443, protocol: 'https' },
          decision: 'allow',
          policyId: 'egress-default-allow',
          traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
          requestId: 'req-01JDX6M3Q9T2V8W5Y7Z0A1B2C3',
          count: 1,
          firstSeen: '2026-11-25T14:03:12.123Z',
          lastSeen: '2026-11-25T14:03:12.123Z',
          // labels (object), tags (array) and note (null) are not scalars: dropped.
          extra: {
            bytes_sent: '48213',
            tls_sni: 'exfil.example.net',
            sampled: 'true',
            node: 'ip-10-0-12-34.eu-west-1.compute.internal',
          },
        },
      ],
    });
    expect(EgressAlert.parse(batch.alerts[0])).toEqual(batch.alerts[0]);
  });

  it('reads a JSON array: epoch seconds, epoch ms, offsets, string ports, missing ts → receipt time', () => {
    const { format, alerts } = parseAlertBody(fixture('batch.json'), undefined, opts);
    expect(format).toBe('egress-event');
    expect(alerts.map((a) => [a.firstSeen, a.lastSeen])).toEqual([
      ['2026-11-25T14:03:12.000Z', '2026-11-25T14:03:12.000Z'], // 1795615392 (seconds)
      ['2026-11-25T14:03:12.456Z', '2026-11-25T14:03:12.456Z'], // 1795615392456 (ms)
      ['2026-11-25T14:03:12.500Z', '2026-11-25T14:03:12.500Z'], // 15:03:12.5+01:00
      ['2026-11-25T14:10:00.000Z', '2026-11-25T14:10:00.000Z'], // no ts: receivedAt
    ]);
    expect(alerts[0]).toEqual({
      origin: 'egress-event',
      state: 'firing',
      event: 'egress.connect',
      source: {
        service: 'checkout',
        namespace: 'commerce',
        identity: 'spiffe://cluster.local/ns/commerce/sa/checkout',
      },
      destination: {
        type: 'service',
        name: 'orders-api',
        namespace: 'commerce',
        port: 8080,
        protocol: 'grpc',
      },
      decision: 'allow',
      policyId: 'commerce-internal',
      count: 1,
      firstSeen: '2026-11-25T14:03:12.000Z',
      lastSeen: '2026-11-25T14:03:12.000Z',
      extra: {},
    });
    // dst_type "FQDN" is accepted case-insensitively; dst_port "443" becomes a number.
    expect(alerts[1]?.destination).toEqual({
      type: 'fqdn',
      name: 'api.stripe.com',
      port: 443,
      protocol: 'tls',
    });
    expect(alerts[2]?.destination).toEqual({ type: 'ip', name: '203.0.113.9', port: 22, protocol: 'tcp' });
    expect(alerts[3]?.destination).toEqual({
      type: 'ip',
      name: '2001:db8::dead:beef',
      port: 5432,
      protocol: 'tcp',
    });
    expect(alerts.map((a) => a.count)).toEqual([1, 1, 1, 1]);
    for (const a of alerts) expect(EgressAlert.safeParse(a).success).toBe(true);
  });

  it('reads NDJSON, ignoring blank and whitespace-only lines', () => {
    const { format, alerts } = parseAlertBody(fixture('stream.ndjson'), 'application/x-ndjson', opts);
    expect(format).toBe('egress-event');
    expect(
      alerts.map((a) => [
        a.requestId,
        a.source.service,
        a.destination.port,
        a.destination.protocol,
        a.firstSeen,
      ]),
    ).toEqual([
      ['r-1', 'payments-api', 443, 'https', '2026-11-25T14:03:12.123Z'],
      ['r-2', 'payments-api', 443, 'https', '2026-11-25T14:03:13.000Z'],
      ['r-3', 'checkout', 8080, 'grpc', '2026-11-25T14:03:14.250Z'],
    ]);
  });

  it('reads NDJSON with CRLF line ends', () => {
    const body = `${JSON.stringify({ ...valid, request_id: 'a' })}\r\n\r\n${JSON.stringify({ ...valid, request_id: 'b' })}\r\n`;
    expect(parseAlertBody(body, undefined, opts).alerts.map((a) => a.requestId)).toEqual(['a', 'b']);
  });

  it('keeps unicode verbatim where free text is allowed (destination names, identities, extras)', () => {
    const { alerts } = parseEgressEvents(
      [
        { ...valid, dst_name: 'xn--mgbh0fb.xn--kgbechtv', comment: '👩‍👩‍👧 family emoji with ZWJ' },
        { ...valid, dst_name: '\u202egnp.exe.example', src_identity: 'خدمة-الدفع' },
        { ...valid, dst_name: '例え.テスト', src_identity: 'cafe\u0301-api' },
      ],
      opts,
    );
    expect(alerts.map((a) => [a.destination.name, a.source.identity])).toEqual([
      ['xn--mgbh0fb.xn--kgbechtv', undefined],
      ['\u202egnp.exe.example', 'خدمة-الدفع'],
      ['例え.テスト', 'cafe\u0301-api'],
    ]);
    expect(alerts[0]?.extra).toEqual({ comment: '👩‍👩‍👧 family emoji with ZWJ' });
  });

  it('refuses unicode service and namespace names (emoji, RTL marks, combining marks): not Kubernetes names', () => {
    const err = rejection(() => parseAlertBody(fixture('unicode.json'), 'application/json', opts));
    expect(err.message).toBe('Rejected: all 3 egress events are invalid, nothing was recorded');
    expect(err.issues.map((i) => [i.path, i.message, i.value])).toEqual([
      ['[0].src_service', SERVICE_MESSAGE, '"🚀-launcher"'],
      ['[1].src_service', SERVICE_MESSAGE, '"خدمة-الدفع"'],
      ['[1].src_namespace', NAMESPACE_MESSAGE, '"\u200fprod"'],
      ['[2].src_service', SERVICE_MESSAGE, '"cafe\u0301-api"'],
      ['[2].src_namespace', NAMESPACE_MESSAGE, '"z\u0335\u0321a\u0334\u0322l\u0336\u031bg\u0337\u0322o"'],
    ]);
  });

  it('keeps Slack control sequences and HTML metacharacters unchanged in free-text fields (escaping is the renderer’s job)', () => {
    const event = {
      ...JSON.parse(fixture('slack-control.json')),
      src_service: 'payments-api',
      src_namespace: 'prod',
    };
    const [alert] = parseEgressEvents(event, opts).alerts;
    expect(alert?.source).toEqual({
      service: 'payments-api',
      namespace: 'prod',
      identity: '<!subteam^S0ABC|@security>',
    });
    expect(alert?.destination.name).toBe('<https://evil.example|click here>');
    expect(alert?.decision).toBe('&<>');
    expect(alert?.policyId).toBe('<!here>');
    expect(alert?.extra).toEqual({ comment: '<!everyone> *bold* `code` ~strike~ &amp; &lt;' });
  });

  it('refuses Slack control sequences as service and namespace names', () => {
    const err = rejection(() => parseAlertBody(fixture('slack-control.json'), 'application/json', opts));
    expect(err.issues).toEqual([
      { path: 'src_service', message: SERVICE_MESSAGE, value: '"<!channel>"' },
      { path: 'src_namespace', message: NAMESPACE_MESSAGE, value: '"<@U0AAA>"' },
    ]);
  });

  it('cuts each extra value to 1024 characters and keeps a __proto__ key as a plain key', () => {
    const body = `{"src_service":"a","src_namespace":"b","dst_type":"ip","dst_name":"203.0.113.9","dst_port":1,"protocol":"tcp","blob":"${'x'.repeat(5000)}","__proto__":"p"}`;
    const [alert] = parseAlertBody(body, undefined, opts).alerts;
    expect(alert?.extra.blob).toBe('x'.repeat(1024));
    expect(Object.hasOwn(alert?.extra ?? {}, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(alert?.extra)).toBe(Object.prototype);
  });

  it('treats empty and null optional fields as absent', () => {
    const {
      alerts: [alert],
    } = parseEgressEvents({ ...valid, src_identity: '', decision: null, trace_id: '' }, opts);
    expect(alert?.source).toEqual({ service: 'payments-api', namespace: 'prod' });
    expect(alert).not.toHaveProperty('decision');
    expect(alert).not.toHaveProperty('traceId');
  });

  it('accepts port 0 and 65535, and keeps dst_namespace for non-service destinations', () => {
    const { alerts } = parseEgressEvents(
      [
        { ...valid, dst_port: 0 },
        { ...valid, dst_port: '65535', dst_type: 'ip', dst_name: '203.0.113.9', dst_namespace: 'edge' },
      ],
      opts,
    );
    expect(alerts.map((a) => a.destination)).toEqual([
      { type: 'fqdn', name: 'exfil.example.net', port: 0, protocol: 'https' },
      { type: 'ip', name: '203.0.113.9', namespace: 'edge', port: 65535, protocol: 'https' },
    ]);
  });

  it('accepts a 1024-character name (the limit itself)', () => {
    const {
      alerts: [alert],
    } = parseEgressEvents({ ...valid, dst_name: 'n'.repeat(1024) }, opts);
    expect(alert?.destination.name).toHaveLength(1024);
  });
});

describe('egress events: bad input names each bad field', () => {
  it('lists every missing required field of one event', () => {
    const err = rejection(() => parseAlertBody(fixture('missing-required.json'), 'application/json', opts));
    expect(err.code).toBe('alert_invalid');
    expect(err.message).toBe('Rejected: the egress event is invalid, nothing was recorded');
    expect(err.issues).toEqual([
      { path: 'src_namespace', message: 'is required (the source namespace)' },
      { path: 'dst_name', message: 'is required (the destination name)' },
      { path: 'protocol', message: 'is required (the protocol, e.g. tcp or https)' },
    ]);
    expect(err.details).toEqual({ format: 'egress-event', total: 1, invalid: 1 });
  });

  it('keeps the valid item of an array and names every wrong field of the others by index', () => {
    const batch = parseAlertBody(fixture('wrong-types.json'), 'application/json', opts);
    expect(batch.items.map((i) => [i.at, i.alert ? 'valid' : 'rejected'])).toEqual([
      ['[0]', 'rejected'],
      ['[1]', 'rejected'],
      ['[2]', 'rejected'],
      ['[3]', 'rejected'],
      ['[4]', 'valid'],
    ]);
    expect(batch.alerts).toHaveLength(1);
    const port = 'expected a port number from 0 to 65535 (a number or a string of digits)';
    expect(rejectedIssues(batch)).toEqual([
      { path: '[0].dst_port', message: port, value: '"https"' },
      { path: '[1].dst_port', message: port, value: '70000' },
      { path: '[2].dst_type', message: 'expected one of service, fqdn, ip', value: '"dns"' },
      {
        path: '[3].src_service',
        message: 'expected a string (the source service name), got a number',
        value: '42',
      },
      { path: '[3].src_namespace', message: 'must not be empty (the source namespace)', value: '"   "' },
      { path: '[3].dst_port', message: port, value: '443.5' },
      {
        path: '[3].protocol',
        message: 'expected a string (the protocol, e.g. tcp or https), got an array',
        value: '["tcp"]',
      },
      {
        path: '[3].ts',
        message: 'expected an RFC 3339 time with a zone (2026-11-25T14:03:12Z) or epoch seconds/milliseconds',
        value: '"yesterday"',
      },
    ]);
    const all = rejection(() =>
      parseAlertBody(JSON.stringify(JSON.parse(fixture('wrong-types.json')).slice(0, 4)), undefined, opts),
    );
    expect(all.message).toBe('Rejected: all 4 egress events are invalid, nothing was recorded');
    expect(all.describe().split('\n')[1]).toBe(`  - [0].dst_port: ${port} (got "https")`);
  });

  it('requires dst_namespace for a service destination', () => {
    const err = rejection(() => parseAlertBody(fixture('service-without-namespace.json'), undefined, opts));
    expect(err.issues).toEqual([
      { path: 'dst_namespace', message: 'is required when dst_type is service (the destination namespace)' },
    ]);
  });

  it('reports NDJSON problems by line number, bad JSON and bad fields together, keeping the good lines', () => {
    const batch = parseAlertBody(fixture('stream-bad-line.ndjson'), 'application/x-ndjson', opts);
    expect(batch.alerts).toHaveLength(2);
    const issues = rejectedIssues(batch);
    expect(issues).toHaveLength(2);
    expect(issues[0]?.path).toBe('line 3');
    expect(issues[0]?.message).toMatch(/^is not valid JSON \(.+\)$/);
    expect(issues[0]?.value).toBe(
      '"{\\"ts\\":\\"2026-11-25T14:03:13.000Z\\",\\"src_service\\":\\"payments-api\\",\\"src_namespace\\":\\"p"… (103 chars)',
    );
    expect(issues[1]).toEqual({
      path: 'line 4: dst_port',
      message: 'expected a port number from 0 to 65535 (a number or a string of digits)',
      value: '70000',
    });
  });

  it('reports an NDJSON line that is JSON but not an object', () => {
    const body = `${JSON.stringify(valid)}\n[1,2]\n"text"\n`;
    expect(rejectedIssues(parseAlertBody(body, undefined, opts))).toEqual([
      { path: 'line 2', message: 'expected a JSON object (one event per line)', value: '[1,2]' },
      { path: 'line 3', message: 'expected a JSON object (one event per line)', value: '"text"' },
    ]);
  });

  it('rejects a 1 MB name, naming the field and showing only the start of the value', () => {
    const huge = 'a'.repeat(1024 * 1024);
    const err = rejection(() =>
      parseAlertBody(JSON.stringify({ ...valid, src_service: huge }), undefined, opts),
    );
    expect(err.issues).toEqual([
      {
        path: 'src_service',
        message: 'is 1048576 characters long: the source service name is at most 1024 characters',
        value: `"${'a'.repeat(79)}… (1048578 chars)`,
      },
    ]);
    expect(err.describe().length).toBeLessThan(400);
  });

  it('rejects an over-long identity, destination name and request id', () => {
    const long = 'x'.repeat(1025);
    const err = rejection(() =>
      parseEgressEvents({ ...valid, src_identity: long, dst_name: long, request_id: long }, opts),
    );
    expect(err.issues.map((i) => [i.path, i.message])).toEqual([
      ['src_identity', 'is 1025 characters long: the source workload identity is at most 1024 characters'],
      ['dst_name', 'is 1025 characters long: the destination name is at most 1024 characters'],
      ['request_id', 'is 1025 characters long: the request id is at most 1024 characters'],
    ]);
  });

  it('rejects impossible times: Feb 30, 24:00, no zone, negative and far-future epochs', () => {
    const times = ['2026-02-30T10:00:00Z', '2026-11-25T24:00:00Z', '2026-11-25T14:03:12', -5, 1e20, true];
    const err = rejection(() =>
      parseEgressEvents(
        times.map((ts) => ({ ...valid, ts })),
        opts,
      ),
    );
    expect(err.issues.map((i) => [i.path, i.value])).toEqual([
      ['[0].ts', '"2026-02-30T10:00:00Z"'],
      ['[1].ts', '"2026-11-25T24:00:00Z"'],
      ['[2].ts', '"2026-11-25T14:03:12"'],
      ['[3].ts', '-5'],
      ['[4].ts', '100000000000000000000'],
      ['[5].ts', 'true'],
    ]);
  });

  it('rejects a non-object item inside an array', () => {
    expect(rejectedIssues(parseEgressEvents([valid, 'src_service=a', null], opts))).toEqual([
      {
        path: '[1]',
        message: 'expected a JSON object (one egress event), got a string',
        value: '"src_service=a"',
      },
      { path: '[2]', message: 'expected a JSON object (one egress event), got null', value: 'null' },
    ]);
  });

  it('does not read inherited properties as fields', () => {
    const { src_namespace: _ns, ...rest } = valid;
    const event = Object.assign(Object.create({ src_namespace: 'inherited' }) as object, rest);
    const err = rejection(() => parseEgressEvents(event, opts));
    expect(err.issues).toEqual([{ path: 'src_namespace', message: 'is required (the source namespace)' }]);
  });
});

describe('egress events: Kubernetes names', () => {
  const issuesFor = (event: Record<string, unknown>) =>
    rejection(() => parseEgressEvents(event, opts)).issues;

  it('names the field, the value and what was expected for a namespace that is not a DNS-1123 label', () => {
    const err = rejection(() => parseEgressEvents({ ...valid, src_namespace: '..' }, opts));
    expect(err.describe().split('\n')[1]).toBe(
      `  - src_namespace: expected a Kubernetes namespace (a DNS-1123 label: lower-case letters, digits and '-', at most 63) (got "..")`,
    );
  });

  it.each([
    '..',
    '.',
    'a/b',
    '../kube-system',
    'Prod',
    '-x',
    'x-',
    'a.b',
    'a_b',
    'a b',
    'prod\n',
    'a'.repeat(64),
    'toString', // upper case: not a namespace Kubernetes would create
    '__proto__',
  ])('rejects src_namespace and dst_namespace %j', (ns) => {
    expect(issuesFor({ ...valid, src_namespace: ns })).toEqual([
      { path: 'src_namespace', message: NAMESPACE_MESSAGE, value: JSON.stringify(ns) },
    ]);
    const service = { ...valid, dst_type: 'service', dst_name: 'orders-api' };
    expect(issuesFor({ ...service, dst_namespace: ns })).toEqual([
      { path: 'dst_namespace', message: NAMESPACE_MESSAGE, value: JSON.stringify(ns) },
    ]);
    expect(issuesFor({ ...valid, dst_namespace: ns })).toEqual([
      { path: 'dst_namespace', message: NAMESPACE_MESSAGE, value: JSON.stringify(ns) },
    ]);
  });

  it.each([
    'constructor',
    'tostring',
    'valueof',
    'hasownproperty',
    'prototype',
    'prod',
    '0',
    'kube-system',
    'a'.repeat(63),
  ])('accepts the namespace %j (own value, never Object.prototype)', (ns) => {
    const service = { ...valid, dst_type: 'service', dst_name: 'orders-api', dst_namespace: ns };
    const [alert] = parseEgressEvents({ ...service, src_namespace: ns }, opts).alerts;
    expect(alert?.source.namespace).toBe(ns);
    expect(alert?.destination.namespace).toBe(ns);
    expect(typeof alert?.source.namespace).toBe('string');
  });

  it.each([
    'ledger-db,tier=database',
    'app in (a,b)',
    'a=b',
    'a!=b',
    'x/y',
    'Payments',
    'a..b',
    '.a',
    'a.',
    '-a',
    'a-',
    'a_b',
    '<!channel>',
    'a'.repeat(64),
  ])('rejects src_service %j, which could not be a label value', (service) => {
    expect(issuesFor({ ...valid, src_service: service })).toEqual([
      { path: 'src_service', message: SERVICE_MESSAGE, value: JSON.stringify(service) },
    ]);
  });

  it('says what a service name must be, naming src_service', () => {
    const err = rejection(() =>
      parseEgressEvents({ ...valid, src_service: 'ledger-db,tier=database' }, opts),
    );
    expect(err.describe().split('\n')[1]).toBe(
      "  - src_service: expected a Kubernetes object name usable as a label value (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 63) (got \"ledger-db,tier=database\")",
    );
  });

  it.each(['payments-api', 'api.v2', 'constructor', 'tostring', '0', 'a'.repeat(63), 'a.b-c.d'])(
    'accepts the service name %j',
    (service) => {
      expect(parseEgressEvents({ ...valid, src_service: service }, opts).alerts[0]?.source.service).toBe(
        service,
      );
    },
  );

  it('still reports a wrong type or an empty value the way it did (the name rule comes after)', () => {
    expect(issuesFor({ ...valid, src_service: 7, src_namespace: '  ' })).toEqual([
      {
        path: 'src_service',
        message: 'expected a string (the source service name), got a number',
        value: '7',
      },
      { path: 'src_namespace', message: 'must not be empty (the source namespace)', value: '"  "' },
    ]);
  });
});
