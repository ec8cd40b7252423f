import type { Json } from '../../../../src/actions/define.js';
import {
  analyzeEgress,
  appliesToEgress,
  type EgressRule,
  type NetworkPolicy,
  type NetworkPolicySpec,
  type PodInfo,
  policiesSelecting,
  verificationLine,
  withIsolatePatch,
} from '../../../../src/actions/k8s/netpol.js';

// The additive-policy trap from issue 3, at the pure level: a deny-all next to an allow-policy
// contains nothing the allow-policy lets out.

function policy(name: string, spec: NetworkPolicySpec, namespace = 'prod'): NetworkPolicy {
  return { metadata: { name, namespace }, spec };
}

function pod(name: string, labels: Record<string, string>, namespace = 'prod'): PodInfo {
  return { name, namespace, labels };
}

const POD = pod('payments-api-7d9f8b6c5d-x2x7q', { app: 'payments-api', quarantine: 'true' });

const KUBE_DNS_PEER = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};

const DENY = policy('quarantine-deny-egress', {
  podSelector: { matchLabels: { quarantine: 'true' } },
  policyTypes: ['Egress'],
  egress: [],
});

const ALLOW = policy('payments-egress-allow-dns-and-internal', {
  podSelector: { matchLabels: { app: 'payments-api' } },
  policyTypes: ['Egress'],
  egress: [
    {
      to: [KUBE_DNS_PEER],
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
});

const TRAP_LINE =
  'Verification: incomplete — payments-egress-allow-dns-and-internal still allows UDP/53, TCP/53 to kube-dns; TCP/443 to app=orders-api';

/** Leaks of a single policy with one rule, as rendered. */
function onlyRule(rule: EgressRule): { ports: string[]; peers: string[] } {
  const a = analyzeEgress([POD], [policy('p', { podSelector: {}, policyTypes: ['Egress'], egress: [rule] })]);
  expect(a.leaks).toHaveLength(1);
  const [leak] = a.leaks;
  return { ports: leak!.ports, peers: leak!.peers };
}

describe('the additive-policy trap', () => {
  it('naive containment (deny-all + allow-policy) is incomplete and names every leak', () => {
    const a = analyzeEgress([POD], [DENY, ALLOW]);
    expect(a.verdict).toBe('incomplete');
    expect(a.isolatedBy).toEqual(['quarantine-deny-egress', 'payments-egress-allow-dns-and-internal']);
    expect(a.leaks).toEqual([
      {
        policy: 'payments-egress-allow-dns-and-internal',
        rule: 0,
        ports: ['UDP/53', 'TCP/53'],
        peers: ['kube-dns'],
      },
      {
        policy: 'payments-egress-allow-dns-and-internal',
        rule: 1,
        ports: ['TCP/443'],
        peers: ['app=orders-api'],
      },
    ]);
    expect(a.perPod).toEqual({ 'payments-api-7d9f8b6c5d-x2x7q': { verdict: 'incomplete', leaks: a.leaks } });
    expect(verificationLine(a)).toBe(TRAP_LINE);
    // Compile-time too: the analysis fits an action's `data: Json` without a cast.
    const data: Json = a;
    expect(data).toBe(a);
  });

  it('isolate: the allow-policy with `quarantine DoesNotExist` no longer selects the pod → contained', () => {
    const patched = withIsolatePatch(ALLOW, 'quarantine');
    expect(policiesSelecting([DENY, patched], POD).map((p) => p.metadata.name)).toEqual([
      'quarantine-deny-egress',
    ]);
    const a = analyzeEgress([POD], [DENY, patched]);
    expect(a).toEqual({
      verdict: 'contained',
      leaks: [],
      isolatedBy: ['quarantine-deny-egress'],
      perPod: { 'payments-api-7d9f8b6c5d-x2x7q': { verdict: 'contained', leaks: [] } },
    });
    expect(verificationLine(a)).toBe('Verification: contained — 1 pod isolated by quarantine-deny-egress');
    expect(verificationLine(a).startsWith('Verification: contained')).toBe(true);
  });

  it('isolate leaves an unquarantined sibling pod under the allow-policy', () => {
    const sibling = pod('payments-api-7d9f8b6c5d-abcde', { app: 'payments-api' });
    const a = analyzeEgress([sibling], [DENY, withIsolatePatch(ALLOW, 'quarantine')]);
    expect(a.verdict).toBe('incomplete');
    expect(a.isolatedBy).toEqual(['payments-egress-allow-dns-and-internal']);
  });

  it('detach: the pod without its workload label escapes the allow-policy → contained', () => {
    const detached = pod('payments-api-7d9f8b6c5d-x2x7q', { quarantine: 'true' });
    const a = analyzeEgress([detached], [DENY, ALLOW]);
    expect(a.verdict).toBe('contained');
    expect(a.isolatedBy).toEqual(['quarantine-deny-egress']);
    expect(verificationLine(a)).toBe('Verification: contained — 1 pod isolated by quarantine-deny-egress');
  });

  it('the allow-policy alone isolates the pod but still lets it out', () => {
    const a = analyzeEgress([POD], [ALLOW]);
    expect(a.verdict).toBe('incomplete');
    expect(a.isolatedBy).toEqual(['payments-egress-allow-dns-and-internal']);
    expect(verificationLine(a)).toBe(TRAP_LINE);
  });

  it('the deny-all alone contains', () => {
    const a = analyzeEgress([POD], [DENY]);
    expect(a.verdict).toBe('contained');
    expect(verificationLine(a)).toBe('Verification: contained — 1 pod isolated by quarantine-deny-egress');
  });

  it('no policy at all: unrestricted', () => {
    const a = analyzeEgress([POD], []);
    expect(a).toEqual({
      verdict: 'unrestricted',
      leaks: [],
      isolatedBy: [],
      perPod: { 'payments-api-7d9f8b6c5d-x2x7q': { verdict: 'unrestricted', leaks: [] } },
    });
    expect(verificationLine(a)).toBe(
      'Verification: incomplete — no egress NetworkPolicy selects payments-api-7d9f8b6c5d-x2x7q: all egress is allowed',
    );
  });

  it('no pods: incomplete, never contained', () => {
    const a = analyzeEgress([], [DENY, ALLOW]);
    expect(a).toEqual({ verdict: 'incomplete', leaks: [], isolatedBy: [], perPod: {} });
    expect(verificationLine(a)).toBe('Verification: incomplete — no pods matched');
  });
});

describe('which policies count', () => {
  it('a policy in another namespace is ignored', () => {
    const elsewhere = policy('deny-in-staging', DENY.spec, 'staging');
    expect(policiesSelecting([elsewhere], POD)).toEqual([]);
    expect(analyzeEgress([POD], [elsewhere]).verdict).toBe('unrestricted');
  });

  it('an Ingress-only policy is selected but does not isolate egress', () => {
    const ingress = policy('ingress-only', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] });
    expect(policiesSelecting([ingress], POD)).toEqual([ingress]);
    expect(appliesToEgress(ingress)).toBe(false);
    expect(analyzeEgress([POD], [ingress]).verdict).toBe('unrestricted');
  });

  it('policyTypes absent with egress rules is an egress policy (API server defaulting)', () => {
    const defaulted = policy('defaulted', { podSelector: {}, egress: [{ ports: [{ port: 443 }] }] });
    expect(appliesToEgress(defaulted)).toBe(true);
    const a = analyzeEgress([POD], [defaulted]);
    expect(a.verdict).toBe('incomplete');
    expect(verificationLine(a)).toBe('Verification: incomplete — defaulted still allows TCP/443 to anywhere');
  });

  it.each([
    ['absent policyTypes, absent egress', {}, false],
    ['absent policyTypes, empty egress (defaults to Ingress only)', { egress: [] }, false],
    ['empty policyTypes read as absent', { policyTypes: [], egress: [{}] }, true],
    ['Ingress and Egress', { policyTypes: ['Ingress', 'Egress'] }, true],
  ] as const)('appliesToEgress: %s → %s', (_name, spec, expected) => {
    expect(appliesToEgress(policy('p', { podSelector: {}, ...spec } as NetworkPolicySpec))).toBe(expected);
  });

  it('an absent podSelector selects every pod of the namespace', () => {
    const all = policy('all', { policyTypes: ['Egress'] });
    expect(policiesSelecting([all], POD)).toEqual([all]);
    expect(analyzeEgress([POD], [all]).verdict).toBe('contained');
  });
});

