// The egress field set (format 1) read from any field source: an egress event's own keys, or an
// Alertmanager alert's labels through the label mapping. One set of rules, one set of messages.
import type { AlertDestination, AlertSource } from '../domain/alert.js';
import type { FieldIssue } from '../domain/errors.js';
import {
  checkDestinationType,
  checkName,
  checkNamespace,
  checkPort,
  checkServiceName,
} from './field-checks.js';
import { show } from './untrusted-values.js';

/** Fields that identify the flow; Alertmanager labels carry the same names by default. */
export const EGRESS_FIELDS = [
  'src_service',
  'src_namespace',
  'src_identity',
  'dst_type',
  'dst_name',
  'dst_namespace',
  'dst_port',
  'protocol',
  'decision',
  'policy_id',
  'trace_id',
  'request_id',
] as const;
export type EgressField = (typeof EGRESS_FIELDS)[number];

/** Where the fields come from, and how to name each in an error. */
export interface FieldSource {
  get(field: EgressField): unknown;
  path(field: EgressField): string;
}

export interface CoreFields {
  source: AlertSource;
  destination: AlertDestination;
  decision?: string;
  policyId?: string;
  traceId?: string;
  requestId?: string;
}

const WHAT: Record<EgressField, string> = {
  src_service: 'the source service name',
  src_namespace: 'the source namespace',
  src_identity: 'the source workload identity',
  dst_type: 'the destination type',
  dst_name: 'the destination name',
  dst_namespace: 'the destination namespace',
  dst_port: 'the destination port',
  protocol: 'the protocol, e.g. tcp or https',
  decision: 'the policy decision',
  policy_id: 'the policy id',
  trace_id: 'the trace id',
  request_id: 'the request id',
};

/** Validate every field (all issues, not the first), then assemble; undefined when any failed. */
export function readCoreFields(src: FieldSource, issues: FieldIssue[]): CoreFields | undefined {
  const before = issues.length;
  const name = (f: EgressField, required: boolean) =>
    checkName(src.get(f), src.path(f), WHAT[f], issues, { required });
  const namespaceOf = (f: 'src_namespace' | 'dst_namespace', required: boolean) =>
    checkNamespace(src.get(f), src.path(f), WHAT[f], issues, { required });

  const service = checkServiceName(
    src.get('src_service'),
    src.path('src_service'),
    WHAT.src_service,
    issues,
    {
      required: true,
    },
  );
  const namespace = namespaceOf('src_namespace', true);
  const identity = name('src_identity', false);
  const type = checkDestinationType(src.get('dst_type'), src.path('dst_type'), issues);
  const dstName = name('dst_name', true);
  let dstNamespace: string | undefined;
  if (type === 'service') {
    const raw = src.get('dst_namespace');
    if (raw === undefined || raw === null || raw === '') {
      issues.push({
        path: src.path('dst_namespace'),
        message: 'is required when dst_type is service (the destination namespace)',
        ...(raw === undefined ? {} : { value: show(raw) }),
      });
    } else {
      dstNamespace = namespaceOf('dst_namespace', true);
    }
  } else {
    dstNamespace = namespaceOf('dst_namespace', false);
  }
  const port = checkPort(src.get('dst_port'), src.path('dst_port'), issues);
  const protocol = name('protocol', true)?.toLowerCase();
  const decision = name('decision', false);
  const policyId = name('policy_id', false);
  const traceId = name('trace_id', false);
  const requestId = name('request_id', false);

  if (issues.length > before) return undefined;
  // All required values are present once no issue was added.
  const source: AlertSource = { service: service!, namespace: namespace!, ...(identity ? { identity } : {}) };
  const destination: AlertDestination = {
    type: type!,
    name: dstName!,
    ...(dstNamespace ? { namespace: dstNamespace } : {}),
    port: port!,
    protocol: protocol!,
  };
  return {
    source,
    destination,
    ...(decision ? { decision } : {}),
    ...(policyId ? { policyId } : {}),
    ...(traceId ? { traceId } : {}),
    ...(requestId ? { requestId } : {}),
  };
}
