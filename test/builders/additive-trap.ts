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

/** The allow-policy as a NetworkPolicy object for a namespace. */
export function allowPolicy(namespace = 'prod') {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace, name: ALLOW },
    spec: ALLOW_SPEC,
  };
}