describe('rule rendering', () => {
  it('`egress: [{}]` allows all ports to anywhere', () => {
    const a = analyzeEgress(
      [POD],
      [policy('allow-all', { podSelector: {}, policyTypes: ['Egress'], egress: [{}] })],
    );
    expect(a.leaks).toEqual([{ policy: 'allow-all', rule: 0, ports: ['all ports'], peers: ['anywhere'] }]);
    expect(verificationLine(a)).toBe(
      'Verification: incomplete — allow-all still allows all ports to anywhere',
    );
  });

  it('empty `to` and `ports` lists read like absent ones', () => {
    expect(onlyRule({ to: [], ports: [] })).toEqual({ ports: ['all ports'], peers: ['anywhere'] });
  });

  it('ipBlock with and without except', () => {
    expect(
      onlyRule({
        to: [
          { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '192.168.0.0/16'] } },
          { ipBlock: { cidr: '203.0.113.7/32' } },
        ],
        ports: [{ protocol: 'TCP', port: 443 }],
      }),
    ).toEqual({
      ports: ['TCP/443'],
      peers: ['0.0.0.0/0 except 10.0.0.0/8, 192.168.0.0/16', '203.0.113.7/32'],
    });
  });

  it('ports: endPort ranges, named ports, default TCP, a protocol without a port', () => {
    expect(
      onlyRule({
        ports: [
          { protocol: 'TCP', port: 8000, endPort: 8080 },
          { protocol: 'TCP', port: 'https' },
          { port: 5432 },
          { protocol: 'UDP' },
          { protocol: 'SCTP', port: 9000, endPort: 9000 },
        ],
      }).ports,
    ).toEqual(['TCP/8000-8080', 'TCP/https', 'TCP/5432', 'all UDP ports', 'SCTP/9000']);
  });

  it.each([
    ['podSelector {} → all pods in the namespace', { podSelector: {} }, 'all pods in prod'],
    [
      'several labels and expressions',
      {
        podSelector: {
          matchLabels: { app: 'orders-api', tier: 'backend' },
          matchExpressions: [
            { key: 'track', operator: 'In' as const, values: ['a', 'b'] },
            { key: 'quarantine', operator: 'DoesNotExist' as const },
            { key: 'canary', operator: 'Exists' as const },
            { key: 'zone', operator: 'NotIn' as const, values: ['x'] },
          ],
        },
      },
      'app=orders-api,tier=backend,track in (a,b),!quarantine,canary,zone notin (x)',
    ],
    ['kube-dns by name', KUBE_DNS_PEER, 'kube-dns'],
    [
      'kube-dns by an In expression',
      {
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'In' as const, values: ['kube-system'] },
          ],
        },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
      'kube-dns',
    ],
    [
      'namespace by name with a pod selector',
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
        podSelector: { matchLabels: { app: 'prometheus' } },
      },
      'ns monitoring: app=prometheus',
    ],
    [
      'namespace by name alone: every pod there (kube-system is not shortened to kube-dns)',
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
      'ns kube-system: all pods',
    ],
    [
      'namespace by other labels',
      { namespaceSelector: { matchLabels: { team: 'payments' } } },
      'ns team=payments: all pods',
    ],
    [
      'k8s-app=kube-dns in any namespace is wider than kube-dns',
      { namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
      'ns any: k8s-app=kube-dns',
    ],
    [
      'k8s-app=kube-dns without namespaceSelector means pods in the policy namespace',
      { podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
      'k8s-app=kube-dns',
    ],
    [
      'every pod in every namespace',
      { namespaceSelector: {}, podSelector: {} },
      'all pods in all namespaces',
    ],
  ])('peer: %s', (_name, peer, expected) => {
    expect(onlyRule({ to: [peer] }).peers).toEqual([expected]);
  });

  it('a legacy namespace label is recognised as kube-system when the namespaces are known', () => {
    const legacy = {
      namespaceSelector: { matchLabels: { name: 'kube-system' } },
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
    };
    const spec: NetworkPolicySpec = { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [legacy] }] };
    const namespaceLabels = {
      'kube-system': { 'kubernetes.io/metadata.name': 'kube-system', name: 'kube-system' },
      prod: { 'kubernetes.io/metadata.name': 'prod' },
    };
    expect(analyzeEgress([POD], [policy('dns', spec)]).leaks[0]!.peers).toEqual([
      'ns name=kube-system: k8s-app=kube-dns',
    ]);
    expect(analyzeEgress([POD], [policy('dns', spec)], { namespaceLabels }).leaks[0]!.peers).toEqual([
      'kube-dns',
    ]);
  });
});

