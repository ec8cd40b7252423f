import { z } from 'zod';

// How contracts become Kubernetes objects. One schema for `contracts render`, `attest` and the
// triage check, so all three render the same thing from the same contract.

export const RenderOptions = z.strictObject({
  /** The pod label that names a service (`app: payments-api`). */
  appLabel: z.string().min(1).default('app'),
  /** `cilium`: FQDN rules become a CiliumNetworkPolicy with toFQDNs; `cidrs`: the rule's `cidrs` in the NetworkPolicy. */
  fqdn: z.enum(['cilium', 'cidrs'], { error: 'expected cilium or cidrs' }).default('cidrs'),
  /** DNS to kube-dns is allowed unless switched off (a cluster with node-local DNS, say). */
  dns: z.boolean().default(true),
  /** The mesh trust domain in SPIFFE principals: `<trustDomain>/ns/<ns>/sa/<sa>`. */
  trustDomain: z.string().min(1).default('cluster.local'),
});
export type RenderOptions = z.output<typeof RenderOptions>;

export const RENDER_DEFAULTS: RenderOptions = RenderOptions.parse({});

export const CONTRACT_LABEL = 'egress-responder.io/contract';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGER = 'egress-responder';
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Annotations on every rendered object: where it came from, so a live object can be traced and checked. */
export const CONTRACT_ANNOTATIONS = {
  file: 'egress-responder.io/contract-file',
  sha256: 'egress-responder.io/contract-sha256',
  ticket: 'egress-responder.io/change-ticket',
  owner: 'egress-responder.io/owner',
} as const;

export const API = {
  networkPolicy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  cilium: { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy' },
  authorization: { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy' },
} as const;
