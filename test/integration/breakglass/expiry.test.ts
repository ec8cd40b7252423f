import { startGrantReconciler } from '../../../src/breakglass/reconcile-loop.js';
import { NamespacePolicy } from '../../../src/domain/namespace-policy.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createRedisStore } from '../../../src/store/redis.js';
import { keyBase } from '../../../src/store/redis-keys.js';
import { A, breakglassHarness, forensicsRequest, policyOf, writesOf } from '../../builders/breakglass.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { deleteKeys, redisUrl, testRedisClient, uniquePrefix } from '../../support/redis.js';

// Expiry you can rely on: a restart spanning the expiry, a lost store record, an object that
// reappears, a removal the API server refuses, a replica that died mid-apply, two replicas racing.

let fake: FakeKubeApi;
const prefix = uniquePrefix('breakglass-expiry');
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(async () => {
  await fake.close();
  await deleteKeys(prefix);
});

const HOUR = 3_600_000;
const deletesOf = (path: string) =>
  fake.requestsMatching({ method: 'DELETE', path }).filter((r) => !r.query.dryRun);
const npPath = (id: string) => `/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies/breakglass-${id}`;

async function activeGrant(h: ReturnType<typeof breakglassHarness>) {
  const inc = await h.contained();
  const g = await h.bg.request(forensicsRequest(inc.id), A.requester);
  return { inc, g: await h.bg.approve(g.id, A.approver) };
}

describe('break-glass expiry', () => {
  it('a restart spanning the expiry: the new process removes it at start-up (reconcile)', async () => {
    const h = breakglassHarness({ fake });
    const { inc, g } = await activeGrant(h);
    // The bot is down from here; two hours later a new process starts on the same store and cluster.
    h.clock.advance(2 * HOUR);
    const fresh = h.replica();
    // What serve starts (main.ts): a reconcile pass at once, then one every period.
    const reconciler = startGrantReconciler(fresh, silentLogger(), 60_000);
    await reconciler.runNow();
    await reconciler.stop();
    expect(policyOf(fake, g)).toBeUndefined();
    expect(await fresh.get(g.id)).toMatchObject({ status: 'expired', removal: { attempts: 1 } });
    expect((await h.kinds(inc.id)).slice(-2)).toEqual(['grant.expired', 'grant.removed']);
    // A second pass finds nothing to do.
    expect(await fresh.reconcile()).toMatchObject({ settled: [], deleted: [], errors: [] });
  });

  it('a lost store record: the object is left until the expiry it carries, then deleted and recorded', async () => {
    const h = breakglassHarness({ fake });
    const { inc, g } = await activeGrant(h);
    // The store is lost (a new, empty one); the incident is known again, the grant is not.
    const lost = breakglassHarness({ fake, seed: false });
    await lost.open({ id: inc.id, mode: 'hard' });
    lost.clock.advance(30 * 60_000);
    expect(await lost.bg.reconcile()).toMatchObject({
      left: [`NetworkPolicy prod/breakglass-${g.id}`],
      deleted: [],
    });
    expect(policyOf(fake, g)).toBeDefined();
    lost.clock.advance(30 * 60_000);
    expect(await lost.bg.reconcile()).toMatchObject({ deleted: [`NetworkPolicy prod/breakglass-${g.id}`] });
    expect(policyOf(fake, g)).toBeUndefined();
    const events = (await lost.store.timeline.read(inc.id)).filter((e) => e.kind === 'grant.removed');
    expect(events.map((e) => [e.summary, e.details.grant])).toEqual([
      [
        `Break-glass ${g.id}: NetworkPolicy prod/breakglass-${g.id} had no record in the store and its expiry 2026-11-25T15:03:12.123Z passed: deleted`,
        g.id,
      ],
    ]);
  });

  it('where the bot may not list cluster-wide, it reconciles namespace by namespace (namespaces.allow)', async () => {
    const h = breakglassHarness({ fake });
    const { g } = await activeGrant(h);
    const lost = breakglassHarness({ fake, seed: false });
    const bg = lost.replica({ namespaces: NamespacePolicy.parse({ allow: ['staging', 'prod', 'team-*'] }) });
    fake.fail({
      method: 'GET',
      path: '/apis/networking.k8s.io/v1/networkpolicies',
      status: 403,
      times: Infinity,
    });
    lost.clock.advance(2 * HOUR);
    expect(await bg.reconcile()).toMatchObject({
      deleted: [`NetworkPolicy prod/breakglass-${g.id}`],
      errors: [],
    });
    expect(policyOf(fake, g)).toBeUndefined();
    const listed = fake.requestsMatching({ method: 'GET', path: /\/networkpolicies$/ }).map((r) => r.path);
    expect(listed).toEqual(
      expect.arrayContaining([
        '/apis/networking.k8s.io/v1/networkpolicies',
        '/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies',
        '/apis/networking.k8s.io/v1/namespaces/staging/networkpolicies',
      ]),
    );
  });

  it('an object whose record says ended is deleted again when it reappears', async () => {
    const h = breakglassHarness({ fake });
    const { inc, g } = await activeGrant(h);
    const object = policyOf(fake, g)!;
    await h.bg.revoke(g.id, A.approver, 'done early');
    expect(policyOf(fake, g)).toBeUndefined();
    fake.put(object); // someone re-applies it from a saved manifest
    expect(await h.bg.reconcile()).toMatchObject({ deleted: [`NetworkPolicy prod/breakglass-${g.id}`] });
    expect(policyOf(fake, g)).toBeUndefined();
    expect((await h.timeline(inc.id)).at(-1)).toBe(
      `Break-glass ${g.id}: NetworkPolicy prod/breakglass-${g.id} reappeared in the cluster after the grant ended (revoked): deleted again`,
    );
  });

  it('a removal the API server refuses (403) is recorded and retried with backoff until it succeeds', async () => {
    const h = breakglassHarness({ fake });
    const { inc, g } = await activeGrant(h);
    fake.fail({ method: 'DELETE', path: npPath(g.id), status: 403, times: 2 });
    h.clock.advance(HOUR);
    await h.work();
    expect(await h.bg.get(g.id)).toMatchObject({ status: 'expired', removal: { attempts: 1 } });
    expect(policyOf(fake, g)).toBeDefined();
    // Backoff: nothing due before 5 s, then the second attempt (refused again), then 10 s.
    h.clock.advance(4_999);
    expect((await h.work()).grants).toBe(0);
    h.clock.advance(1);
    await h.work();
    expect((await h.bg.get(g.id)).removal).toMatchObject({ attempts: 2 });
    // The periodic reconcile retries too: the third attempt succeeds.
    await h.bg.reconcile();
    expect(policyOf(fake, g)).toBeUndefined();
    const ended = await h.bg.get(g.id);
    expect(ended.removal).toMatchObject({ attempts: 3, removedAt: expect.any(String) });
    const events = (await h.store.timeline.read(inc.id)).filter(
      (e) => e.kind.startsWith('grant.removal') || e.kind === 'grant.removed',
    );
    expect(events.map((e) => [e.kind, e.id.split(':').slice(-2).join(':')])).toEqual([
      ['grant.removal_failed', 'removal_failed:1'],
      ['grant.removal_failed', 'removal_failed:2'],
      ['grant.removed', `${g.id}:removed`],
    ]);
    expect(events[0]!.summary).toContain('may not delete');
    expect(events[0]!.summary).toContain('Retrying in 5s');
    expect(await h.store.schedule.due(h.clock.now() + 365 * 86_400_000)).toEqual([]);
  });

  it('an approved grant a dead replica never applied is applied by the next pass, or expired if too late', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    const pending = await h.bg.request(forensicsRequest(inc.id), A.requester);
    // What a replica that died right after recording the approval leaves behind.
    const approved = await h.store.grants.update(
      {
        ...pending,
        status: 'approved',
        approvals: [{ by: A.approver, at: '2026-11-25T14:03:12.123Z' }],
        approvedAt: '2026-11-25T14:03:12.123Z',
        expiresAt: '2026-11-25T15:03:12.123Z',
      },
      pending.version,
    );
    expect(policyOf(fake, approved)).toBeUndefined();
    await h.replica().reconcile();
    expect((await h.bg.get(approved.id)).status).toBe('active');
    expect(policyOf(fake, approved)).toBeDefined();

    // The same left-over found only after its expiry: expired, and nothing is applied.
    const late = await h.bg.request(forensicsRequest(inc.id), { actor: A.requester, requestId: 'late' });
    await h.store.grants.update(
      { ...late, status: 'approved', approvedAt: late.requestedAt, expiresAt: '2026-11-25T14:33:12.123Z' },
      late.version,
    );
    h.clock.advance(HOUR);
    fake.requests.length = 0;
    await h.replica().reconcile();
    expect((await h.bg.get(late.id)).status).toBe('expired');
    expect(writesOf(fake).filter((r) => r.method === 'PATCH' && r.path.endsWith(late.id))).toEqual([]);
    expect(policyOf(fake, late)).toBeUndefined();
  });
});

