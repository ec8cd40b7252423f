import type { GrantPreview } from '../../src/breakglass/ports.js';
import { Grant } from '../../src/domain/grant.js';

const AT = '2026-12-02T15:05:09.000Z';

/**
 * A valid pending egress exception for the default incident: the quarantined pods of
 * inc-20261125-0001 in prod may reach 203.0.113.7/32 on 443/TCP for 2 h. Top-level fields can be
 * overridden (nested objects are replaced whole); the result is checked against the schema.
 */
export function aSlackGrant(over: Partial<Grant> = {}): Grant {
  return Grant.parse({
    id: 'bg-0123456789',
    version: 1,
    incidentId: 'inc-20261125-0001',
    drill: false,
    spec: {
      kind: 'egress-exception',
      namespace: 'prod',
      source: { kind: 'quarantined' },
      destination: { kind: 'cidr', cidr: '203.0.113.7/32' },
      ports: [{ port: 443, protocol: 'TCP' }],
    },
    durationMs: 2 * 3_600_000,
    reason: 'copy the memory dump to the forensics bucket',
    ticket: 'IR-1234',
    requester: 'slack:U0AAA',
    requestedAt: AT,
    requestExpiresAt: '2026-12-02T15:35:09.000Z',
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
    message: { channel: 'C0INCIDENT', ts: '1764687909.000100' },
    ...over,
  });
}

/** The grant active since 15:10 for its 2 h, verified. */
export function anActiveSlackGrant(over: Partial<Grant> = {}): Grant {
  return aSlackGrant({
    version: 4,
    status: 'active',
    approvals: [{ by: 'slack:U0CCC', at: '2026-12-02T15:10:00.000Z' }],
    approvedAt: '2026-12-02T15:10:00.000Z',
    appliedAt: '2026-12-02T15:10:01.000Z',
    expiresAt: '2026-12-02T17:10:00.000Z',
    verification:
      'Verification: open from 2 quarantined pods to 203.0.113.7/32 on 443/TCP; nothing else is open',
    ...over,
  });
}

export const grantYaml = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: breakglass-bg-0123456789
  namespace: prod
  labels:
    egress-responder.io/grant: bg-0123456789
  annotations:
    egress-responder.io/grant: bg-0123456789
    egress-responder.io/incident: inc-20261125-0001
    egress-responder.io/grant-expires-at: "(set at approval: 2h after it)"
spec:
  podSelector:
    matchLabels:
      quarantine: "true"
  policyTypes: [Egress]
  egress:
    - to:
        - ipBlock: { cidr: 203.0.113.7/32 }
      ports:
        - { port: 443, protocol: TCP }
`;

export function aPreview(over: Partial<GrantPreview> = {}): GrantPreview {
  return {
    objects: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'breakglass-bg-0123456789', namespace: 'prod' },
      },
    ],
    yaml: grantYaml,
    warnings: ['DNS (53/UDP) is not in this exception: the pods resolve nothing new'],
    maxDurationMs: 4 * 3_600_000,
    ...over,
  };
}
