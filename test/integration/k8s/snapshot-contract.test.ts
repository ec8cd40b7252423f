// The Cluster contract against both implementations, seeded from the same snapshot: the snapshot
// cluster in memory, and KubeCluster (the real @kubernetes/client-node) over the fake API server.
import type { CodedError } from '../../../src/domain/errors.js';
import { createKubeCluster } from '../../../src/k8s/kube-cluster.js';
import { createSnapshotCluster } from '../../../src/k8s/snapshot-cluster.js';
import { parseSnapshot } from '../../../src/k8s/snapshot-file.js';
import { seedFromSnapshot } from '../../builders/snapshot.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { CONTRACT_SNAPSHOT, clusterContract, dumpOf } from './cluster-contract.js';

const snapshot = () => parseSnapshot(CONTRACT_SNAPSHOT, 'contract.yaml', 'k8s_invalid');

clusterContract('snapshot cluster', async () => {
  const cluster = createSnapshotCluster(snapshot());
  return { cluster, dump: () => dumpOf(cluster) };
});

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());

clusterContract('KubeCluster over the fake API server', async () => {
  fake.reset();
  seedFromSnapshot(fake, snapshot());
  const cluster = createKubeCluster({
    kubeconfigPath: fake.kubeconfig(),
    retry: { attempts: 1, baseMs: 1, capMs: 1, timeoutMs: 2_000, maxRetryAfterMs: 0 },
  });
  return { cluster, dump: () => dumpOf(cluster) };
});

describe('both implementations say failures in the same words', () => {
  it('not found, stale resourceVersion, AlreadyExists, resourceVersion on create, not served, no namespace, a failed test', async () => {
    fake.reset();
    seedFromSnapshot(fake, snapshot());
    const kube = createKubeCluster({ kubeconfigPath: fake.kubeconfig(), retry: { attempts: 1 } });
    const snap = createSnapshotCluster(snapshot());
    const pod = { apiVersion: 'v1', kind: 'Pod', namespace: 'prod' };
    const calls: [string, (c: typeof kube) => Promise<unknown>][] = [
      [
        'patch missing',
        (c) => c.patch({ ...pod, name: 'gone' }, { metadata: {} }, 'merge', { dryRun: false }),
      ],
      [
        'stale patch',
        (c) =>
          c.patch({ ...pod, name: 'debug' }, { metadata: { resourceVersion: '1' } }, 'merge', {
            dryRun: false,
          }),
      ],
      [
        'create existing',
        (c) =>
          c.create(
            { ...pod, metadata: { name: 'debug', namespace: 'prod' }, spec: { containers: [{ name: 'x' }] } },
            { dryRun: true },
          ),
      ],
      [
        'create with a resourceVersion',
        async (c) => c.create((await c.getPod('prod', 'debug'))!, { dryRun: true }),
      ],
      ['not served', (c) => c.list('cert-manager.io/v1', 'Certificate', 'prod')],
      ['no namespace', (c) => c.get({ apiVersion: 'v1', kind: 'Pod', name: 'x' })],
      [
        'failed json test',
        (c) =>
          c.patch({ ...pod, name: 'debug' }, [{ op: 'test', path: '/kind', value: 'Node' }], 'json', {
            dryRun: false,
          }),
      ],
    ];
    for (const [what, call] of calls) {
      const a = await call(kube).then(
        () => undefined,
        (e: CodedError) => e,
      );
      const b = await call(snap).then(
        () => undefined,
        (e: CodedError) => e,
      );
      expect(a).toBeDefined();
      expect([what, b?.code, b?.details.status, b?.details.reason, b?.message]).toEqual([
        what,
        a?.code,
        a?.details.status,
        a?.details.reason,
        a?.message,
      ]);
    }
  });
});
