import { CodedError } from '../../../src/domain/errors.js';
import { createRedisStore } from '../../../src/store/redis.js';
import { keyBase } from '../../../src/store/redis-keys.js';
import type { Store } from '../../../src/store/store.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';
import {
  deleteKeys,
  freePort,
  listKeys,
  type PrivateRedis,
  redisUrl,
  startRedisServer,
  testRedisClient,
  uniquePrefix,
} from '../../support/redis.js';
import { describeArtifactContract } from './artifacts-contract.js';
import { describeStoreContract } from './contract.js';
import { describeGrantContract } from './grants-contract.js';
import { describeHostsContract } from './hosts-contract.js';

const filePrefix = uniquePrefix('store-redis');
const prefixes = new Map<Store, string>();
let counter = 0;

afterAll(async () => {
  await deleteKeys(filePrefix);
});

/** A store on the shared Redis under a fresh sub-prefix of this file's prefix. */
function sharedStore(extra: Partial<Parameters<typeof createRedisStore>[0]> = {}): Store {
  const keyPrefix = `${filePrefix}${counter++}:`;
  const store = createRedisStore({ url: redisUrl(), keyPrefix, ...extra });
  prefixes.set(store, keyPrefix);
  return store;
}

async function dispose(store: Store): Promise<void> {
  await store.close();
  const prefix = prefixes.get(store);
  if (prefix) await deleteKeys(prefix);
}

describeStoreContract('redis', async () => sharedStore(), dispose);
describeArtifactContract('redis', async () => sharedStore(), dispose);
describeHostsContract('redis', async (opts) => sharedStore(opts ?? {}), dispose);
describeGrantContract(
  'redis',
  async () => sharedStore(),
  dispose,
  async (store, id, raw) => {
    const client = testRedisClient();
    try {
      await client.set(`${keyBase(prefixes.get(store) ?? '')}grant:${id}`, raw);
    } finally {
      await client.quit();
    }
  },
);

/** The rejection of `promise`, which must come within `ms` (a hang fails the test, never the suite). */
async function rejectionWithin(promise: Promise<unknown>, ms: number): Promise<CodedError> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([promise, hang]);
  } catch (err) {
    if (err instanceof CodedError) return err;
    throw err;
  } finally {
    clearTimeout(timer);
  }
  throw new Error('expected a rejection, got a result');
}

