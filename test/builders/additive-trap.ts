import { aPod, type FakeKubeApi } from '../fakes/kube-api/index.js';

// The additive-policy trap: an allow-policy for DNS and orders-api that keeps selecting the
// quarantined pods, so a deny-all next to it contains nothing. Shared by every containment test.

export const ALLOW = 'payments-egress-allow-dns-and-internal';

export const ALLOW_SPEC = {
  podSelector: { matchLabels: { app: 'payments-api' } },
  policyTypes: ['Egress'],
  egress: [
    {
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        },
      ],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
    {
      to: [{ podSelector: { matchLabels: { app: 'orders-api' } } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    },
  ],
};

export const TRAP_LINE =
  'Verification: incomplete — payments-egress-allow-dns-and-internal still allows UDP/53, TCP/53 to kube-dns; TCP/443 to app=orders-api';

export const NS = 'prod';
export const PODS = ['payments-api-7d9f8b6c5d-x2x7q', 'payments-api-7d9f8b6c5d-k8p2d'];

/** The allow-policy as a NetworkPolicy object. */
export function allowPolicy(namespace = NS) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace, name: ALLOW },
    spec: structuredClone(ALLOW_SPEC),
  };
}

/** Reset the fake cluster to the trap: two payments-api pods (unless `pods: false`) and the allow-policy. */
export function seedAdditiveTrap(fake: FakeKubeApi, opts: { pods?: boolean } = {}): void {
  fake.reset();
  if (opts.pods ?? true) {
    for (const name of PODS) {
      fake.put(
        aPod({ namespace: NS, name, labels: { app: 'payments-api' }, serviceAccountName: 'payments-api' }),
      );
    }
  }
  fake.put(allowPolicy());
}
