// docs/alert-fields.md against the parsers: the file is exactly what the reference renders, the keys
// are the schemas' own, and every row's "required" is what the real parser does with the field absent.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/config/paths.js';
import type { EgressAlert } from '../../../src/domain/alert.js';
import { AlertmanagerLabelMapping } from '../../../src/domain/alertmanager-labels.js';
import { CodedError } from '../../../src/domain/errors.js';
import { EGRESS_EVENT_KEYS } from '../../../src/intake/egress-event.js';
import { EGRESS_FIELDS } from '../../../src/intake/egress-fields.js';
import {
  ALERTMANAGER_LABELS,
  EGRESS_EVENT_FIELDS,
  FALCO_FIELDS,
  type FieldRow,
  renderFieldReference,
} from '../../../src/intake/field-reference.js';
import type { ParseOptions } from '../../../src/intake/options.js';
import { parseAlertBody } from '../../../src/intake/parse.js';

const opts = { receivedAt: Date.parse('2026-11-25T14:10:00.000Z') };
/** The alerts parsed and the issues found; a body whose every alert is invalid is refused with its issues. */
function parse(body: unknown, more: Partial<ParseOptions> = {}): { alerts: EgressAlert[]; paths: string } {
  try {
    const batch = parseAlertBody(JSON.stringify(body), 'application/json', { ...opts, ...more });
    return {
      alerts: batch.alerts,
      paths: batch.items
        .flatMap((i) => i.issues ?? [])
        .map((i) => i.path)
        .join(' '),
    };
  } catch (err) {
    if (!(err instanceof CodedError)) throw err;
    return { alerts: [], paths: err.issues.map((i) => i.path).join(' ') };
  }
}

const fullEvent: Record<string, unknown> = {
  src_service: 'payments-api',
  src_namespace: 'prod',
  src_identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
  dst_type: 'service',
  dst_name: 'ledger-db',
  dst_namespace: 'finance',
  dst_port: 5432,
  protocol: 'TCP',
  decision: 'denied',
  policy_id: 'egress/payments-api',
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  request_id: 'req-1',
  ts: '2026-11-25T14:06:01.000Z',
  event: 'egress.denied',
};

const fullFalco = {
  uuid: '5d2c8e4a-3f17-4b6e-9a0c-1e2f3a4b5c6d',
  output: 'Outbound connection',
  priority: 'Warning',
  rule: 'Outbound IRC Connection',
  time: '2026-11-25T14:06:02.500Z',
  output_fields: {
    'fd.l4proto': 'UDP',
    'fd.rip': '203.0.113.200',
    'fd.rport': 6667,
    'k8s.ns.name': 'shop',
    'k8s.pod.name': 'checkout-7d9f8b6c5d-x2x7q',
  },
  hostname: 'node-1',
};

/** The body without one field (`output_fields.x` removes x from output_fields). */
function without(body: Record<string, unknown>, field: string): Record<string, unknown> {
  const copy = structuredClone(body);
  if (field.startsWith('output_fields.'))
    delete (copy.output_fields as Record<string, unknown>)[field.slice(14)];
  else delete copy[field];
  return copy;
}

const single = (rows: readonly FieldRow[]) =>
  rows.filter((r) => !r.field.includes(',') && !r.field.includes(' '));

it('docs/alert-fields.md is what the reference renders (node scripts/alert-fields.mjs)', () => {
  expect(readFileSync(join(packageRoot, 'docs/alert-fields.md'), 'utf8')).toBe(renderFieldReference());
});

it('lists exactly the egress event keys the parser reads, and a label for every egress field', () => {
  expect(EGRESS_EVENT_FIELDS.map((r) => r.field).sort()).toEqual([...EGRESS_EVENT_KEYS].sort());
  expect([...ALERTMANAGER_LABELS].sort()).toEqual([...EGRESS_FIELDS].sort());
  expect(ALERTMANAGER_LABELS).toEqual(Object.keys(AlertmanagerLabelMapping.shape));
});

describe('egress event: each row does what it says', () => {
  const full = parse(fullEvent).alerts[0];
  it('the full event parses', () => expect(full).toBeDefined());
  it.each(EGRESS_EVENT_FIELDS.map((r) => [r.field, r.required] as const))(
    '%s (required: %s)',
    (field, required) => {
      const batch = parse(without(fullEvent, field));
      if (required === 'yes' || required === 'when dst_type is service') {
        expect(batch.alerts).toHaveLength(0);
        expect(batch.paths).toContain(field);
      } else {
        expect(batch.alerts).toHaveLength(1);
        expect(batch.alerts[0]).not.toEqual(full); // the field was read
      }
    },
  );
  it('dst_namespace is optional for other destination types', () => {
    expect(
      parse(without({ ...fullEvent, dst_type: 'fqdn', dst_name: 'x.example' }, 'dst_namespace')).alerts,
    ).toHaveLength(1);
  });
});

describe('Falcosidekick: each row does what it says', () => {
  const full = parse(fullFalco).alerts[0];
  it('the full event parses as Falco', () => expect(full?.origin).toBe('falcosidekick'));
  it.each(single(FALCO_FIELDS).map((r) => [r.field, r.required] as const))(
    '%s (required: %s)',
    (field, required) => {
      const batch = parse(without(fullFalco, field));
      if (required === 'yes') {
        expect(batch.alerts).toHaveLength(0);
        expect(batch.paths).not.toBe('');
      } else {
        expect(batch.alerts).toHaveLength(1);
        expect(batch.alerts[0]).not.toEqual(full);
      }
    },
  );
});

it('Alertmanager: a label mapped in the config is where the field is read from', () => {
  const labels = {
    alertname: 'EgressDenied',
    app: 'payments-api',
    src_namespace: 'prod',
    dst_type: 'fqdn',
    dst_name: 'x.example',
    dst_port: '443',
    protocol: 'https',
  };
  const body = {
    version: '4',
    status: 'firing',
    receiver: 'egress',
    alerts: [
      { status: 'firing', labels, annotations: { summary: 's' }, startsAt: '2026-11-25T14:06:01.000Z' },
    ],
  };
  const mapped = parse(body, { alertmanagerLabels: { src_service: 'app' } });
  expect(mapped.alerts[0]?.source.service).toBe('payments-api');
  expect(parse(body).alerts).toHaveLength(0); // unmapped: src_service is missing
});
