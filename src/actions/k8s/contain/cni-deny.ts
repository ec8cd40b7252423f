import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Json, toJson } from '../../../domain/json.js';
import type { Cluster } from '../../../k8s/cluster.js';
import type { KubeObject, ObjectRef } from '../../../k8s/types.js';
import {
  analyzeEgress,
  canonicalJson,
  type LabelSelector,
  MANAGED_BY_LABEL,
  MANAGER,
  type NetworkPolicy,
  type PodInfo,
  selectorMatches,
  verificationLine,
} from '../netpol.js';
import { ANNOTATION_SPEC_SHA256 } from './common.js';
import { KubeObjectJson } from './kube-json.js';

// The `cni-deny` remedy of k8s.deny-egress: where the cluster serves it, an AdminNetworkPolicy
// (policy.networking.k8s.io/v1alpha1, cluster-scoped) with action Deny, else a CiliumNetworkPolicy
// (cilium.io/v2) with egressDeny. Both are evaluated before, and win over, every NetworkPolicy allow,
// so an allow-policy selecting the quarantined pods no longer lets them out. What to write and how
// to judge it; deny-egress.ts does the writing.

export const ANP_GROUP = 'policy.networking.k8s.io';
export const ANP_VERSION = 'v1alpha1';
export const ANP_RESOURCE = 'adminnetworkpolicies';
export const CILIUM_GROUP = 'cilium.io';
export const CILIUM_VERSION = 'v2';
export const CILIUM_RESOURCE = 'ciliumnetworkpolicies';
export const NO_CNI_DENY_REASON =
  'cni-deny: neither AdminNetworkPolicy nor CiliumNetworkPolicy is served; reporting only';
export const DEFAULT_ANP_PRIORITY = 10;

export type CniKind = 'AdminNetworkPolicy' | 'CiliumNetworkPolicy';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const ANP_RULE = 'deny-all-egress';
const ALL_NETWORKS = ['0.0.0.0/0', '::/0'];
const MAX_NAME = 63;
const PREFIX = 'Verification:';
const DASH = '—';
/** Pods named in a line before the rest are counted. */
const NAMED_PODS = 5;

/** What the apply recorded: exactly the object revert deletes. */
export const CniRecordJson = z.strictObject({
  kind: z.enum(['AdminNetworkPolicy', 'CiliumNetworkPolicy']),
  apiVersion: z.string(),
  /** Absent for the cluster-scoped AdminNetworkPolicy. */
  namespace: z.string().optional(),
  name: z.string(),
  /** False when it existed before this incident (revert keeps it). */
  created: z.boolean(),
  ok: z.boolean(),
  error: z.string().optional(),
  /** The object as sent: what a dry run's verification judges. */
  object: KubeObjectJson,
});
export type CniRecord = z.output<typeof CniRecordJson>;

/** AdminNetworkPolicy first (it is the Kubernetes API), else Cilium's; undefined when neither is served. */
export async function servedCniDeny(cluster: Cluster, signal?: AbortSignal): Promise<CniKind | undefined> {
  if (await cluster.serves(ANP_GROUP, ANP_VERSION, ANP_RESOURCE, { signal })) return 'AdminNetworkPolicy';
  if (await cluster.serves(CILIUM_GROUP, CILIUM_VERSION, CILIUM_RESOURCE, { signal }))
    return 'CiliumNetworkPolicy';
  return undefined;
}

/**
 * `quarantine-<namespace>-<incident id>`, lowercased to a DNS label (≤ 63 characters; a longer one
 * keeps a hash of the whole). Deterministic, so a resumed apply finds the object it made.
 */
