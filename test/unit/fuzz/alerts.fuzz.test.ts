// Property-based fuzzing of the alert intake (parseAlertBody: egress events, Alertmanager v4,
// Falcosidekick; JSON object, array or NDJSON). Whatever the body, the parser returns a batch whose
// alerts all satisfy the domain schema and whose items account for every item of the body, or it
// throws alert_invalid / alert_format_unknown naming what was wrong. Never a TypeError, never `internal`.
import fc from 'fast-check';
import { EgressAlert, type ParsedBatch } from '../../../src/domain/alert.js';
import type { AlertmanagerLabelMapping } from '../../../src/domain/alertmanager-labels.js';
import { EGRESS_FIELDS } from '../../../src/intake/egress-fields.js';
import { isDnsLabel, isDnsSubdomain, isServiceName } from '../../../src/intake/kube-names.js';
import { type ParseOptions, parseAlertBody } from '../../../src/intake/parse.js';
import {
  clone,
  mutatedDoc,
  NASTY_KEYS,
  nastyString,
  params,
  returnsOrRejectsPrecisely,
  setOwn,
} from './support.js';

const receivedAt = Date.UTC(2026, 10, 25, 14, 10, 0, 0);
const CODES = ['alert_invalid', 'alert_format_unknown'] as const;

// ---------------------------------------------------------------------------------------------
// Valid inputs (the seeds that get mutated)

/** Kubernetes names, including ones that are also Object.prototype property names. */
const dnsLabel = fc.oneof(
  fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/),
  fc.constantFrom('constructor', 'tostring', 'valueof', 'hasownproperty', 'proto', 'prod', 'a'),
);
const serviceName = fc.oneof(dnsLabel, fc.stringMatching(/^[a-z0-9]{1,6}(\.[a-z0-9]{1,6}){1,3}$/));
const protocol = fc.constantFrom('tcp', 'udp', 'https', 'HTTP', 'grpc', 'constructor');
const port = fc.integer({ min: 0, max: 65535 });
const ip = fc.oneof(fc.ipV4(), fc.constantFrom('2001:db8::dead:beef', '::1'));
const rfc3339 = fc
  .date({ min: new Date(Date.UTC(2000, 0, 1)), max: new Date(Date.UTC(2099, 0, 1)), noInvalidDate: true })
  .map((d) => d.toISOString());

const destination = fc.oneof(
  fc.record({ dst_type: fc.constant('fqdn'), dst_name: fc.domain() }),
  fc.record({ dst_type: fc.constant('ip'), dst_name: ip }),
  fc.record({ dst_type: fc.constant('service'), dst_name: serviceName, dst_namespace: dnsLabel }),
);

