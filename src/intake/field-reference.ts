// The alert field reference operators read (docs/alert-fields.md, written from this by
// scripts/alert-fields.mjs). A test holds it to the parsers: the egress keys and the Alertmanager
// mapping must be the schemas' own, and every field said to be required must be refused when absent,
// every optional one must change the parsed alert when present (test/unit/intake/field-reference.test.ts).
import { AlertmanagerLabelMapping } from '../domain/alertmanager-labels.js';

export interface FieldRow {
  field: string;
  required: 'yes' | 'no' | 'when dst_type is service';
  type: string;
  becomes: string;
  meaning: string;
}

/** Format 1, our own egress event: every key the parser reads (any other key is kept in `extra`). */
export const EGRESS_EVENT_FIELDS: readonly FieldRow[] = [
  {
    field: 'src_service',
    required: 'yes',
    type: 'service name (DNS label)',
    becomes: 'source.service',
    meaning: 'the workload that sent the traffic',
  },
  {
    field: 'src_namespace',
    required: 'yes',
    type: 'namespace name',
    becomes: 'source.namespace',
    meaning: 'its namespace',
  },
  {
    field: 'src_identity',
    required: 'no',
    type: 'string',
    becomes: 'source.identity',
    meaning: 'its workload identity (a SPIFFE id, a service account)',
  },
  {
    field: 'dst_type',
    required: 'yes',
    type: '`service` \\| `fqdn` \\| `ip`',
    becomes: 'destination.type',
    meaning: 'what kind of destination `dst_name` is',
  },
  {
    field: 'dst_name',
    required: 'yes',
    type: 'string',
    becomes: 'destination.name',
    meaning: 'the service name, host name or IP address called',
  },
  {
    field: 'dst_namespace',
    required: 'when dst_type is service',
    type: 'namespace name',
    becomes: 'destination.namespace',
    meaning: 'the destination service namespace',
  },
  {
    field: 'dst_port',
    required: 'yes',
    type: 'integer 0–65535',
    becomes: 'destination.port',
    meaning: 'the destination port',
  },
  {
    field: 'protocol',
    required: 'yes',
    type: 'string (lower-cased)',
    becomes: 'destination.protocol',
    meaning: 'tcp, udp, http, https, grpc, tls …',
  },
  {
    field: 'decision',
    required: 'no',
    type: 'string',
    becomes: 'decision',
    meaning: 'what the sender decided (allowed, denied, observed …)',
  },
  {
    field: 'policy_id',
    required: 'no',
    type: 'string',
    becomes: 'policyId',
    meaning: 'the policy that matched; a span attribute `egress.policy_id`',
  },
  {
    field: 'trace_id',
    required: 'no',
    type: 'string',
    becomes: 'traceId',
    meaning: 'the sender trace; linked from our spans when it is a W3C trace id',
  },
  {
    field: 'request_id',
    required: 'no',
    type: 'string',
    becomes: 'requestId',
    meaning: 'the sender id for this report: seen again, it is a retry, not a new observation',
  },
  {
    field: 'ts',
    required: 'no',
    type: 'RFC 3339 time or epoch number',
    becomes: 'firstSeen, lastSeen',
    meaning: 'when it was seen (default: when received)',
  },
  { field: 'event', required: 'no', type: 'string', becomes: 'event', meaning: 'the name of the detection' },
];

/** The Alertmanager label that carries each egress field by default: the field's own name. */
export const ALERTMANAGER_LABELS: readonly string[] = Object.keys(AlertmanagerLabelMapping.shape);

/** Alertmanager alert keys read besides the labels above. */
export const ALERTMANAGER_OTHER: readonly FieldRow[] = [
  {
    field: 'status',
    required: 'yes',
    type: '`firing` \\| `resolved`',
    becomes: 'state',
    meaning: 'resolved alerts are recorded on their incident, never open one',
  },
  {
    field: 'startsAt',
    required: 'yes',
    type: 'RFC 3339 time',
    becomes: 'firstSeen',
    meaning: 'when the alert started',
  },
  {
    field: 'endsAt',
    required: 'no',
    type: 'RFC 3339 time',
    becomes: 'lastSeen (resolved)',
    meaning: 'when it ended; Go zero time means unknown',
  },
  {
    field: 'fingerprint',
    required: 'no',
    type: 'string',
    becomes: 'requestId',
    meaning: 'with status and startsAt: a repeat of the same notification is a duplicate',
  },
  {
    field: 'labels.alertname',
    required: 'no',
    type: 'string',
    becomes: 'event',
    meaning: 'the alert rule name',
  },
  {
    field: 'annotations.summary',
    required: 'no',
    type: 'string',
    becomes: 'summary',
    meaning: 'one line shown in Slack (else `annotations.description`)',
  },
  {
    field: 'other labels and annotations, generatorURL',
    required: 'no',
    type: 'strings',
    becomes: 'extra',
    meaning: 'kept for forensics as `label.<name>`, `annotation.<name>`',
  },
];