describe('several pods', () => {
  const quarantined = pod('payments-api-1', { app: 'payments-api', quarantine: 'true' });
  const detached = pod('payments-api-2', { quarantine: 'true' });
  const loose = pod('payments-worker-1', { app: 'payments-worker' });

  it('the worst verdict wins and each pod keeps its own', () => {
    const a = analyzeEgress([quarantined, detached, loose], [DENY, ALLOW]);
    expect(a.verdict).toBe('unrestricted');
    expect(
      Object.fromEntries(Object.entries(a.perPod).map(([name, p]) => [name, [p.verdict, p.leaks.length]])),
    ).toEqual({
      'payments-api-1': ['incomplete', 2],
      'payments-api-2': ['contained', 0],
      'payments-worker-1': ['unrestricted', 0],
    });
    expect(verificationLine(a)).toBe(
      'Verification: incomplete — no egress NetworkPolicy selects payments-worker-1: all egress is allowed; ' +
        'payments-egress-allow-dns-and-internal still allows UDP/53, TCP/53 to kube-dns; TCP/443 to app=orders-api',
    );
  });

  it('leaks are listed once however many pods they reach, in policy then rule order', () => {
    const other = policy('allow-metrics', {
      podSelector: { matchLabels: { quarantine: 'true' } },
      policyTypes: ['Egress'],
      egress: [{ ports: [{ port: 9090 }] }],
    });
    const twin = pod('payments-api-3', { app: 'payments-api', quarantine: 'true' });
    const a = analyzeEgress([detached, quarantined, twin], [ALLOW, other]);
    expect(a.leaks.map((l) => `${l.policy}#${l.rule}`)).toEqual([
      'payments-egress-allow-dns-and-internal#0',
      'payments-egress-allow-dns-and-internal#1',
      'allow-metrics#0',
    ]);
    expect(verificationLine(a)).toBe(
      'Verification: incomplete — payments-egress-allow-dns-and-internal still allows UDP/53, TCP/53 to kube-dns; ' +
        'TCP/443 to app=orders-api; allow-metrics still allows TCP/9090 to anywhere',
    );
  });

  it('contained pods are counted in the line', () => {
    const a = analyzeEgress([quarantined, detached], [DENY]);
    expect(verificationLine(a)).toBe('Verification: contained — 2 pods isolated by quarantine-deny-egress');
  });

  it('more than five unrestricted pods are counted, not all named', () => {
    const pods = Array.from({ length: 7 }, (_, i) => pod(`web-${i}`, { app: 'web' }));
    expect(verificationLine(analyzeEgress(pods, [DENY]))).toBe(
      'Verification: incomplete — no egress NetworkPolicy selects web-0, web-1, web-2, web-3, web-4 and 2 more: all egress is allowed',
    );
  });

  it('pods in several namespaces are keyed and policies named as namespace/name', () => {
    const staging = pod('payments-api-9', { app: 'payments-api', quarantine: 'true' }, 'staging');
    const a = analyzeEgress(
      [POD, staging],
      [DENY, ALLOW, policy('quarantine-deny-egress', DENY.spec, 'staging')],
    );
    expect(Object.keys(a.perPod)).toEqual(['prod/payments-api-7d9f8b6c5d-x2x7q', 'staging/payments-api-9']);
    expect(a.perPod['staging/payments-api-9']!.verdict).toBe('contained');
    expect(a.isolatedBy).toEqual([
      'prod/quarantine-deny-egress',
      'prod/payments-egress-allow-dns-and-internal',
      'staging/quarantine-deny-egress',
    ]);
    expect(verificationLine(a)).toBe(
      'Verification: incomplete — prod/payments-egress-allow-dns-and-internal still allows UDP/53, TCP/53 to kube-dns; TCP/443 to app=orders-api',
    );
  });
});