async function until(probe: () => Promise<unknown>, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      await probe();
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${what}: still failing after ${withinMs} ms: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('redis store', () => {
  it('keeps every key under its prefix', async () => {
    const store = sharedStore();
    const prefix = prefixes.get(store) ?? '';
    try {
      await store.incidents.createOrGetByFingerprint(anIncident());
      await store.timeline.append(aTimelineEvent());
      await store.dedupe.claim('req-1', 60_000);
      await store.schedule.put({ id: 'grant-1', dueAt: 1, data: {} });
      const keys = await listKeys(prefix);
      expect(keys.length).toBeGreaterThanOrEqual(7);
      expect(keys.every((k) => k.startsWith(prefix))).toBe(true);
    } finally {
      await dispose(store);
    }
    expect(await listKeys(prefix)).toEqual([]);
  });

  it("keeps an incident's distinct hosts in one set under its prefix while active, dropped on close", async () => {
    const store = sharedStore();
    const prefix = prefixes.get(store) ?? '';
    const raw = testRedisClient();
    try {
      const hosts = { domain: 'evil.com', count: 1, capped: false, sample: ['a.evil.com'] };
      await store.incidents.createOrGetByFingerprint(anIncident({ hosts }));
      const id = anIncident().id;
      expect(await raw.smembers(`${keyBase(prefix)}hosts:${id}`)).toEqual(['a.evil.com']);
      const cur = await store.incidents.get(id);
      await store.incidents.update({ ...cur!, status: 'closed' }, 0);
      expect(await raw.exists(`${keyBase(prefix)}hosts:${id}`)).toBe(0);
      expect((await store.incidents.get(id))?.hosts).toEqual(hosts);
      await raw.hset(`${keyBase(prefix)}incident:${id}`, 'hosts', '{"count":0,"capped":false,"sample":[]}');
      await expect(store.incidents.get(id)).rejects.toMatchObject({ code: 'internal' });
    } finally {
      await raw.quit();
      await dispose(store);
    }
  });

  it('reports corrupt data as a clear error naming where it was found', async () => {
    const store = sharedStore();
    const prefix = prefixes.get(store) ?? '';
    const raw = testRedisClient();
    try {
      const { incident } = await store.incidents.createOrGetByFingerprint(anIncident());
      await raw.hset(
        `${keyBase(prefix)}incident:${incident.id}`,
        'data',
        '{"id":"inc-20261125-0001","version":"zero"}',
      );
      const err = await store.incidents.get(incident.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CodedError);
      expect((err as CodedError).code).toBe('internal');
      expect((err as CodedError).message).toContain(`${keyBase(prefix)}incident:${incident.id}`);
      expect((err as CodedError).issues.map((i) => i.path)).toContain('version');

      await raw.hset(`${keyBase(prefix)}incident:${incident.id}`, 'data', 'not json{');
      await expect(store.incidents.get(incident.id)).rejects.toMatchObject({ code: 'internal' });

      await raw.xadd(`${keyBase(prefix)}timeline:inc-9`, '*', 'event', '{"id":"x"}');
      await expect(store.timeline.read('inc-9')).rejects.toMatchObject({ code: 'internal' });
    } finally {
      await raw.quit();
      await dispose(store);
    }
  });

  it('reports artifact bytes that no longer match their recorded sha256 as corrupt, never serves them', async () => {
    const store = sharedStore();
    const prefix = prefixes.get(store) ?? '';
    const raw = testRedisClient();
    try {
      await store.artifacts.put('EGR-1', {
        name: 'pod.app.log',
        contentType: 'text/plain',
        bytes: Buffer.from('evidence'),
        storedAt: '2026-11-25T14:03:12.123Z',
      });
      expect(await listKeys(`${keyBase(prefix)}artifact`)).toEqual([
        `${keyBase(prefix)}artifact:EGR-1:pod.app.log`,
        `${keyBase(prefix)}artifacts:EGR-1`,
      ]);
      await raw.hset(`${keyBase(prefix)}artifact:EGR-1:pod.app.log`, 'bytes', 'tampered');
      const err = await store.artifacts.get('EGR-1', 'pod.app.log').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'internal' });
      expect((err as CodedError).message).toContain(`${keyBase(prefix)}artifact:EGR-1:pod.app.log`);
    } finally {
      await raw.quit();
      await dispose(store);
    }
  });

  it('lets a lock left by a dead process lapse after its TTL (no heartbeat), and tells a holder whose lock was taken', async () => {
    const store = sharedStore();
    const prefix = prefixes.get(store) ?? '';
    const raw = testRedisClient();
    try {
      // A process that died holding the lock: the key stays only for its short TTL.
      await raw.set(`${keyBase(prefix)}lock:incident:dead`, 'their-token', 'PX', 300);
      const started = Date.now();
      expect(
        await store.locks.withLock('incident:dead', { ttlMs: 1000, waitMs: 5000 }, async () => 'mine'),
      ).toBe('mine');
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);

      // Someone took the lock over (it was lost): the heartbeat notices, the holder's signal aborts,
      // and finishing late does not delete the other holder's lock.
      let aborted: unknown;
      await store.locks.withLock('incident:taken', { ttlMs: 300, waitMs: 0 }, async (held) => {
        await raw.set(`${keyBase(prefix)}lock:incident:taken`, 'other-token', 'PX', 10_000);
        await new Promise<void>((resolve) => held.signal.addEventListener('abort', () => resolve()));
        aborted = held.signal.reason;
      });
      expect(aborted).toMatchObject({ code: 'lock_lost' });
      expect(await raw.get(`${keyBase(prefix)}lock:incident:taken`)).toBe('other-token');
    } finally {
      await raw.quit();
      await dispose(store);
    }
  });

  it('reads what another instance wrote (a restart of the process)', async () => {
    const keyPrefix = `${filePrefix}restart:`;
    const before = createRedisStore({ url: redisUrl(), keyPrefix });
    const { incident } = await before.incidents.createOrGetByFingerprint(anIncident());
    const v1 = await before.incidents.update({ ...incident, status: 'acknowledged' }, 0);
    await before.timeline.append(aTimelineEvent());
    await before.dedupe.claim('req-1', 60_000);
    await before.schedule.put({ id: 'grant-1', dueAt: 1000, data: { grant: 'g-1' } });
    await before.close();

    const after = createRedisStore({ url: redisUrl(), keyPrefix });
    try {
      expect(await after.incidents.get(incident.id)).toEqual(v1);
      expect(await after.incidents.byFingerprint(incident.fingerprint)).toEqual(v1);
      expect(await after.incidents.list({ activeOnly: true })).toEqual([v1]);
      expect(await after.timeline.read(incident.id)).toEqual([aTimelineEvent()]);
      expect(await after.timeline.append(aTimelineEvent())).toBe(false);
      expect(await after.dedupe.claim('req-1', 60_000)).toBe(false);
      expect(await after.schedule.due(1000)).toEqual([
        { id: 'grant-1', dueAt: 1000, data: { grant: 'g-1' } },
      ]);
      await expect(after.incidents.update({ ...v1, status: 'contained' }, 0)).rejects.toMatchObject({
        code: 'store_conflict',
      });
      expect((await after.incidents.update({ ...v1, status: 'contained' }, 1)).version).toBe(2);
    } finally {
      await after.close();
      await deleteKeys(keyPrefix);
    }
  });

  it('fails fast with store_unavailable when Redis cannot be reached at all', async () => {
    const port = await freePort(); // nothing listens there
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: filePrefix });
    try {
      for (const op of [
        () => store.ping(),
        () => store.incidents.get('x'),
        () => store.dedupe.claim('k', 1000),
      ]) {
        const err = await rejectionWithin(op(), 3000);
        expect(err.code).toBe('store_unavailable');
        expect(err.userSafe).toBe(true);
        expect(err.message).not.toContain(String(port)); // user-safe: no hosts or ports
      }
    } finally {
      await store.close();
    }
  });
});