/** The Falcosidekick fields used (Falco's `output_fields` and the envelope). */
export const FALCO_FIELDS: readonly FieldRow[] = [
  {
    field: 'output_fields.k8s.ns.name',
    required: 'yes',
    type: 'namespace name',
    becomes: 'source.namespace',
    meaning: 'the pod namespace',
  },
  {
    field: 'output_fields.k8s.pod.name',
    required: 'yes',
    type: 'pod name',
    becomes: 'source.pod, source.service',
    meaning: 'the pod; its workload is asked of the cluster, else read from the pod name',
  },
  {
    field: 'output_fields.fd.rip',
    required: 'yes',
    type: 'IP address',
    becomes: 'destination.name',
    meaning: 'the remote address (else `fd.sip`, else from `fd.name`)',
  },
  {
    field: 'output_fields.fd.rport',
    required: 'yes',
    type: 'port',
    becomes: 'destination.port',
    meaning: 'the remote port (else `fd.sport`, else from `fd.name`)',
  },
  {
    field: 'output_fields.fd.l4proto',
    required: 'no',
    type: 'string',
    becomes: 'destination.protocol',
    meaning: 'default tcp',
  },
  {
    field: 'time',
    required: 'no',
    type: 'RFC 3339 time',
    becomes: 'firstSeen, lastSeen',
    meaning: 'when Falco saw it (default: when received)',
  },
  { field: 'rule', required: 'no', type: 'string', becomes: 'event', meaning: 'the Falco rule name' },
  {
    field: 'uuid',
    required: 'no',
    type: 'string',
    becomes: 'requestId',
    meaning: 'Falcosidekick event id: a retry of the same event is a duplicate',
  },
  { field: 'output', required: 'no', type: 'string', becomes: 'summary', meaning: 'the Falco output line' },
  {
    field: 'priority, hostname, source, tags, other output_fields',
    required: 'no',
    type: 'strings',
    becomes: 'extra',
    meaning: 'kept for forensics',
  },
];

const table = (rows: readonly FieldRow[]) => [
  '| field | required | type | becomes | meaning |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| \`${r.field}\` | ${r.required} | ${r.type} | \`${r.becomes}\` | ${r.meaning} |`),
];

/** docs/alert-fields.md, exactly. */
export function renderFieldReference(): string {
  return [
    '# Alert fields',
    '',
    '<!-- Written by `node scripts/alert-fields.mjs` from src/intake/field-reference.ts; a test fails when it and the parsers disagree. Do not edit by hand. -->',
    '',
    '`POST /alerts` takes three formats, detected from the body (see [intake.md](intake.md)). Each becomes the same alert: the `becomes` column names its field.',
    '',
    '## Egress event (our own schema)',
    '',
    'One JSON object, a JSON array of them, or NDJSON. Any other key is kept in `extra`.',
    '',
    ...table(EGRESS_EVENT_FIELDS),
    '',
    '## Alertmanager webhook',
    '',
    'Each alert of the group carries the egress fields as labels. By default a label has the field name; `intake.alertmanagerLabels` in the config maps any field to another label name (for example `src_service: app`). The fields and rules are those of the egress event above.',
    '',
    '| egress field | default label |',
    '|---|---|',
    ...ALERTMANAGER_LABELS.map((f) => `| \`${f}\` | \`${f}\` |`),
    '',
    'Also read from each alert:',
    '',
    ...table(ALERTMANAGER_OTHER),
    '',
    '## Falcosidekick webhook',
    '',
    'One Falco event (or an array). The destination is always an IP address (`dst_type: ip`).',
    '',
    ...table(FALCO_FIELDS),
    '',
  ].join('\n');
}
