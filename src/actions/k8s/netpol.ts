import { renderPeers, renderPorts } from './netpol-render.js';
import { selectorMatches } from './netpol-selector.js';
import type { NetworkPolicy, PodInfo } from './netpol-types.js';

// Is egress really blocked? NetworkPolicies are additive: a pod is egress-isolated as soon as one
// policy selecting it applies to Egress, and from then on it may reach the UNION of the egress
// rules of every such policy. So a deny-all next to an allow-policy contains nothing the allow-
// policy lets out. Pure: no I/O; callers list pods and policies and re-run this after a remedy.

export {
  canonicalJson,
  canonicalSpecSha256,
  type DenyAllEgressOptions,
  denyAllEgressPolicy,
  isolatePatch,
  MANAGED_BY_LABEL,
  MANAGER,
  withIsolatePatch,
} from './netpol-remedies.js';
export { renderPeer, renderPort } from './netpol-render.js';
export { renderSelector, selectorMatches } from './netpol-selector.js';
export type {
  EgressRule,
  IngressRule,
  IPBlock,
  LabelSelector,
  LabelSelectorRequirement,
  NetworkPolicy,
  NetworkPolicyMetadata,
  NetworkPolicyPort,
  NetworkPolicySpec,
  Peer,
  PodInfo,
  PolicyType,
  PortProtocol,
  SelectorOperator,
} from './netpol-types.js';

export type EgressVerdict = 'contained' | 'incomplete' | 'unrestricted';

// Type aliases, not interfaces: they get an implicit index signature, so an analysis can go into a
// Plan's or Outcome's `data: Json` as it is.

/** One egress rule that still lets a pod out. */
export type EgressLeak = {
  policy: string;
  /** Index in the policy's `spec.egress`. */
  rule: number;
  ports: string[];
  peers: string[];
};

export type PodEgress = {
  verdict: EgressVerdict;
  leaks: EgressLeak[];
};

export type EgressAnalysis = {
  /** The worst over the pods; `incomplete` when there are no pods (nothing was shown to be contained). */
  verdict: EgressVerdict;
  /** Every leak over all pods, once each, in policy then rule order. */
  leaks: EgressLeak[];
  /** Egress policies selecting at least one pod, in input order. */
  isolatedBy: string[];
  /** Keyed by pod name, or `namespace/name` when the pods span namespaces. */
  perPod: Record<string, PodEgress>;
};

export interface AnalyzeOptions {
  /** Labels of the cluster's namespaces, by name: lets namespaceSelector peers be recognised. */
  namespaceLabels?: Record<string, Record<string, string>>;
}

const VERDICT_RANK: Record<EgressVerdict, number> = { contained: 0, incomplete: 1, unrestricted: 2 };
const PREFIX = 'Verification:';
const DASH = '—';
/** Pods named in an `unrestricted` line before the rest are counted. */
const NAMED_PODS = 5;

/** Same namespace, and the podSelector (absent = `{}` = every pod) matches the pod's labels. */
export function policiesSelecting(policies: readonly NetworkPolicy[], pod: PodInfo): NetworkPolicy[] {
  return policies.filter(
    (p) => p.metadata.namespace === pod.namespace && selectorMatches(p.spec.podSelector, pod.labels),
  );
}

/**
 * Whether the policy isolates its pods for egress. The API server defaults an absent or empty
 * policyTypes to Ingress, plus Egress when `spec.egress` has at least one rule; objects read back
 * are already defaulted, this covers policies built locally (previews, fixtures).
 */
export function appliesToEgress(p: NetworkPolicy): boolean {
  const types = p.spec.policyTypes ?? [];
  return types.length > 0 ? types.includes('Egress') : (p.spec.egress?.length ?? 0) > 0;
}

