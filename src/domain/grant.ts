import { z } from 'zod';
import { UtcTimestamp } from './alert.js';

// Break-glass grants: a time-bound exception (an egress path, or access for an investigator) that
// two people agreed to and that ends on time whatever happens to the bot. The record is the audit
// of one grant; the objects it created in the cluster carry its id and absolute expiry as well, so
// the cluster can be reconciled against the store and the store against the cluster.

export const GrantKind = z.enum(['egress-exception', 'access-elevation']);
export type GrantKind = z.infer<typeof GrantKind>;

/** DNS-1123 label: namespaces. */
const Namespace = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
  error: 'expected a Kubernetes namespace name (DNS-1123 label)',
});
const LabelKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    {
      error: 'expected a Kubernetes label key',
    },
  );
const LabelValue = z.string().regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/, {
  error: 'expected a Kubernetes label value',
});
/** Equality terms only: what a grant selects must be readable at a glance. */
export const LabelMap = z.record(LabelKey, LabelValue);

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const IPV6_CIDR = /^[0-9a-fA-F:]+:[0-9a-fA-F:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/;
export const Cidr = z.string().refine((s) => IPV4_CIDR.test(s) || IPV6_CIDR.test(s), {
  error: 'expected a CIDR such as 10.20.0.0/16 or 203.0.113.7/32',
});
/** A host name (no wildcard: an exception names one destination). */
export const Fqdn = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, {
    error: 'expected a fully qualified host name such as forensics.example.com',
  });

export const GrantPort = z.strictObject({
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
});
export type GrantPort = z.infer<typeof GrantPort>;

export const EgressDestination = z.discriminatedUnion('kind', [
  /** Pods in a namespace; an empty podSelector is every pod of that namespace. */
  z.strictObject({ kind: z.literal('pods'), namespace: Namespace, podSelector: LabelMap.default({}) }),
  z.strictObject({ kind: z.literal('cidr'), cidr: Cidr }),
  /** Only where the CNI enforces FQDN policy (config `breakglass.fqdnPolicy: cilium`). */
  z.strictObject({ kind: z.literal('fqdn'), fqdn: Fqdn }),
]);
export type EgressDestination = z.infer<typeof EgressDestination>;

export const EgressSource = z.discriminatedUnion('kind', [
  /** The pods this selector matches in the grant's namespace (at least one term). */
  z.strictObject({
    kind: z.literal('selector'),
    podSelector: LabelMap.refine((m) => Object.keys(m).length > 0, {
      error:
        'expected at least one label: an empty selector would open the path for every pod of the namespace',
    }),
  }),
  /** The incident's quarantined pods: what the quarantine label and the `isolate` remedy leave out of every allow. */
  z.strictObject({ kind: z.literal('quarantined') }),
]);
export type EgressSource = z.infer<typeof EgressSource>;

export const EgressExceptionSpec = z.strictObject({
  kind: z.literal('egress-exception'),
  namespace: Namespace,
  source: EgressSource,
  destination: EgressDestination,
  ports: z.array(GrantPort).min(1).max(8),
});
export type EgressExceptionSpec = z.infer<typeof EgressExceptionSpec>;

export const GrantSubject = z.strictObject({
  kind: z.enum(['User', 'Group']),
  /** The Kubernetes user or group name (as the cluster's authenticator spells it). */
  name: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[^\s]+$/, { error: 'expected a user or group name without spaces' }),
});
export type GrantSubject = z.infer<typeof GrantSubject>;

export const AccessElevationSpec = z.strictObject({
  kind: z.literal('access-elevation'),
  namespace: Namespace,
  subjects: z.array(GrantSubject).min(1).max(10),
  /** Must be on the config's allow-list (`breakglass.accessRoles`). */
  clusterRole: z.string().min(1).max(253),
});
export type AccessElevationSpec = z.infer<typeof AccessElevationSpec>;

export const GrantSpec = z.discriminatedUnion('kind', [EgressExceptionSpec, AccessElevationSpec]);
export type GrantSpec = z.infer<typeof GrantSpec>;

/**
 * pending → approved (applying) → active → revoked | expired
 * pending → denied | request_expired;  approved → failed (the apply failed; anything created is removed)
 */
export const GrantStatus = z.enum([
  'pending',
  'approved',
  'active',
  'denied',
  'request_expired',
  'revoked',
  'expired',
  'failed',
]);
export type GrantStatus = z.infer<typeof GrantStatus>;

/** A grant that may still have objects in the cluster, or may still get them. */
export const liveGrantStatuses: readonly GrantStatus[] = ['pending', 'approved', 'active'];
/** A grant whose objects must not exist (removed, and removed again if they reappear). */
export const endedGrantStatuses: readonly GrantStatus[] = [
  'denied',
  'request_expired',
  'revoked',
  'expired',
  'failed',
];

