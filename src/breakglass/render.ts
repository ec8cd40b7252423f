import { stringify } from 'yaml';
import { MANAGED_BY_LABEL, MANAGER } from '../actions/k8s/netpol.js';
import { CodedError } from '../domain/errors.js';
import {
  type AccessElevationSpec,
  type EgressExceptionSpec,
  GRANT_ANNOTATIONS,
  GRANT_LABEL,
  type GrantPort,
  type GrantSpec,
  KYVERNO_TTL_LABEL,
  kyvernoTtlValue,
  type ObjectRefRecord,
} from '../domain/grant.js';
import type { KubeObject, NetworkPolicyEgressRule } from '../k8s/types.js';

// A grant as Kubernetes objects, pure: the same input always renders the same objects, so what the
// requester previewed, what the approvers saw and what is applied are one thing. Every object carries
// the grant's label (the reconciler finds it cluster-wide by that label) and its absolute expiry, so
// the cluster alone says when it must be gone.

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
export const NETPOL_API = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' } as const;
export const CNP_API = { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy' } as const;
export const ROLEBINDING_API = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' } as const;

export interface RenderInput {
  id: string;
  incidentId: string;
  spec: GrantSpec;
  /** Egress: the source pods' labels (resolved at request: see validate.ts). */
  sourceSelector?: Record<string, string> | undefined;
  requester: string;
  approvers: readonly string[];
  reason: string;
  ticket?: string | undefined;
  durationMs: number;
  /** Epoch ms; absent before approval (the expiry is the approval time plus the duration). */
  expiresAt?: number | undefined;
}

export interface RenderOptions {
  kyvernoCleanup: boolean;
  fqdnPolicy: 'none' | 'cilium';
}

export const objectName = (id: string): string => `breakglass-${id}`;

export function renderGrant(input: RenderInput, opts: RenderOptions): KubeObject[] {
  return input.spec.kind === 'egress-exception'
    ? [renderEgress(input, input.spec, opts)]
    : [renderRoleBinding(input, input.spec, opts)];
}

export function objectRefs(objects: readonly KubeObject[]): ObjectRefRecord[] {
  return objects.map((o) => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name ?? '',
  }));
}

export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

/** `1h`, `1h30m`, `45m`, `90s`: how long a grant lasts, for people. */
export function shortDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const out = `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 && h === 0 ? `${s}s` : ''}`;
  return out === '' ? `${ms}ms` : out;
}

export const formatLabels = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

const formatPorts = (ports: readonly GrantPort[]): string =>
  ports.map((p) => `${p.protocol}/${p.port}`).join(', ');

/** One line for the timeline and the thread: what the grant opens or binds, and where. */
export function describeSpec(spec: GrantSpec, sourceSelector?: Record<string, string>): string {
  if (spec.kind === 'access-elevation') {
    const who = spec.subjects.map((s) => `${s.kind} ${s.name}`).join(', ');
    return `access elevation in ${spec.namespace}: ClusterRole ${spec.clusterRole} for ${who}`;
  }
  const source =
    spec.source.kind === 'quarantined'
      ? `the quarantined pods (${formatLabels(sourceSelector ?? {})})`
      : formatLabels(spec.source.podSelector);
  return `egress exception in ${spec.namespace}: ${source} → ${describeDestination(spec)} on ${formatPorts(spec.ports)}`;
}

function describeDestination(spec: EgressExceptionSpec): string {
  const d = spec.destination;
  if (d.kind === 'cidr') return d.cidr;
  if (d.kind === 'fqdn') return d.fqdn;
  const pods = Object.keys(d.podSelector).length === 0 ? 'all pods' : formatLabels(d.podSelector);
  return `${pods} in ${d.namespace}`;
}

