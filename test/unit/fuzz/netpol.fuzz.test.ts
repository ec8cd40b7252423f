// Property-based: NetworkPolicies as the API server may send them — well-formed, with any optional
// field absent, null or set — never make the containment analysis throw, and a field sent as null
// gets exactly the verdict it gets when left out (Kubernetes: both are nil).
import fc from 'fast-check';
import { readNetworkPolicy } from '../../../src/actions/k8s/contain/kube-read.js';
import {
  analyzeEgress,
  type NetworkPolicy,
  type PodInfo,
  verificationLine,
} from '../../../src/actions/k8s/netpol.js';
import { params } from './support.js';

const NS = 'prod';
const KEYS = ['app', 'tier', 'quarantine', 'k8s-app', 'kubernetes.io/metadata.name', 'constructor'];
const VALUES = ['payments-api', 'true', 'kube-dns', 'kube-system', 'web', 'prod'];

/** A field that is absent (undefined: dropped by `compact`), null, or set. */
const field = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(fc.constant(undefined), fc.constant(null), arb) as fc.Arbitrary<T | null | undefined>;

/** An object literal without its undefined members: absent, as JSON from the API would be. */
function compact(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

const labels = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 3 });

const requirement = fc.oneof(
  fc.record({
    key: fc.constantFrom(...KEYS),
    operator: fc.constantFrom('In', 'NotIn'),
    values: fc.array(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 3 }),
  }),
  fc
    .record({
      key: fc.constantFrom(...KEYS),
      operator: fc.constantFrom('Exists', 'DoesNotExist'),
      values: field(fc.constant([])),
    })
    .map(compact),
);

const selector = fc
  .record({ matchLabels: field(labels), matchExpressions: field(fc.array(requirement, { maxLength: 2 })) })
  .map(compact);

const peer = fc.oneof(
  fc
    .record({
      ipBlock: fc
        .record({
          cidr: fc.constantFrom('10.0.0.0/8', '0.0.0.0/0', '203.0.113.0/24'),
          except: field(fc.array(fc.constant('10.1.0.0/16'), { maxLength: 1 })),
        })
        .map(compact),
      podSelector: fc.constant(null),
      namespaceSelector: fc.constant(null),
    })
    .map(compact),
  fc
    .record({ podSelector: field(selector), namespaceSelector: field(selector), ipBlock: fc.constant(null) })
    .map(compact)
    // The API server refuses a peer with neither selector.
    .filter((p) => p.podSelector != null || p.namespaceSelector != null),
);

const port = fc
  .record({
    protocol: field(fc.constantFrom('TCP', 'UDP', 'SCTP')),
    port: field(fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom('https', 'dns'))),
    endPort: field(fc.integer({ min: 1, max: 65535 })),
  })
  .map(compact);

const rule = (peers: 'to' | 'from') =>
  fc
    .record({
      [peers]: field(fc.array(peer, { maxLength: 3 })),
      ports: field(fc.array(port, { maxLength: 3 })),
    })
    .map(compact);

const policy = fc
  .record({
    name: fc.constantFrom('allow-a', 'allow-b', 'deny', 'x'),
    labels: field(labels),
    annotations: field(fc.constant({ note: 'n' })),
    podSelector: field(selector),
    policyTypes: field(fc.subarray(['Ingress', 'Egress'])),
    ingress: field(fc.array(rule('from'), { maxLength: 2 })),
    egress: field(fc.array(rule('to'), { maxLength: 3 })),
  })
  .map((p) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: compact({ name: p.name, namespace: NS, labels: p.labels, annotations: p.annotations }),
    spec: compact({
      podSelector: p.podSelector,
      policyTypes: p.policyTypes,
      ingress: p.ingress,
      egress: p.egress,
    }),
  }));

const pod: fc.Arbitrary<PodInfo> = fc.record({
  name: fc.constantFrom('p-1', 'p-2', 'p-3'),
  namespace: fc.constant(NS),
  labels,
});

/** The same JSON with every null member left out: what a nil field looks like when omitted. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

const namespaceLabels = {
  prod: { 'kubernetes.io/metadata.name': 'prod' },
  'kube-system': { 'kubernetes.io/metadata.name': 'kube-system' },
};

describe('NetworkPolicy analysis over what the API server may send', () => {
  it('never throws on a well-formed policy, nulls sprinkled; null ≡ missing gives the identical analysis', () => {
    fc.assert(
      fc.property(fc.array(policy, { maxLength: 4 }), fc.array(pod, { maxLength: 3 }), (sent, pods) => {
        const read = sent.map((p) => readNetworkPolicy(p, NS));
        const a = analyzeEgress(pods, read, { namespaceLabels });
        // The policies with their nulls left out, analysed as they are (no reading): the meaning of
        // an absent field is the analysis's own, so a null must land on exactly that.
        const omitted = sent.map((p) => withoutNulls(p) as NetworkPolicy);
        const b = analyzeEgress(pods, omitted, { namespaceLabels });
        expect(a).toEqual(b);
        expect(verificationLine(a)).toBe(verificationLine(b));
      }),
      params(),
    );
  });

  it('a policy with null where a whole section goes (spec, egress, to, ports) reads as that section absent', () => {
    const nulls = readNetworkPolicy(
      {
        metadata: { name: 'n', namespace: NS, labels: null },
        spec: { podSelector: null, policyTypes: ['Egress'], egress: [{ to: null, ports: null }] },
      },
      NS,
    );
    const a = analyzeEgress([{ name: 'p', namespace: NS, labels: {} }], [nulls]);
    // podSelector absent = every pod; to absent = anywhere; ports absent = all ports.
    expect(verificationLine(a)).toBe('Verification: incomplete — n still allows all ports to anywhere');
    expect(readNetworkPolicy({ metadata: { name: 'e', namespace: NS }, spec: null }, NS).spec).toEqual({});
  });
});