export const GrantApproval = z.strictObject({ by: z.string().min(1), at: UtcTimestamp });
export type GrantApproval = z.infer<typeof GrantApproval>;

export const ObjectRefRecord = z.strictObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  namespace: z.string().min(1),
  name: z.string().min(1),
});
export type ObjectRefRecord = z.infer<typeof ObjectRefRecord>;

/** A request to make a live grant last longer: approved like the grant itself. */
export const GrantExtension = z.strictObject({
  /** Added to the current expiry (the total stays within the kind's maximum). */
  durationMs: z.number().int().positive(),
  requester: z.string().min(1),
  requestedAt: UtcTimestamp,
  requestExpiresAt: UtcTimestamp,
  reason: z.string().min(1).max(2000),
  approvals: z.array(GrantApproval),
});
export type GrantExtension = z.infer<typeof GrantExtension>;

export const Grant = z.strictObject({
  /** `bg-<10 hex>`. */
  id: z.string().regex(/^bg-[0-9a-f]{10}$/),
  /** Compare-and-set version (0 when created). */
  version: z.number().int().min(0),
  incidentId: z.string().min(1),
  /** A drill's grant: every cluster write is a server-side dry-run. */
  drill: z.boolean(),
  spec: GrantSpec,
  /**
   * Egress exceptions: the source pods' labels as resolved when requested (for `quarantined`, the
   * quarantine label plus the incident source's `app=`), so the grant renders from its record alone.
   */
  sourceSelector: LabelMap.optional(),
  durationMs: z.number().int().positive(),
  reason: z.string().min(1).max(2000),
  ticket: z.string().min(1).max(200).optional(),
  /** Actor: `slack:U123`, `cli:alice`. */
  requester: z.string().min(1),
  requestedAt: UtcTimestamp,
  /** A request nobody decided by then expires (status request_expired). */
  requestExpiresAt: UtcTimestamp,
  approvalsRequired: z.number().int().min(1),
  approvals: z.array(GrantApproval),
  denial: z.strictObject({ by: z.string().min(1), at: UtcTimestamp, reason: z.string().min(1) }).optional(),
  status: GrantStatus,
  /** What the grant creates, as rendered when it was requested (applied exactly so, plus its annotations). */
  objects: z.array(ObjectRefRecord),
  approvedAt: UtcTimestamp.optional(),
  /** Absolute end: the approval time plus the duration (plus approved extensions). */
  expiresAt: UtcTimestamp.optional(),
  appliedAt: UtcTimestamp.optional(),
  /** The verification line after applying (egress: the path opened and nothing else). */
  verification: z.string().optional(),
  extension: GrantExtension.optional(),
  /** How it ended: by whom (`system` for expiry) and why. */
  ended: z.strictObject({ at: UtcTimestamp, by: z.string().min(1), reason: z.string().min(1) }).optional(),
  /** The grant's message in the incident thread (updated in place as the grant moves on). */
  message: z.strictObject({ channel: z.string().min(1), ts: z.string().min(1) }).optional(),
  /** Removing the objects of an ended grant: retried until it succeeds. */
  removal: z
    .strictObject({
      attempts: z.number().int().min(0),
      removedAt: UtcTimestamp.optional(),
      lastError: z.string().optional(),
    })
    .optional(),
});
export type Grant = z.infer<typeof Grant>;

/** Labels and annotations on every object a grant creates. */
export const GRANT_LABEL = 'egress-responder.io/grant';
export const GRANT_ANNOTATIONS = {
  id: 'egress-responder.io/grant',
  incident: 'egress-responder.io/incident',
  requester: 'egress-responder.io/grant-requester',
  approvers: 'egress-responder.io/grant-approvers',
  reason: 'egress-responder.io/grant-reason',
  ticket: 'egress-responder.io/grant-ticket',
  /** RFC 3339 UTC: the reconciler removes the object after this, whatever the store says. */
  expiresAt: 'egress-responder.io/grant-expires-at',
} as const;
/** Kyverno's cleanup controller deletes a resource at this label's absolute time (layout 2006-01-02T150405Z). */
export const KYVERNO_TTL_LABEL = 'cleanup.kyverno.io/ttl';

/** `2026-12-02T17:05:09.000Z` → `2026-12-02T170509Z` (a label value cannot hold `:`); rounded up to the second. */
export function kyvernoTtlValue(expiresAtMs: number): string {
  const iso = new Date(Math.ceil(expiresAtMs / 1000) * 1000).toISOString();
  return `${iso.slice(0, 10)}T${iso.slice(11, 19).replaceAll(':', '')}Z`;
}