function metadata(input: RenderInput, namespace: string, opts: RenderOptions) {
  const labels: Record<string, string> = { [GRANT_LABEL]: input.id, [MANAGED_BY_LABEL]: MANAGER };
  // Kyverno's label is absolute, like the annotation: it is only written once the expiry is known.
  if (opts.kyvernoCleanup && input.expiresAt !== undefined)
    labels[KYVERNO_TTL_LABEL] = kyvernoTtlValue(input.expiresAt);
  const annotations: Record<string, string> = {
    [GRANT_ANNOTATIONS.id]: input.id,
    [GRANT_ANNOTATIONS.incident]: input.incidentId,
    [GRANT_ANNOTATIONS.requester]: input.requester,
    [GRANT_ANNOTATIONS.approvers]:
      input.approvers.length > 0 ? input.approvers.join(', ') : 'pending approval',
    [GRANT_ANNOTATIONS.reason]: input.reason,
    ...(input.ticket ? { [GRANT_ANNOTATIONS.ticket]: input.ticket } : {}),
    [GRANT_ANNOTATIONS.expiresAt]:
      input.expiresAt === undefined
        ? `approval time + ${shortDuration(input.durationMs)} (set at approval)`
        : new Date(input.expiresAt).toISOString(),
  };
  return { name: objectName(input.id), namespace, labels, annotations };
}

function sourceLabels(input: RenderInput): Record<string, string> {
  const selector = input.sourceSelector;
  if (!selector || Object.keys(selector).length === 0) {
    // An empty selector would select every pod of the namespace: never rendered.
    throw new CodedError('internal', `grant ${input.id} has no source selector`, { userSafe: false });
  }
  return { ...selector };
}

/** The one egress rule: exactly the destination peer and the ports. */
export function egressRule(spec: EgressExceptionSpec): NetworkPolicyEgressRule {
  const d = spec.destination;
  const ports = spec.ports.map((p) => ({ protocol: p.protocol, port: p.port }));
  if (d.kind === 'cidr') return { to: [{ ipBlock: { cidr: d.cidr } }], ports };
  if (d.kind === 'pods') {
    return {
      to: [
        {
          namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: d.namespace } },
          podSelector: Object.keys(d.podSelector).length > 0 ? { matchLabels: { ...d.podSelector } } : {},
        },
      ],
      ports,
    };
  }
  throw new CodedError('internal', 'an FQDN destination is not a NetworkPolicy peer', { userSafe: false });
}

function renderEgress(input: RenderInput, spec: EgressExceptionSpec, opts: RenderOptions): KubeObject {
  const meta = metadata(input, spec.namespace, opts);
  if (spec.destination.kind !== 'fqdn') {
    return {
      ...NETPOL_API,
      metadata: meta,
      spec: {
        podSelector: { matchLabels: sourceLabels(input) },
        policyTypes: ['Egress'],
        egress: [egressRule(spec)],
      },
    };
  }
  if (opts.fqdnPolicy !== 'cilium') {
    throw new CodedError(
      'request_refused',
      'FQDN destinations need a CNI that enforces FQDN policy: set breakglass.fqdnPolicy: cilium where Cilium runs, or give the destination as a CIDR',
    );
  }
  return { ...CNP_API, metadata: meta, spec: ciliumSpec(input, spec.destination.fqdn, spec.ports) };
}

/**
 * Cilium allows a name only once it has seen the pods resolve it through its DNS proxy, so the
 * policy also lets them ask kube-dns, for that one name only.
 */
function ciliumSpec(input: RenderInput, fqdn: string, ports: readonly GrantPort[]) {
  return {
    endpointSelector: { matchLabels: sourceLabels(input) },
    egress: [
      {
        toFQDNs: [{ matchName: fqdn }],
        toPorts: [{ ports: ports.map((p) => ({ port: String(p.port), protocol: p.protocol })) }],
      },
      {
        toEndpoints: [
          {
            matchLabels: {
              'k8s:io.kubernetes.pod.namespace': 'kube-system',
              'k8s:k8s-app': 'kube-dns',
            },
          },
        ],
        toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchName: fqdn }] } }],
      },
    ],
  };
}

function renderRoleBinding(input: RenderInput, spec: AccessElevationSpec, opts: RenderOptions): KubeObject {
  return {
    ...ROLEBINDING_API,
    metadata: metadata(input, spec.namespace, opts),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: spec.clusterRole },
    subjects: spec.subjects.map((s) => ({
      kind: s.kind,
      name: s.name,
      apiGroup: 'rbac.authorization.k8s.io',
    })),
  };
}
