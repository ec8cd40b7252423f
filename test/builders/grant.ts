import type { Grant } from '../../src/domain/grant.js';

const AT = '2026-11-25T14:03:12.123Z';

/** A valid pending egress-exception grant (quarantined pods of EGR-TEST-1 → 203.0.113.7/32:443); fields overridable. */
export function aGrant(over: Partial<Grant> = {}): Grant {
  return {
    id: 'bg-0123456789',
    version: 0,
    incidentId: 'EGR-TEST-1',
    drill: false,
    spec: {
      kind: 'egress-exception',
      namespace: 'prod',
      source: { kind: 'quarantined' },
      destination: { kind: 'cidr', cidr: '203.0.113.7/32' },
      ports: [{ port: 443, protocol: 'TCP' }],
    },
    durationMs: 3_600_000,
    reason: 'copy the memory dump to the forensics bucket',
    requester: 'slack:U0AAA',
    requestedAt: AT,
    requestExpiresAt: '2026-11-25T14:33:12.123Z',
    approvalsRequired: 1,
    approvals: [],
    status: 'pending',
    objects: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        namespace: 'prod',
        name: 'breakglass-bg-0123456789',
      },
    ],
    ...over,
  };
}

/** `bg-` and ten hex digits from a number: distinct valid ids for lists. */
export const grantId = (n: number): string => `bg-${n.toString(16).padStart(10, '0')}`;