describe('two replicas on one Redis', () => {
  it('race at the expiry: exactly one removal and one grant.expired', async () => {
    const store = createRedisStore({ url: redisUrl(), keyPrefix: `${prefix}race:` });
    try {
      const h = breakglassHarness({ fake, store });
      const { inc, g } = await activeGrant(h);
      const [a, b] = [h.replica(), h.replica()];
      h.clock.advance(HOUR);
      fake.requests.length = 0;
      await Promise.all([h.work(a), h.work(b), a.reconcile(), b.reconcile(), h.work(a), b.reconcile()]);
      expect(deletesOf(npPath(g.id))).toHaveLength(1);
      expect(policyOf(fake, g)).toBeUndefined();
      expect((await h.kinds(inc.id)).filter((k) => k === 'grant.expired')).toHaveLength(1);
      expect((await h.kinds(inc.id)).filter((k) => k === 'grant.removed')).toHaveLength(1);
      expect(writesOf(fake).filter((r) => r.method !== 'DELETE')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('one reconcile at a time: a replica that finds the reconcile lock held does nothing', async () => {
    const store = createRedisStore({ url: redisUrl(), keyPrefix: `${prefix}lock:` });
    const raw = testRedisClient();
    try {
      const h = breakglassHarness({ fake, store });
      const { g } = await activeGrant(h);
      h.clock.advance(HOUR);
      // Another replica is reconciling (the store's lock key for breakglass:reconcile).
      await raw.set(`${keyBase(`${prefix}lock:`)}lock:breakglass:reconcile`, 'other-replica', 'PX', 60_000);
      expect(await h.replica().reconcile()).toMatchObject({ skipped: true, settled: [] });
      expect(policyOf(fake, g)).toBeDefined();
      await raw.del(`${keyBase(`${prefix}lock:`)}lock:breakglass:reconcile`);
      expect(await h.replica().reconcile()).toMatchObject({ skipped: false, settled: [g.id] });
      expect(policyOf(fake, g)).toBeUndefined();
    } finally {
      await raw.quit();
      await store.close();
    }
  });
});
