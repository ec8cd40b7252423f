import { analyzeEgress, type NetworkPolicy, type PodInfo, renderPeer, renderPort } from '../netpol.js';
import type { EgressComparison } from './schema.js';

// The semantic half of an attestation: what the live NetworkPolicies let the service's pods reach
// against what the contract's rendered policy does, both through the analysis containment verifies
// with (policies are additive: the union of every rule of every egress policy selecting a pod).
// Compared as "port to peer" pairs, so a live rule wider than the contract's shows up as what it
// adds (`all ports to …`), and a missing rule as what is no longer enforced.

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * A pod-selector-only peer means "in the policy's namespace": written out as that namespace, the
 * same traffic reads the same whichever way a policy spells it.
 */
function withExplicitNamespaces(policy: NetworkPolicy): NetworkPolicy {
  const ns = policy.metadata.namespace;
  const egress = policy.spec.egress?.map((rule) => ({
    ...rule,
    ...(rule.to === undefined
      ? {}
      : {
          to: rule.to.map((peer) =>
            peer.podSelector !== undefined &&
            peer.namespaceSelector === undefined &&
            peer.ipBlock === undefined
              ? { ...peer, namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: ns } } }
              : peer,
          ),
        }),
  }));
  return { ...policy, spec: { ...policy.spec, ...(egress === undefined ? {} : { egress }) } };
}

/** `pair → the policies that allow it`, over every pod. */
function allowed(pods: readonly PodInfo[], policies: readonly NetworkPolicy[]): Map<string, Set<string>> {
  const normalised = policies.map(withExplicitNamespaces);
  const byName = new Map(normalised.map((p) => [p.metadata.name, p]));
  const analysis = analyzeEgress(pods, normalised);
  const out = new Map<string, Set<string>>();
  const add = (pair: string, policy: string) => out.set(pair, (out.get(pair) ?? new Set()).add(policy));
  for (const [pod, egress] of Object.entries(analysis.perPod)) {
    if (egress.verdict === 'unrestricted')
      add('all ports to anywhere', `no egress NetworkPolicy selects ${pod}`);
  }
  for (const leak of analysis.leaks) {
    const rule = byName.get(leak.policy)?.spec.egress?.[leak.rule];
    const scope = { namespace: byName.get(leak.policy)?.metadata.namespace ?? '' };
    const ports = rule?.ports?.length ? rule.ports.map(renderPort) : leak.ports;
    const peers = rule?.to?.length ? rule.to.map((peer) => renderPeer(peer, scope)) : leak.peers;
    for (const port of ports) for (const peer of peers) add(`${port} to ${peer}`, leak.policy);
  }
  return out;
}

export function compareEgress(
  pods: readonly PodInfo[],
  live: readonly NetworkPolicy[],
  rendered: readonly NetworkPolicy[],
): EgressComparison {
  const have = allowed(pods, live);
  const want = allowed(pods, rendered);
  const beyond = [...have]
    .filter(([pair]) => !want.has(pair))
    .map(([pair, policies]) => `${pair} (${[...policies].join(', ')})`)
    .sort();
  const notEnforced = [...want.keys()].filter((pair) => !have.has(pair)).sort();
  return { pods: pods.map((p) => `${p.namespace}/${p.name}`), beyond, notEnforced };
}
