// The fake API server's controllers (test/fakes/kube-api/controllers.ts), driven through the real
// @kubernetes/client-node: what the Deployment, ReplicaSet and StatefulSet controllers do after a write.
import type { Cluster } from '../../../src/k8s/cluster.js';
import { createKubeCluster } from '../../../src/k8s/kube-cluster.js';
import {
  aDeployment,
  aPod,
  aStatefulSet,
  type FakeKubeApi,
  type JsonObject,
  POD_TEMPLATE_HASH,
  seedDeployment,
  startFakeKubeApi,
} from '../../fakes/kube-api/index.js';

const NS = 'prod';
type Meta = {
  name: string;
  uid: string;
  labels?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
};

let fake: FakeKubeApi;
let cluster: Cluster;

beforeAll(async () => {
  fake = await startFakeKubeApi({ controllers: true });
  cluster = createKubeCluster({
    kubeconfigPath: fake.kubeconfig(),
    retry: { attempts: 1, baseMs: 1, capMs: 1, timeoutMs: 2_000 },
  });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const m = (o: JsonObject) => o.metadata as unknown as Meta;
const pods = () => fake.list('Pod', NS);
const podNames = () => pods().map((p) => m(p).name);
const owner = (o: JsonObject) => m(o).ownerReferences?.find((r) => r.controller);
const replicaSets = () => fake.list('ReplicaSet', NS);
const podRef = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name });

function deploy(replicas = 2): void {
  fake.put(aDeployment({ namespace: NS, name: 'web', replicas }));
  fake.reconcile();
}

describe('Deployment → ReplicaSet → Pods', () => {
  it('creates a ReplicaSet named after the pod template, owned by the Deployment, and its pods', () => {
    deploy(3);
    const [rs, ...more] = replicaSets();
    expect(more).toHaveLength(0);
    const hash = m(rs!).labels![POD_TEMPLATE_HASH]!;
    expect(m(rs!).name).toBe(`web-${hash}`);
    expect(owner(rs!)).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    const spec = rs!.spec as { selector: unknown; template: { metadata: { labels: unknown } } };
    expect(spec.selector).toEqual({ matchLabels: { app: 'web', [POD_TEMPLATE_HASH]: hash } });
    expect(spec.template.metadata.labels).toEqual({ app: 'web', [POD_TEMPLATE_HASH]: hash });
    expect(pods()).toHaveLength(3);
    for (const pod of pods()) {
      expect(m(pod).name).toMatch(new RegExp(`^web-${hash}-[a-z2-9]{5}$`));
      expect(m(pod).labels).toEqual({ app: 'web', [POD_TEMPLATE_HASH]: hash });
      expect(owner(pod)).toMatchObject({ kind: 'ReplicaSet', name: `web-${hash}`, uid: m(rs!).uid });
    }
    expect(fake.get('Deployment', NS, 'web')!.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
    });
  });

  it('a seeded workload (seedDeployment) is recognised as it is: no second ReplicaSet, no new pods', () => {
    const seeded = seedDeployment(fake, { namespace: NS, name: 'web', replicas: 2 });
    fake.reconcile();
    expect(replicaSets().map((r) => m(r).name)).toEqual([m(seeded.replicaSet).name]);
    expect(podNames()).toEqual(seeded.pods.map((p) => m(p).name).sort());
  });

  it('a deleted pod is replaced by a new one', async () => {
    deploy(2);
    const [first] = podNames();
    await cluster.delete(podRef(first!), { dryRun: false });
    expect(podNames()).toHaveLength(2);
    expect(podNames()).not.toContain(first);
  });
});

describe('ReplicaSet adoption and release', () => {
  it('adopts a matching orphan, then deletes the newest extra pod to get back to replicas', async () => {
    deploy(2);
    const hash = m(replicaSets()[0]!).labels![POD_TEMPLATE_HASH]!;
    const before = podNames();
    await cluster.create(
      aPod({ namespace: NS, name: 'stray', labels: { app: 'web', [POD_TEMPLATE_HASH]: hash } }) as never,
      { dryRun: false },
    );
    // The orphan was adopted and the ReplicaSet, at 3 of 2, deleted the newest pod: the stray itself.
    expect(podNames()).toEqual(before);
    fake.put(aPod({ namespace: NS, name: 'old-stray', labels: { app: 'web', [POD_TEMPLATE_HASH]: hash } }));
    const keep = fake.get('Pod', NS, 'old-stray')!;
    // An older orphan (put before the newest pod) survives adoption; a newer owned pod goes instead.
    fake.put({ ...keep, metadata: { ...m(keep), creationTimestamp: '2000-01-01T00:00:00Z' } });
    fake.reconcile();
    expect(podNames()).toContain('old-stray');
    expect(owner(fake.get('Pod', NS, 'old-stray')!)).toMatchObject({ kind: 'ReplicaSet' });
    expect(pods()).toHaveLength(2);
  });

  it('releases a pod whose labels stop matching and creates a replacement; the released pod lives on', async () => {
    deploy(2);
    const [victim] = podNames();
    await cluster.patch(
      podRef(victim!),
      [
        { op: 'remove', path: '/metadata/labels/app' },
        { op: 'remove', path: `/metadata/labels/${POD_TEMPLATE_HASH}` },
        { op: 'add', path: '/metadata/labels/quarantine', value: 'true' },
      ],
      'json',
      { dryRun: false },
    );
    const released = fake.get('Pod', NS, victim!)!;
    expect(m(released).labels).toEqual({ quarantine: 'true' });
    expect(m(released).ownerReferences).toBeUndefined();
    expect(pods()).toHaveLength(3);
    const rs = replicaSets()[0]!;
    expect(pods().filter((p) => owner(p)?.uid === m(rs).uid)).toHaveLength(2);
    expect(rs.status).toMatchObject({ replicas: 2 });
  });

  it('a dry-run write triggers nothing', async () => {
    deploy(2);
    const [victim, other] = podNames();
    // Work for the controllers, stored behind their back: a pod that no longer matches its ReplicaSet.
    const pod = fake.get('Pod', NS, victim!)!;
    fake.put({ ...pod, metadata: { ...m(pod), labels: { quarantine: 'true' } } });
    const before = JSON.stringify([pods(), replicaSets()]);
    await cluster.patch(podRef(other!), { metadata: { labels: { app: null } } }, 'merge', { dryRun: true });
    await cluster.delete(podRef(other!), { dryRun: true });
    expect(JSON.stringify([pods(), replicaSets()])).toBe(before);
    fake.reconcile();
    expect(m(fake.get('Pod', NS, victim!)!).ownerReferences).toBeUndefined();
    expect(pods()).toHaveLength(3);
  });
});

