import { isEmptySelector, renderSelector, selectorMatches, selectorPins } from './netpol-selector.js';
import type { IPBlock, LabelSelector, NetworkPolicyPort, Peer } from './netpol-types.js';

// Text for the ports and peers of an egress rule, as they appear in the `Verification:` line.

export const ALL_PORTS = 'all ports';
export const ANYWHERE = 'anywhere';
export const KUBE_DNS = 'kube-dns';

const KUBE_SYSTEM = 'kube-system';
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const KUBE_DNS_LABEL = { key: 'k8s-app', value: 'kube-dns' } as const;

/** Where a rule's peers are read: the policy's namespace and, when known, every namespace's labels. */
export interface PeerScope {
  namespace: string;
  namespaceLabels?: Readonly<Record<string, Readonly<Record<string, string>>>> | undefined;
}

/** `UDP/53`, `TCP/8000-8080`, `TCP/https` (a named port), `all SCTP ports` (protocol without port). */
export function renderPort(p: NetworkPolicyPort): string {
  const protocol = p.protocol ?? 'TCP';
  if (p.port === undefined) return `all ${protocol} ports`;
  // endPort only means something after a numeric port; the API server rejects it otherwise.
  const isRange = typeof p.port === 'number' && p.endPort !== undefined && p.endPort !== p.port;
  return `${protocol}/${isRange ? `${p.port}-${p.endPort}` : String(p.port)}`;
}

/** An absent or empty port list lets every port through. */
export function renderPorts(ports: readonly NetworkPolicyPort[] | undefined): string[] {
  return ports !== undefined && ports.length > 0 ? ports.map(renderPort) : [ALL_PORTS];
}

/** An absent or empty peer list lets every destination through. */
export function renderPeers(to: readonly Peer[] | undefined, scope: PeerScope): string[] {
  return to !== undefined && to.length > 0 ? to.map((peer) => renderPeer(peer, scope)) : [ANYWHERE];
}

export function renderPeer(peer: Peer, scope: PeerScope): string {
  if (peer.ipBlock !== undefined) return renderIpBlock(peer.ipBlock);
  if (isKubeDns(peer, scope)) return KUBE_DNS;
  if (peer.namespaceSelector !== undefined)
    return renderNamespacedPeer(peer.namespaceSelector, peer.podSelector);
  if (peer.podSelector !== undefined) return renderPodsHere(peer.podSelector, scope.namespace);
  // The API server rejects a peer with no field; should one reach us, read it as widely as possible.
  return ANYWHERE;
}

function renderIpBlock(block: IPBlock): string {
  const except = block.except ?? [];
  return except.length > 0 ? `${block.cidr} except ${except.join(', ')}` : block.cidr;
}

function renderPodsHere(podSelector: LabelSelector, namespace: string): string {
  return isEmptySelector(podSelector) ? `all pods in ${namespace}` : renderSelector(podSelector);
}

/** `ns kube-system: k8s-app=kube-dns`, `ns team=payments: all pods`, `ns any: app=x`. */
function renderNamespacedPeer(
  namespaceSelector: LabelSelector,
  podSelector: LabelSelector | undefined,
): string {
  const anyNamespace = isEmptySelector(namespaceSelector);
  const anyPod = isEmptySelector(podSelector);
  if (anyNamespace && anyPod) return 'all pods in all namespaces';
  const ns = anyNamespace ? 'any' : renderNamespaceSelector(namespaceSelector);
  return `ns ${ns}: ${anyPod ? 'all pods' : renderSelector(podSelector)}`;
}

/** A selector that is exactly `kubernetes.io/metadata.name=<ns>` reads as the namespace's name. */
function renderNamespaceSelector(sel: LabelSelector): string {
  const pairs = Object.entries(sel.matchLabels ?? {});
  const only = pairs.length === 1 && (sel.matchExpressions ?? []).length === 0 ? pairs[0] : undefined;
  return only !== undefined && only[0] === NAMESPACE_NAME_LABEL ? only[1] : renderSelector(sel);
}

/**
 * The well-known DNS peer gets its short name only when the peer can reach nothing wider than
 * kube-dns: its podSelector pins k8s-app=kube-dns and its namespace scope is kube-system alone.
 * A bare `namespaceSelector: kube-system` (all of kube-system) or `k8s-app=kube-dns` in any
 * namespace is wider, and the line must not make a leak look smaller than it is.
 */
function isKubeDns(peer: Peer, scope: PeerScope): boolean {
  if (peer.podSelector === undefined || peer.ipBlock !== undefined) return false;
  if (!selectorPins(peer.podSelector, KUBE_DNS_LABEL.key, KUBE_DNS_LABEL.value)) return false;
  return scopedToKubeSystem(peer.namespaceSelector, scope);
}

function scopedToKubeSystem(namespaceSelector: LabelSelector | undefined, scope: PeerScope): boolean {
  // No namespaceSelector: the peer's pods are in the policy's own namespace.
  if (namespaceSelector === undefined) return scope.namespace === KUBE_SYSTEM;
  if (selectorPins(namespaceSelector, NAMESPACE_NAME_LABEL, KUBE_SYSTEM)) return true;
  // Other labels (a legacy `name: kube-system`, say) can be judged only against the namespaces we know.
  if (scope.namespaceLabels === undefined || isEmptySelector(namespaceSelector)) return false;
  const matched = Object.entries(scope.namespaceLabels)
    .filter(([, labels]) => selectorMatches(namespaceSelector, labels))
    .map(([name]) => name);
  return matched.length === 1 && matched[0] === KUBE_SYSTEM;
}
