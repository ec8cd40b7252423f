import { createHash } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical.js';
import type { LabelSelector, NetworkPolicy } from './netpol-types.js';

// The pure halves of the containment remedies: what to write, never the writing.

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGER = 'egress-responder';

/**
 * The `isolate` strategy's patch: the policy's own podSelector plus `<quarantineKey> DoesNotExist`,
 * so an allow-policy stops selecting quarantined pods and no longer widens their egress. Carries
 * the whole selector (a merge patch replaces `matchExpressions` as a whole) and adds the
 * expression only once, so patching twice changes nothing. Meant for allow-policies only: on the
 * deny policy, which selects the quarantine label, it would make that policy select nothing.
 */
export function isolatePatch(policy: NetworkPolicy, quarantineKey: string): { podSelector: LabelSelector } {
  // A copy: the caller keeps the original selector for an exact revert.
  const selector = structuredClone(policy.spec.podSelector ?? {});
  const expressions = selector.matchExpressions ?? [];
  const present = expressions.some((req) => req.key === quarantineKey && req.operator === 'DoesNotExist');
  return {
    podSelector: {
      ...selector,
      matchExpressions: present
        ? expressions
        : [...expressions, { key: quarantineKey, operator: 'DoesNotExist' }],
    },
  };
}

/** The policy as it reads after `isolatePatch`: for previews and for re-running the analysis. */
export function withIsolatePatch(policy: NetworkPolicy, quarantineKey: string): NetworkPolicy {
  return { ...policy, spec: { ...policy.spec, ...isolatePatch(policy, quarantineKey) } };
}

export interface DenyAllEgressOptions {
  name: string;
  namespace: string;
  quarantineKey: string;
  quarantineValue: string;
  annotations: Record<string, string>;
}

/** Selects the quarantine label, isolates it for Egress and allows nothing. */
export function denyAllEgressPolicy(opts: DenyAllEgressOptions): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGER },
      annotations: { ...opts.annotations },
    },
    spec: {
      podSelector: { matchLabels: { [opts.quarantineKey]: opts.quarantineValue } },
      policyTypes: ['Egress'],
      egress: [],
    },
  };
}

// Re-exported: the one canonicalisation lives in domain/ (contracts hash with it too).
export { canonicalJson };

/** sha256 (hex) of the canonical JSON of the spec: the audit annotation, independent of metadata. */
export function canonicalSpecSha256(policy: NetworkPolicy): string {
  return createHash('sha256').update(canonicalJson(policy.spec)).digest('hex');
}
