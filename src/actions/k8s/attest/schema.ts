import { z } from 'zod';

// What an attestation finds, as data: the triage action stores it as its plan, `attest --format
// json` prints it, the text report is made from it.

export const ObjectStatus = z.enum(['match', 'missing', 'changed', 'not-served']);
export type ObjectStatus = z.output<typeof ObjectStatus>;

export const ObjectCheck = z.strictObject({
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
  status: ObjectStatus,
  /** What differs, in words (empty for a match). */
  details: z.array(z.string()),
});
export type ObjectCheck = z.output<typeof ObjectCheck>;

export const ExtraObject = z.strictObject({
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
  why: z.string(),
});
export type ExtraObject = z.output<typeof ExtraObject>;

/** The egress the NetworkPolicies allow the service's pods, live against rendered, in the containment analysis's words. */
export const EgressComparison = z.strictObject({
  /** Pods the analysis ran over: the live ones, or the contract's selector when none run. */
  pods: z.array(z.string()),
  /** `TCP/8443 to 0.0.0.0/0 (policy allow-all)`: allowed live, not by the contract. */
  beyond: z.array(z.string()),
  /** Allowed by the contract's policies, not live. */
  notEnforced: z.array(z.string()),
});
export type EgressComparison = z.output<typeof EgressComparison>;

export const ContractAttestation = z.strictObject({
  service: z.string(),
  namespace: z.string(),
  file: z.string(),
  sha256: z.string(),
  status: z.enum(['clean', 'drift']),
  objects: z.array(ObjectCheck),
  extra: z.array(ExtraObject),
  egress: EgressComparison,
  /** Caveats from the render (an FQDN without CIDRs is not in the NetworkPolicy). */
  warnings: z.array(z.string()),
});
export type ContractAttestation = z.output<typeof ContractAttestation>;