export function analyzeEgress(
  pods: readonly PodInfo[],
  policies: readonly NetworkPolicy[],
  opts: AnalyzeOptions = {},
): EgressAnalysis {
  const qualify = new Set(pods.map((pod) => pod.namespace)).size > 1;
  const label = (p: NetworkPolicy): string =>
    qualify ? `${p.metadata.namespace}/${p.metadata.name}` : p.metadata.name;
  const egressPolicies = policies.filter(appliesToEgress);

  const perPod: Record<string, PodEgress> = {};
  const leaks = new Map<string, EgressLeak>();
  const isolatedBy = new Set<string>();
  let verdict: EgressVerdict = pods.length === 0 ? 'incomplete' : 'contained';

  for (const pod of pods) {
    const selecting = policiesSelecting(egressPolicies, pod);
    const podLeaks = selecting.flatMap((p) => leaksOf(p, label(p), opts));
    const podVerdict = verdictFor(selecting.length > 0, podLeaks.length);
    perPod[qualify ? `${pod.namespace}/${pod.name}` : pod.name] = { verdict: podVerdict, leaks: podLeaks };
    for (const p of selecting) isolatedBy.add(label(p));
    for (const leak of podLeaks) leaks.set(`${leak.policy}#${leak.rule}`, leak);
    if (VERDICT_RANK[podVerdict] > VERDICT_RANK[verdict]) verdict = podVerdict;
  }

  // Back to input order: pods selected by different policies may have met them in another order.
  const order = egressPolicies.map(label);
  const sortedLeaks = [...leaks.values()].sort(
    (a, b) => order.indexOf(a.policy) - order.indexOf(b.policy) || a.rule - b.rule,
  );
  return { verdict, leaks: sortedLeaks, isolatedBy: order.filter((name) => isolatedBy.has(name)), perPod };
}

function verdictFor(isolated: boolean, leakCount: number): EgressVerdict {
  if (!isolated) return 'unrestricted';
  return leakCount === 0 ? 'contained' : 'incomplete';
}

/** Every egress rule of an isolating policy is a way out: `{}` (no to, no ports) is all of them. */
function leaksOf(policy: NetworkPolicy, name: string, opts: AnalyzeOptions): EgressLeak[] {
  const scope = { namespace: policy.metadata.namespace, namespaceLabels: opts.namespaceLabels };
  return (policy.spec.egress ?? []).map((rule, index) => ({
    policy: name,
    rule: index,
    ports: renderPorts(rule.ports),
    peers: renderPeers(rule.to, scope),
  }));
}

/**
 * The one line for the thread and the timeline. Starts with `Verification: contained` only when
 * every pod is isolated and nothing is allowed out; anything else reads `Verification: incomplete`.
 */
export function verificationLine(a: EgressAnalysis): string {
  const pods = Object.entries(a.perPod);
  if (pods.length === 0) return `${PREFIX} incomplete ${DASH} no pods matched`;
  if (a.verdict === 'contained') return containedLine(pods.length, a.isolatedBy);
  const open = pods.filter(([, pod]) => pod.verdict === 'unrestricted').map(([name]) => name);
  const parts = [...(open.length > 0 ? [unrestrictedPart(open)] : []), ...leakParts(a.leaks)];
  return parts.length > 0 ? `${PREFIX} incomplete ${DASH} ${parts.join('; ')}` : `${PREFIX} incomplete`;
}

function containedLine(podCount: number, isolatedBy: readonly string[]): string {
  return `${PREFIX} contained ${DASH} ${podCount} ${podCount === 1 ? 'pod' : 'pods'} isolated by ${isolatedBy.join(', ')}`;
}

function unrestrictedPart(pods: readonly string[]): string {
  const named = pods.slice(0, NAMED_PODS).join(', ');
  const rest = pods.length > NAMED_PODS ? ` and ${pods.length - NAMED_PODS} more` : '';
  return `no egress NetworkPolicy selects ${named}${rest}: all egress is allowed`;
}

/** `<policy> still allows <ports> to <peers>; <ports> to <peers>`, one part per policy. */
function leakParts(leaks: readonly EgressLeak[]): string[] {
  const byPolicy = new Map<string, string[]>();
  for (const leak of leaks) {
    const rules = byPolicy.get(leak.policy) ?? [];
    rules.push(`${leak.ports.join(', ')} to ${leak.peers.join(', ')}`);
    byPolicy.set(leak.policy, rules);
  }
  return [...byPolicy].map(([policy, rules]) => `${policy} still allows ${rules.join('; ')}`);
}
