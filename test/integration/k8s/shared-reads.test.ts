// actions/shared-reads.ts through the real KubeCluster against the fake API server, counting the
// requests that reach it: a read is shared while in flight and for SHARE_MS after it was sent, a
// write of the same kind (and only that kind) starts it afresh, and every reader gets its own copy.
import { SHARE_MS, sharedReads } from '../../../src/actions/shared-reads.js';
import type { Cluster } from '../../../src/k8s/cluster.js';
import { ALLOW, allowPolicy, NS, PODS, seedAdditiveTrap, trapCluster } from '../../builders/additive-trap.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

let fake: FakeKubeApi;
let cluster: Cluster;
beforeAll(async () => {
  fake = await startFakeKubeApi();
  cluster = trapCluster(fake);
});
afterAll(() => fake.close());
beforeEach(() => seedAdditiveTrap(fake));

const PODS_PATH = `/api/v1/namespaces/${NS}/pods`;
const POLICIES_PATH = `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`;
const gets = (path: string) => fake.requestsMatching({ method: 'GET', path }).filter((r) => r.path === path);
const SELECTOR = { labelSelector: 'app=payments-api' };

/** A clock the test moves: the share window is judged on it. */
function manualNow() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('one pass of shared reads', () => {
  it('concurrent identical reads are one request; each reader gets the answer', async () => {
    const c = sharedReads().over(cluster);
    const [a, b, d] = await Promise.all([
      c.listPods(NS, SELECTOR),
      c.listPods(NS, SELECTOR),
      c.listPods(NS, SELECTOR),
    ]);
    expect(gets(PODS_PATH)).toHaveLength(1);
    for (const pods of [a, b, d]) expect(pods.map((p) => p.metadata.name).sort()).toEqual([...PODS].sort());
  });

  it('other selectors, namespaces and kinds are their own reads', async () => {
    const c = sharedReads().over(cluster);
    await Promise.all([
      c.listPods(NS, SELECTOR),
      c.listPods(NS, { labelSelector: 'quarantine=true' }),
      c.listPods(NS),
      c.listPods('staging', SELECTOR),
      c.listNetworkPolicies(NS),
    ]);
    expect(gets(PODS_PATH)).toHaveLength(3);
    expect(gets('/api/v1/namespaces/staging/pods')).toHaveLength(1);
    expect(gets(POLICIES_PATH)).toHaveLength(1);
  });

  it(`an answered read is reused up to ${SHARE_MS} ms after it was sent, then read again`, async () => {
    const clock = manualNow();
    const c = sharedReads(clock.now).over(cluster);
    await c.listPods(NS, SELECTOR);
    clock.advance(SHARE_MS);
    await c.listPods(NS, SELECTOR);
    expect(gets(PODS_PATH)).toHaveLength(1);
    clock.advance(1);
    await c.listPods(NS, SELECTOR);
    expect(gets(PODS_PATH)).toHaveLength(2);
  });

  it('a write starts its own kind afresh and leaves the others shared', async () => {
    const c = sharedReads().over(cluster);
    await Promise.all([c.listPods(NS, SELECTOR), c.listNetworkPolicies(NS)]);
    await c.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: PODS[0]! },
      { metadata: { labels: { quarantine: 'true' } } },
      'merge',
      { dryRun: false },
    );
    const [pods] = await Promise.all([c.listPods(NS, SELECTOR), c.listNetworkPolicies(NS)]);
    expect(gets(PODS_PATH)).toHaveLength(2);
    expect(gets(POLICIES_PATH)).toHaveLength(1);
    // The fresh read sees the write.
    expect(pods.find((p) => p.metadata.name === PODS[0])?.metadata.labels?.quarantine).toBe('true');
  });

  it('a read sent while a write of its kind is in flight is not reused after the write', async () => {
    const c = sharedReads().over(cluster);
    fake.fail({ method: 'PATCH', delayMs: 100 });
    const write = c.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: PODS[0]! },
      { metadata: { labels: { quarantine: 'true' } } },
      'merge',
      { dryRun: false },
    );
    const during = await c.listPods(NS, SELECTOR);
    expect(during.find((p) => p.metadata.name === PODS[0])?.metadata.labels?.quarantine).toBeUndefined();
    await write;
    const after = await c.listPods(NS, SELECTOR);
    expect(gets(PODS_PATH)).toHaveLength(2);
    expect(after.find((p) => p.metadata.name === PODS[0])?.metadata.labels?.quarantine).toBe('true');
  });

  it('every reader gets its own copy: changing one answer changes no other', async () => {
    const c = sharedReads().over(cluster);
    const first = await c.listPods(NS, SELECTOR);
    first[0]!.metadata.labels = { app: 'changed-in-memory' };
    first.reverse().pop();
    const second = await c.listPods(NS, SELECTOR);
    expect(gets(PODS_PATH)).toHaveLength(1);
    expect(second).toHaveLength(PODS.length);
    for (const p of second) expect(p.metadata.labels).toEqual({ app: 'payments-api' });
  });

  it('a failed read is not kept: the next one asks again', async () => {
    const c = sharedReads().over(cluster);
    fake.fail({ method: 'GET', path: PODS_PATH, status: 403, reason: 'Forbidden' });
    await expect(c.listPods(NS, SELECTOR)).rejects.toMatchObject({ code: 'k8s_forbidden' });
    await expect(c.listPods(NS, SELECTOR)).resolves.toHaveLength(PODS.length);
    expect(gets(PODS_PATH)).toHaveLength(2);
  });

  it('a read aborted by the action that sent it is read again for another action that still has time', async () => {
    const c = sharedReads().over(cluster);
    fake.fail({ method: 'GET', path: PODS_PATH, delayMs: 200 });
    const sender = new AbortController();
    const first = c.listPods(NS, { ...SELECTOR, signal: sender.signal });
    const second = c.listPods(NS, { ...SELECTOR, signal: new AbortController().signal });
    // Aborted once the API server has the request (the fake holds its answer 200 ms).
    while (gets(PODS_PATH).length === 0) await new Promise((r) => setTimeout(r, 2));
    sender.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    await expect(second).resolves.toHaveLength(PODS.length);
    expect(gets(PODS_PATH)).toHaveLength(2);
  });

  it("a policy's get is answered from this pass's list of every policy of its namespace, absent included", async () => {
    const c = sharedReads().over(cluster);
    await c.listNetworkPolicies(NS);
    const ref = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: NS };
    const allow = await c.get({ ...ref, name: ALLOW });
    const absent = await c.get({ ...ref, name: 'quarantine-deny-egress' });
    expect(allow?.metadata.name).toBe(ALLOW);
    expect(absent).toBeUndefined();
    expect(fake.requestsMatching({ method: 'GET', path: POLICIES_PATH })).toHaveLength(1);
  });

  it('without such a list, or after a write of the kind, a get goes to the API server', async () => {
    const c = sharedReads().over(cluster);
    const ref = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: NS, name: ALLOW };
    await c.get(ref);
    expect(gets(`${POLICIES_PATH}/${ALLOW}`)).toHaveLength(1);
    await c.listNetworkPolicies(NS);
    await c.apply(
      { ...allowPolicy(), metadata: { ...allowPolicy().metadata, labels: { touched: 'yes' } } },
      {
        fieldManager: 'test',
        dryRun: false,
        force: true,
      },
    );
    const after = await c.get(ref);
    expect(gets(`${POLICIES_PATH}/${ALLOW}`)).toHaveLength(2);
    expect(after?.metadata.labels).toMatchObject({ touched: 'yes' });
  });

  it('two passes share nothing', async () => {
    await sharedReads().over(cluster).listPods(NS, SELECTOR);
    await sharedReads().over(cluster).listPods(NS, SELECTOR);
    expect(gets(PODS_PATH)).toHaveLength(2);
  });
});
