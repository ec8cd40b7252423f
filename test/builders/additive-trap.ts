import { k8sContainActions } from '../../src/actions/k8s/index.js';
import type { Incident } from '../../src/domain/incident.js';
import type { Cluster } from '../../src/k8s/cluster.js';
import { createKubeCluster } from '../../src/k8s/kube-cluster.js';
import { aPod, type FakeKubeApi } from '../fakes/kube-api/index.js';
import { type TestEngine, testEngine } from './engine.js';

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

/** A Cluster over the fake with quick retries; a fresh one per engine (discovery is cached per Cluster). */
export function trapCluster(fake: FakeKubeApi): Cluster {
  return createKubeCluster({
    kubeconfigPath: fake.kubeconfig(),
    random: () => 0.5,
    retry: { attempts: 2, baseMs: 5, capMs: 20, timeoutMs: 2_000, maxRetryAfterMs: 1_000 },
  });
}

export type ContainHarness = Pick<TestEngine, 'engine' | 'store' | 'open'>;

/** The real engine with the containment actions and a cluster over the fake; incidents open in hard mode. */
export function containHarness(fake: FakeKubeApi, yaml: string): ContainHarness {
  const t = testEngine({ yaml, actions: k8sContainActions, deps: { cluster: trapCluster(fake) } });
  return { engine: t.engine, store: t.store, open: (over = {}) => t.open({ mode: 'hard', ...over }) };
}

/** Open an incident, run its playbook, and return it with its timeline summaries. */
export async function runContain(
  h: ContainHarness,
  over: Partial<Incident> = {},
): Promise<{ inc: Incident; lines: string[] }> {
  const { id } = await h.open(over);
  const inc = await h.engine.advance(id);
  const lines = (await h.store.timeline.read(id)).map((e) => e.summary);
  return { inc, lines };
}