describe('rollout', () => {
  it('a restart makes a new ReplicaSet and scales the old one to 0, deleting only the pods it owns', async () => {
    deploy(2);
    const [kept, replaced] = podNames();
    await cluster.patch(podRef(kept!), { metadata: { labels: { app: null } } }, 'merge', { dryRun: false });
    const oldRs = m(replicaSets()[0]!).name;
    await cluster.patch(
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'web' },
      { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } } },
      'merge',
      { dryRun: false },
    );
    const sets = replicaSets();
    expect(sets).toHaveLength(2);
    const current = sets.find((r) => m(r).name !== oldRs)!;
    expect((sets.find((r) => m(r).name === oldRs)!.spec as { replicas: number }).replicas).toBe(0);
    expect(m(current).name).toBe(`web-${m(current).labels![POD_TEMPLATE_HASH]}`);
    const names = podNames();
    expect(names).toContain(kept); // released before the rollout: not the old ReplicaSet's any more
    expect(names).not.toContain(replaced);
    const fresh = pods().filter((p) => owner(p)?.uid === m(current).uid);
    expect(fresh).toHaveLength(2);
    for (const p of fresh)
      expect((p.metadata as { annotations: Record<string, string> }).annotations).toEqual({
        'kubectl.kubernetes.io/restartedAt': 'now',
      });
    expect(fake.get('Deployment', NS, 'web')!.status).toMatchObject({
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
    });
  });

  it('a paused Deployment does not roll out', async () => {
    deploy(1);
    const d = fake.get('Deployment', NS, 'web')!;
    fake.put({ ...d, spec: { ...(d.spec as JsonObject), paused: true } });
    const before = podNames();
    await cluster.patch(
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'web' },
      { spec: { template: { metadata: { annotations: { x: 'y' } } } } },
      'merge',
      { dryRun: false },
    );
    expect(replicaSets()).toHaveLength(1);
    expect(podNames()).toEqual(before);
  });
});

describe('StatefulSet', () => {
  it('makes ordinal pods it owns; a deleted one comes back under its name; a released one blocks its ordinal', async () => {
    fake.put(aStatefulSet({ namespace: NS, name: 'db', replicas: 2 }));
    fake.reconcile();
    expect(podNames()).toEqual(['db-0', 'db-1']);
    expect(owner(fake.get('Pod', NS, 'db-0')!)).toMatchObject({ kind: 'StatefulSet', name: 'db' });
    const uid = m(fake.get('Pod', NS, 'db-1')!).uid;
    await cluster.delete(podRef('db-1'), { dryRun: false });
    expect(m(fake.get('Pod', NS, 'db-1')!).uid).not.toBe(uid);

    await cluster.patch(podRef('db-0'), { metadata: { labels: { app: null } } }, 'merge', { dryRun: false });
    expect(m(fake.get('Pod', NS, 'db-0')!).ownerReferences).toBeUndefined();
    // The released pod keeps the name: the StatefulSet cannot make its db-0 until that pod is gone.
    expect(fake.get('StatefulSet', NS, 'db')!.status).toMatchObject({ replicas: 1 });
    await cluster.delete(podRef('db-0'), { dryRun: false });
    expect(owner(fake.get('Pod', NS, 'db-0')!)).toMatchObject({ kind: 'StatefulSet' });
  });
});

describe('without controllers', () => {
  it('a fake started without them leaves seeded workloads alone and refuses reconcile()', async () => {
    const plain = await startFakeKubeApi();
    try {
      plain.put(aDeployment({ namespace: NS, name: 'web' }));
      expect(plain.list('ReplicaSet', NS)).toEqual([]);
      expect(() => plain.reconcile()).toThrow('controllers: true');
    } finally {
      await plain.close();
    }
  });
});