export function anpName(namespace: string, incidentId: string): string {
  const full = `quarantine-${namespace}-${incidentId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (full.length <= MAX_NAME) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_NAME - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

export interface CniDenyOptions {
  namespace: string;
  incidentId: string;
  quarantineKey: string;
  quarantineValue: string;
  anpPriority: number;
  ciliumName: string;
  /** Audit annotations; the spec's sha256 is added here. */
  annotations: Record<string, string>;
}

export function buildCniDeny(kind: CniKind, o: CniDenyOptions): KubeObject {
  const pods = { matchLabels: { [o.quarantineKey]: o.quarantineValue } };
  const spec =
    kind === 'AdminNetworkPolicy'
      ? {
          priority: o.anpPriority,
          subject: {
            pods: {
              namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: o.namespace } },
              podSelector: pods,
            },
          },
          egress: [
            { name: ANP_RULE, action: 'Deny', to: [{ networks: [...ALL_NETWORKS] }, { namespaces: {} }] },
          ],
        }
      : { endpointSelector: pods, egressDeny: [{ toEntities: ['all'] }] };
  const annotations = {
    ...o.annotations,
    [ANNOTATION_SPEC_SHA256]: createHash('sha256').update(canonicalJson(spec)).digest('hex'),
  };
  const metadata =
    kind === 'AdminNetworkPolicy'
      ? { name: anpName(o.namespace, o.incidentId), labels: { [MANAGED_BY_LABEL]: MANAGER }, annotations }
      : { name: o.ciliumName, namespace: o.namespace, labels: { [MANAGED_BY_LABEL]: MANAGER }, annotations };
  return {
    apiVersion:
      kind === 'AdminNetworkPolicy' ? `${ANP_GROUP}/${ANP_VERSION}` : `${CILIUM_GROUP}/${CILIUM_VERSION}`,
    kind,
    metadata,
    spec,
  };
}

export function cniRef(obj: KubeObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    name: obj.metadata.name ?? '',
  };
}

// ---- judging an object read back (or, in a dry run, as sent)

type AnpPeer = { networks?: string[]; namespaces?: LabelSelector; pods?: unknown; nodes?: unknown };
type AnpRule = { name?: string; action?: string; to?: AnpPeer[]; ports?: unknown[] };
type AnpSubject = {
  namespaces?: LabelSelector;
  pods?: { namespaceSelector?: LabelSelector; podSelector?: LabelSelector };
};
type AnpSpec = { priority?: number; subject?: AnpSubject; egress?: AnpRule[] };
type CnpRule = { toEntities?: string[]; toPorts?: unknown[] };
type CnpSpec = { endpointSelector?: LabelSelector; egressDeny?: CnpRule[] };

const namespaceLabels = (namespace: string): Record<string, string> => ({
  [NAMESPACE_NAME_LABEL]: namespace,
});

/** Whether the subject selects the pod. Namespace labels other than its name are unknown: not counted. */
function anpSubjectSelects(subject: AnpSubject | undefined, pod: PodInfo): boolean {
  if (subject?.namespaces !== undefined)
    return selectorMatches(subject.namespaces, namespaceLabels(pod.namespace));
  if (subject?.pods === undefined) return false;
  return (
    selectorMatches(subject.pods.namespaceSelector ?? {}, namespaceLabels(pod.namespace)) &&
    selectorMatches(subject.pods.podSelector ?? {}, pod.labels)
  );
}

/** ANP rules are evaluated in order: the first must deny every port to every address. */
function anpDeniesAll(spec: AnpSpec): boolean {
  const first = spec.egress?.[0];
  if (first?.action !== 'Deny' || (first.ports?.length ?? 0) > 0) return false;
  const networks = (first.to ?? []).flatMap((peer) => peer.networks ?? []);
  return ALL_NETWORKS.every((cidr) => networks.includes(cidr));
}

/** Cilium deny rules win over every allow: one to entity `all` on every port is enough. */
function cnpDeniesAll(spec: CnpSpec): boolean {
  return (spec.egressDeny ?? []).some(
    (rule) => (rule.toEntities ?? []).includes('all') && (rule.toPorts?.length ?? 0) === 0,
  );
}

/** Whether the object denies all egress of the pod. */
export function cniDenyCovers(obj: KubeObject, pod: PodInfo): boolean {
  if (obj.kind === 'AdminNetworkPolicy') {
    const spec = (obj.spec ?? {}) as AnpSpec;
    return anpDeniesAll(spec) && anpSubjectSelects(spec.subject, pod);
  }
  const spec = (obj.spec ?? {}) as CnpSpec;
  return (
    obj.metadata.namespace === pod.namespace &&
    cnpDeniesAll(spec) &&
    selectorMatches(spec.endpointSelector ?? {}, pod.labels)
  );
}

/** Namespace selectors that say more than the name are judged "may select" (we do not read namespaces). */
function mayMatchNamespace(sel: LabelSelector | undefined, namespace: string): boolean {
  const keys = [
    ...Object.keys(sel?.matchLabels ?? {}),
    ...(sel?.matchExpressions ?? []).map((req) => req.key),
  ];
  if (keys.some((key) => key !== NAMESPACE_NAME_LABEL)) return true;
  return selectorMatches(sel ?? {}, namespaceLabels(namespace));
}

function anpMaySelect(subject: AnpSubject | undefined, pods: readonly PodInfo[]): boolean {
  return pods.some((pod) => {
    if (subject?.namespaces !== undefined) return mayMatchNamespace(subject.namespaces, pod.namespace);
    if (subject?.pods === undefined) return false;
    return (
      mayMatchNamespace(subject.pods.namespaceSelector, pod.namespace) &&
      selectorMatches(subject.pods.podSelector ?? {}, pod.labels)
    );
  });
}

export type PrecedingAnp = { name: string; priority: number; actions: string[] };

/**
 * Other AdminNetworkPolicies evaluated before ours (a lower priority number; an equal one is in no
 * defined order) with an Allow or Pass egress rule that may select the pods: those decide first, and
 * let traffic past our Deny.
 */
export function anpsBefore(
  all: readonly KubeObject[],
  ours: KubeObject,
  pods: readonly PodInfo[],
): PrecedingAnp[] {
  const priority = (ours.spec as AnpSpec).priority ?? 0;
  return all
    .filter((o) => o.metadata.name !== ours.metadata.name)
    .map((o) => ({ name: o.metadata.name ?? '', spec: (o.spec ?? {}) as AnpSpec }))
    .filter(({ spec }) => (spec.priority ?? 0) <= priority && anpMaySelect(spec.subject, pods))
    .map(({ name, spec }) => ({
      name,
      priority: spec.priority ?? 0,
      actions: [
        ...new Set(
          (spec.egress ?? []).map((r) => r.action ?? '').filter((a) => a === 'Allow' || a === 'Pass'),
        ),
      ],
    }))
    .filter((p) => p.actions.length > 0);
}

export type CniVerdict = { ok: boolean; line: string; data: Json };

/**
 * The verdict with a CNI deny in place: pods it covers are contained whatever NetworkPolicies allow
 * (those are named as overridden); any other pod is judged by the NetworkPolicies alone. `preceding`
 * is undefined for Cilium, or the error text when the AdminNetworkPolicies could not be listed.
 */
export function cniVerdict(
  obj: KubeObject,
  pods: readonly PodInfo[],
  policies: readonly NetworkPolicy[],
  preceding: PrecedingAnp[] | string | undefined,
): CniVerdict {
  const label = `${obj.kind} ${obj.metadata.name}`;
  const covered = pods.filter((p) => cniDenyCovers(obj, p));
  const rest = pods.filter((p) => !cniDenyCovers(obj, p));
  const base = {
    cni: { kind: obj.kind, name: obj.metadata.name ?? '', covered: covered.map((p) => p.name) },
  };
  if (covered.length === 0) {
    const analysis = analyzeEgress(pods, policies);
    const line = verificationLine(analysis);
    const note = pods.length > 0 ? ` (${label} selects none of the pods)` : '';
    return {
      ok: analysis.verdict === 'contained',
      line: `${line}${note}`,
      data: { ...base, ...toData(analysis) },
    };
  }
  if (typeof preceding === 'string') {
    return {
      ok: false,
      line: `${PREFIX} incomplete ${DASH} could not check for AdminNetworkPolicies evaluated before ${obj.metadata.name}: ${preceding}`,
      data: base,
    };
  }
  if (preceding !== undefined && preceding.length > 0) {
    const ours = (obj.spec as AnpSpec).priority ?? 0;
    const parts = preceding.map(
      (p) => `AdminNetworkPolicy ${p.name} (priority ${p.priority}) may ${p.actions.join('/')} egress first`,
    );
    return {
      ok: false,
      line: `${PREFIX} incomplete ${DASH} ${parts.join('; ')}, before ${label} (priority ${ours}) denies it`,
      data: { ...base, preceding: toJson(preceding) },
    };
  }
  const overridden = [...new Set(analyzeEgress(covered, policies).leaks.map((l) => l.policy))];
  const head = `${label} denies all egress of ${covered.length} pod(s)${overridden.length > 0 ? ` (NetworkPolicies that still allow egress are overridden: ${overridden.join(', ')})` : ''}`;
  if (rest.length === 0) {
    return { ok: true, line: `${PREFIX} contained ${DASH} ${head}`, data: { ...base, overridden } };
  }
  // Pods the deny does not select (quarantine could not label them): the NetworkPolicies decide.
  const analysis = analyzeEgress(rest, policies);
  const restLine = verificationLine(analysis).replace(/^Verification: (contained|incomplete)( — )?/, '');
  if (analysis.verdict === 'contained') {
    return {
      ok: true,
      line: `${PREFIX} contained ${DASH} ${head}; ${restLine}`,
      data: { ...base, overridden, ...toData(analysis) },
    };
  }
  const names = rest.slice(0, NAMED_PODS).map((p) => p.name);
  const more = rest.length > NAMED_PODS ? ` and ${rest.length - NAMED_PODS} more` : '';
  return {
    ok: false,
    line: `${PREFIX} incomplete ${DASH} ${label} does not select ${names.join(', ')}${more}: ${restLine}; ${head}`,
    data: { ...base, overridden, ...toData(analysis) },
  };
}

function toData(analysis: ReturnType<typeof analyzeEgress>): { [key: string]: Json } {
  const json = toJson(analysis);
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {};
}