const egressEvent = fc
  .tuple(
    fc.record({ src_service: serviceName, src_namespace: dnsLabel, dst_port: port, protocol }),
    destination,
    fc.record(
      {
        ts: fc.oneof(rfc3339, fc.integer({ min: 0, max: 4_000_000_000 })),
        event: fc.constant('egress.connect'),
        src_identity: fc.constant('spiffe://cluster.local/ns/prod/sa/x'),
        request_id: fc.uuid(),
        bytes_sent: fc.nat(),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([a, b, c]) => ({ ...a, ...b, ...c }));

/** The egress fields as Alertmanager label strings. */
const alertmanagerAlert = fc
  .tuple(
    egressEvent,
    rfc3339,
    fc.constantFrom('firing', 'resolved'),
    fc.option(fc.stringMatching(/^[0-9a-f]{16}$/), { nil: undefined }),
  )
  .map(([event, startsAt, status, fingerprint]) => {
    const labels: Record<string, string> = { alertname: 'EgressContractViolation' };
    for (const f of EGRESS_FIELDS) {
      const v = (event as Record<string, unknown>)[f];
      if (v !== undefined) labels[f] = String(v);
    }
    return {
      status,
      labels,
      annotations: { summary: 'payments-api called an unlisted destination' },
      startsAt,
      endsAt: status === 'resolved' ? startsAt : '0001-01-01T00:00:00Z',
      generatorURL: 'https://prometheus.example.com/graph',
      ...(fingerprint ? { fingerprint } : {}),
    };
  });

const alertmanagerWebhook = fc.array(alertmanagerAlert, { minLength: 1, maxLength: 4 }).map((alerts) => ({
  version: '4',
  groupKey: '{}:{alertname="EgressContractViolation"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'egress-responder',
  groupLabels: { alertname: 'EgressContractViolation' },
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'https://alertmanager.example.com',
  alerts,
}));

const podName = fc.oneof(
  fc
    .tuple(dnsLabel, fc.stringMatching(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/))
    .map(([w, h]) => `${w}-${h.slice(0, 8)}-${h.slice(5)}`),
  fc.tuple(dnsLabel, fc.nat({ max: 20 })).map(([w, n]) => `${w}-${n}`),
  dnsLabel,
);

const falcoEvent = fc
  .record({ ns: dnsLabel, pod: podName, ip, port, time: rfc3339, l4: fc.constantFrom('tcp', 'udp', 'TCP') })
  .map(({ ns, pod, ip, port, time, l4 }) => ({
    uuid: '9f4a2b1e-6c3d-4e8f-a1b2-7c9d0e1f2a3b',
    output: `Warning Outbound connection to ${ip}:${port}`,
    priority: 'Warning',
    rule: 'Outbound Connection to C2 Servers',
    time,
    output_fields: {
      'k8s.ns.name': ns,
      'k8s.pod.name': pod,
      'fd.rip': ip,
      'fd.rport': port,
      'fd.l4proto': l4,
      'proc.cmdline': 'curl -s https://x',
    },
    source: 'syscall',
    tags: ['network'],
    hostname: 'node-1',
  }));

/** A valid body of any of the three formats, as a value to serialise (object or array). */
const validBody: fc.Arbitrary<unknown> = fc.oneof(
  egressEvent,
  fc.array(egressEvent, { minLength: 1, maxLength: 4 }),
  alertmanagerWebhook,
  falcoEvent,
  fc.array(falcoEvent, { minLength: 1, maxLength: 4 }),
);

/** The same bodies with one to three fields changed, removed or added (nasty keys and values). */
const nearValidBody: fc.Arbitrary<unknown> = validBody.chain((doc) => mutatedDoc(doc));

const options: fc.Arbitrary<ParseOptions> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ receivedAt }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((maxAlerts) => ({ receivedAt, maxAlerts })) },
);

// ---------------------------------------------------------------------------------------------
// What a returned batch must satisfy

/** How many items a body holds, by the same rules the parser documents. */
function expectedItems(body: string): number {
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  try {
    const value = JSON.parse(text) as unknown;
    if (Array.isArray(value)) return value.length;
    const alerts = (value as { alerts?: unknown }).alerts;
    if (typeof value === 'object' && value !== null && Array.isArray(alerts) && !('output_fields' in value)) {
      return alerts.length;
    }
    return 1;
  } catch {
    return text.split(/\r?\n/).filter((l) => l.trim() !== '').length;
  }
}

function checkBatch(body: string, batch: ParsedBatch): void {
  for (const alert of batch.alerts) {
    const res = EgressAlert.safeParse(alert);
    if (!res.success) throw new Error(`an alert fails the schema: ${res.error.message}`);
    // Names that reach selectors and API paths are Kubernetes names, whatever the sender wrote.
    const { source, destination } = alert;
    expect(isServiceName(source.service)).toBe(true);
    expect(isDnsLabel(source.namespace)).toBe(true);
    if (destination.namespace !== undefined) expect(isDnsLabel(destination.namespace)).toBe(true);
    if (source.pod !== undefined) expect(isDnsSubdomain(source.pod)).toBe(true);
  }
  expect(batch.items).toHaveLength(expectedItems(body));
  batch.items.forEach((item, i) => {
    expect(item.index).toBe(i);
    if (item.alert) {
      expect(item.issues).toBeUndefined();
    } else {
      expect(item.issues.length).toBeGreaterThan(0);
      for (const issue of item.issues) {
        expect(issue.message.trim()).not.toBe('');
        // An item's issues are named under its own path: `[3].dst_port`, `line 4: ts`, `alerts[1].labels.x`.
        if (item.at !== '') expect(issue.path.startsWith(item.at)).toBe(true);
      }
    }
  });
  // The valid alerts are exactly the valid items' alerts, in body order.
  expect(batch.alerts).toEqual(batch.items.flatMap((i) => (i.alert ? [i.alert] : [])));
  expect(batch.alerts.length).toBeGreaterThan(0);
}