describe('redis store when Redis goes away', () => {
  let server: PrivateRedis | undefined;

  afterEach(async () => {
    server?.resume();
    await server?.kill();
    server = undefined;
  });

  it('rejects with store_unavailable within 3 s while Redis is down, and recovers when it returns', async () => {
    server = await startRedisServer();
    const { port } = server;
    const store = createRedisStore({ url: server.url, keyPrefix: filePrefix });
    try {
      const { incident } = await store.incidents.createOrGetByFingerprint(anIncident());

      await server.kill();
      const ops: Array<[string, () => Promise<unknown>]> = [
        ['ping', () => store.ping()],
        ['get', () => store.incidents.get(incident.id)],
        ['update', () => store.incidents.update({ ...incident, status: 'acknowledged' }, 0)],
        ['createOrGet', () => store.incidents.createOrGetByFingerprint(anIncident({ id: 'inc-2' }))],
        ['list', () => store.incidents.list()],
        ['append', () => store.timeline.append(aTimelineEvent())],
        ['read', () => store.timeline.read(incident.id)],
        ['claim', () => store.dedupe.claim('req-1', 1000)],
        ['withLock', () => store.locks.withLock('k', { ttlMs: 1000, waitMs: 1000 }, async () => 'ran')],
        ['put', () => store.schedule.put({ id: 'g', dueAt: 1, data: {} })],
        ['due', () => store.schedule.due(Date.now())],
      ];
      for (const [name, op] of ops) {
        const err = await rejectionWithin(op(), 3000).catch((e: unknown) => {
          throw new Error(`${name}: ${String(e)}`);
        });
        expect([name, err.code]).toEqual([name, 'store_unavailable']);
      }

      server = await startRedisServer(port); // same port, empty (no persistence)
      await until(() => store.ping(), 15_000, 'store reconnects');
      const again = await store.incidents.createOrGetByFingerprint(anIncident({ id: 'inc-after' }));
      expect(again.created).toBe(true);
      expect(await store.incidents.get('inc-after')).toEqual(again.incident);
      expect(await store.timeline.append(aTimelineEvent())).toBe(true);
      expect(await store.locks.withLock('k', { ttlMs: 1000, waitMs: 0 }, async () => 'ran')).toBe('ran');
    } finally {
      await store.close();
    }
  });

  it('fails a command in flight when the connection drops, instead of leaving it hanging', async () => {
    server = await startRedisServer();
    const store = createRedisStore({ url: server.url, keyPrefix: filePrefix, commandTimeoutMs: 10_000 });
    try {
      await store.ping();
      server.pause(); // the command below is sent but never answered...
      const pending = store.incidents.get('x');
      await new Promise((r) => setTimeout(r, 100));
      const killed = server.kill(); // ...until the connection drops
      const err = await rejectionWithin(pending, 3000);
      await killed;
      expect(err.code).toBe('store_unavailable');
    } finally {
      await store.close();
    }
  });

  it('times out against a hung Redis and works again once it answers', async () => {
    server = await startRedisServer();
    const store = createRedisStore({ url: server.url, keyPrefix: filePrefix, commandTimeoutMs: 500 });
    try {
      await store.ping();
      server.pause();
      const err = await rejectionWithin(store.incidents.createOrGetByFingerprint(anIncident()), 3000);
      expect(err.code).toBe('store_unavailable');
      expect(err.details).toMatchObject({ op: 'incidents.createOrGetByFingerprint' });
      server.resume();
      await until(() => store.ping(), 15_000, 'store answers again');
      // The timed-out create may or may not have run; either way the store is consistent.
      const res = await store.incidents.createOrGetByFingerprint(anIncident());
      expect(res.incident.id).toBe(anIncident().id);
    } finally {
      await store.close();
    }
  });
});
