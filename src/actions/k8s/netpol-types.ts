// Plain JSON shapes of networking.k8s.io/v1 NetworkPolicy and the little we need of a Pod. Defined
// here rather than taken from @kubernetes/client-node so the containment analysis stays pure and
// importable from core folders (only src/k8s/ may import the client).

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

/** A Kubernetes label selector: all of `matchLabels` and all of `matchExpressions` must hold. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface IPBlock {
  cidr: string;
  except?: string[];
}

/** One of the three kinds of peer; the API server rejects an ipBlock combined with selectors. */
export interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface NetworkPolicyPort {
  /** Defaults to TCP. */
  protocol?: PortProtocol;
  /** A number, or a named container port (`https`). Absent = every port of the protocol. */
  port?: number | string;
  /** Makes `port`..`endPort` a range; only valid with a numeric port. */
  endPort?: number;
}

/** Absent or empty `to` = any destination; absent or empty `ports` = every port. */
export interface EgressRule {
  to?: Peer[];
  ports?: NetworkPolicyPort[];
}

export interface IngressRule {
  from?: Peer[];
  ports?: NetworkPolicyPort[];
}

export type PolicyType = 'Ingress' | 'Egress';

export interface NetworkPolicySpec {
  /** Absent is read as `{}`: every pod in the policy's namespace. */
  podSelector?: LabelSelector;
  policyTypes?: PolicyType[];
  ingress?: IngressRule[];
  egress?: EgressRule[];
}

export interface NetworkPolicyMetadata {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
}

export interface NetworkPolicy {
  /** `networking.k8s.io/v1`; list items from the API server carry neither field. */
  apiVersion?: string;
  kind?: string;
  metadata: NetworkPolicyMetadata;
  spec: NetworkPolicySpec;
}

export interface PodInfo {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}