function check(body: string, opts: ParseOptions = { receivedAt }): ParsedBatch | undefined {
  const batch = returnsOrRejectsPrecisely(() => parseAlertBody(body, 'application/json', opts), CODES);
  if (batch) checkBatch(body, batch);
  return batch;
}

// ---------------------------------------------------------------------------------------------

describe('alert intake fuzzing', () => {
  it('accepts every valid body whole: every item is an alert', () => {
    fc.assert(
      fc.property(validBody, (doc) => {
        const body = JSON.stringify(doc);
        const batch = parseAlertBody(body, undefined, { receivedAt });
        checkBatch(body, batch);
        expect(batch.items.every((i) => i.alert !== undefined)).toBe(true);
      }),
      params(),
    );
  });

  it('arbitrary JSON values: a batch or a precise rejection', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), options, (value, opts) => {
        check(JSON.stringify(value) ?? 'null', opts);
      }),
      params(),
    );
  });

  it('near-valid bodies (one to three fields mutated): a batch or a precise rejection', () => {
    fc.assert(
      fc.property(nearValidBody, options, (doc, opts) => {
        check(JSON.stringify(doc) ?? 'null', opts);
      }),
      params(500),
    );
  });

  it('arbitrary text: a precise rejection (or, rarely, a batch)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.string({
        unit: fc.constantFrom(...'{}[]":,\n\r 0123456789.eE+-truefalsn\\u'.split('')),
        maxLength: 120,
      }),
      nastyString,
    );
    fc.assert(
      fc.property(text, options, (body, opts) => {
        check(body, opts);
      }),
      params(),
    );
  });

  it('NDJSON of good, bad and garbage lines: the good lines kept, each bad line named by number', () => {
    const line = fc.oneof(
      { weight: 3, arbitrary: egressEvent.map((e) => JSON.stringify(e)) },
      { weight: 2, arbitrary: falcoEvent.map((e) => JSON.stringify(e)) },
      {
        weight: 3,
        arbitrary: egressEvent.chain((e) => mutatedDoc(e)).map((e) => JSON.stringify(e) ?? 'null'),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null') },
      {
        weight: 1,
        arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')),
      },
      { weight: 1, arbitrary: fc.constantFrom('', '   ', '\t', '{', '}', '[]', 'null') },
    );
    const body = fc
      .tuple(fc.array(line, { minLength: 2, maxLength: 8 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
      .map(([lines, eol, bom]) => `${bom ? '\ufeff' : ''}${lines.join(eol)}${eol}`);
    fc.assert(
      fc.property(body, options, (text, opts) => {
        check(text, opts);
      }),
      params(),
    );
  });

  it('labels named like Object.prototype properties are read through the label mapping', () => {
    const mapping = fc
      .uniqueArray(fc.constantFrom(...NASTY_KEYS.filter((k) => k !== ''), 'app', 'kubernetes_namespace'), {
        minLength: 1,
        maxLength: 4,
      })
      .chain((names) =>
        fc
          .shuffledSubarray([...EGRESS_FIELDS], { minLength: names.length, maxLength: names.length })
          .map((fields) => Object.fromEntries(fields.map((f, i) => [f, names[i]!]))),
      );
    fc.assert(
      fc.property(alertmanagerWebhook, mapping, (webhook, map) => {
        const doc = clone(webhook);
        for (const alert of doc.alerts) {
          const labels: Record<string, string> = {};
          const moved = new Set<string>(Object.values(map));
          for (const [k, v] of Object.entries(alert.labels)) if (!moved.has(k)) labels[k] = v;
          for (const [field, label] of Object.entries(map)) {
            const v = alert.labels[field];
            if (v !== undefined) setOwn(labels, label, v);
            else delete labels[label];
          }
          alert.labels = labels;
        }
        const body = JSON.stringify(doc);
        const opts = { receivedAt, alertmanagerLabels: map as AlertmanagerLabelMapping };
        const batch = parseAlertBody(body, undefined, opts);
        checkBatch(body, batch);
        expect(batch.items.every((i) => i.alert !== undefined)).toBe(true);
      }),
      params(200),
    );
  });
});
