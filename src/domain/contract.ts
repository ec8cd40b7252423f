import { z } from 'zod';

// The egress contract file format (one YAML file per service). Strict objects: a typo in an
// allow-list key must fail loudly, never silently drop a rule.

const Port = z.number().int().min(1).max(65535);
const Name = z.string().min(1);

export const InternalRule = z.strictObject({
  to_service: Name,
  namespace: Name,
  ports: z.array(Port).min(1),
  protocol: Name,
});
export type InternalRule = z.infer<typeof InternalRule>;

/** `to_fqdn` may be a wildcard (`*.stripe.com`); `to_cidr` covers IP destinations. Exactly one of them. */
export const ExternalRule = z.union([
  z.strictObject({ to_fqdn: Name, ports: z.array(Port).min(1), protocol: Name }),
  z.strictObject({ to_cidr: Name, ports: z.array(Port).min(1), protocol: Name }),
]);
export type ExternalRule = z.infer<typeof ExternalRule>;

const Requirement = z.enum(['required', 'optional', 'disabled']);

export const EgressContract = z.strictObject({
  service: Name,
  /** The namespace the service runs in; absent = the contract applies in any namespace. */
  namespace: Name.optional(),
  identity: z
    .strictObject({ k8s_service_account: Name.optional(), spiffe_id: Name.optional() })
    .optional(),
  allowed_internal: z.array(InternalRule).default([]),
  allowed_external: z.array(ExternalRule).default([]),
  requirements: z
    .strictObject({ mtls: Requirement.optional(), authz_policy: Requirement.optional(), audit_logs: Requirement.optional() })
    .optional(),
  /** Free-form ownership data (owner_team, change_ticket, review_interval_days …): informative only. */
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type EgressContract = z.infer<typeof EgressContract>;

/** A contract as loaded: where it came from matters for audit annotations and error messages. */
export interface LoadedContract {
  file: string;
  contract: EgressContract;
}

export const ViolationReason = z.enum(['unknown_destination', 'port_not_allowed', 'protocol_mismatch']);
export type ViolationReason = z.infer<typeof ViolationReason>;

const ContractRef = z.strictObject({ service: z.string(), file: z.string() });

export const Verdict = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('violation'),
    reason: ViolationReason,
    message: z.string(),
    contract: ContractRef,
  }),
  z.strictObject({
    kind: z.literal('allowed'),
    message: z.string(),
    contract: ContractRef,
    /** Which rule matched: list name and index, and the rule itself. */
    rule: z.strictObject({
      list: z.enum(['allowed_internal', 'allowed_external']),
      index: z.number().int().min(0),
      text: z.string(),
    }),
  }),
  z.strictObject({ kind: z.literal('no-contract'), message: z.string() }),
]);
export type Verdict = z.infer<typeof Verdict>;
export type VerdictKind = Verdict['kind'];
