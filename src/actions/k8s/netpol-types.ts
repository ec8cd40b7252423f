import { z } from 'zod';
import { kubeObject, StringMap } from './kube-schema.js';

// networking.k8s.io/v1 NetworkPolicy and the little we need of a Pod, as zod schemas over the API's
// JSON (null ≡ absent, see kube-schema.ts). Defined here rather than taken from
// @kubernetes/client-node so the containment analysis stays pure and importable from core folders
// (only src/k8s/ may import the client). Objects read from the cluster go through
// `NetworkPolicySchema`; policies built here (previews, fixtures) are typed by it.

export const SelectorOperator = z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']);
export type SelectorOperator = z.output<typeof SelectorOperator>;

export const LabelSelectorRequirementSchema = kubeObject({
  key: z.string(),
  operator: SelectorOperator,
  values: z.array(z.string()).optional(),
});
export type LabelSelectorRequirement = z.output<typeof LabelSelectorRequirementSchema>;

/** A Kubernetes label selector: all of `matchLabels` and all of `matchExpressions` must hold; `{}` selects all. */
export const LabelSelectorSchema = kubeObject({
  matchLabels: StringMap.optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).optional(),
});
export type LabelSelector = z.output<typeof LabelSelectorSchema>;

export const IPBlockSchema = kubeObject({
  cidr: z.string(),
  except: z.array(z.string()).optional(),
});
export type IPBlock = z.output<typeof IPBlockSchema>;

/** One of the three kinds of peer; the API server rejects an ipBlock combined with selectors. */
export const PeerSchema = kubeObject({
  podSelector: LabelSelectorSchema.optional(),
  namespaceSelector: LabelSelectorSchema.optional(),
  ipBlock: IPBlockSchema.optional(),
});
export type Peer = z.output<typeof PeerSchema>;

export const PortProtocol = z.enum(['TCP', 'UDP', 'SCTP']);
export type PortProtocol = z.output<typeof PortProtocol>;

export const NetworkPolicyPortSchema = kubeObject({
  /** Defaults to TCP. */
  protocol: PortProtocol.optional(),
  /** A number, or a named container port (`https`). Absent = every port of the protocol. */
  port: z.union([z.number().int(), z.string()]).optional(),
  /** Makes `port`..`endPort` a range; only valid with a numeric port. */
  endPort: z.number().int().optional(),
});
export type NetworkPolicyPort = z.output<typeof NetworkPolicyPortSchema>;

/** Absent or empty `to` = any destination; absent or empty `ports` = every port. */
export const EgressRuleSchema = kubeObject({
  to: z.array(PeerSchema).optional(),
  ports: z.array(NetworkPolicyPortSchema).optional(),
});
export type EgressRule = z.output<typeof EgressRuleSchema>;

export const IngressRuleSchema = kubeObject({
  from: z.array(PeerSchema).optional(),
  ports: z.array(NetworkPolicyPortSchema).optional(),
});
export type IngressRule = z.output<typeof IngressRuleSchema>;

export const PolicyType = z.enum(['Ingress', 'Egress']);
export type PolicyType = z.output<typeof PolicyType>;

export const NetworkPolicySpecSchema = kubeObject({
  /** Absent is read as `{}`: every pod in the policy's namespace. */
  podSelector: LabelSelectorSchema.optional(),
  /** Absent or empty: Ingress, plus Egress when `egress` has a rule (see appliesToEgress). */
  policyTypes: z.array(PolicyType).optional(),
  ingress: z.array(IngressRuleSchema).optional(),
  /** Absent or empty with Egress in policyTypes: nothing is allowed out. */
  egress: z.array(EgressRuleSchema).optional(),
});
export type NetworkPolicySpec = z.output<typeof NetworkPolicySpecSchema>;

export const NetworkPolicyMetadataSchema = kubeObject({
  name: z.string(),
  namespace: z.string(),
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
  resourceVersion: z.string().optional(),
});
export type NetworkPolicyMetadata = z.output<typeof NetworkPolicyMetadataSchema>;

export const NetworkPolicySchema = kubeObject({
  /** `networking.k8s.io/v1`; list items from the API server carry neither field. */
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: NetworkPolicyMetadataSchema,
  /** Absent: `{}` (selects every pod, Ingress only). */
  spec: NetworkPolicySpecSchema.default({}),
});
export type NetworkPolicy = z.output<typeof NetworkPolicySchema>;

export interface PodInfo {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}
