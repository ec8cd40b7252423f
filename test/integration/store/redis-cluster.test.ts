import { createRedisStore } from '../../../src/store/redis.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';
import { uniquePrefix } from '../../support/redis.js';
import { type RedisClusterSet, redisCall, startRedisCluster } from '../../support/redis-topologies.js';
import { describeContractsOn } from './topology-suites.js';

// The store contract on a real Redis Cluster (three masters, each with a replica): every script and
// multi-key command must stay in one slot, or Redis answers CROSSSLOT and these fail.

let cluster: RedisClusterSet;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describeContractsOn('redis-cluster', () => cluster.url);

describe('redis store on a Cluster: key layout', () => {
  it('writes every key of one deployment into one slot, on one master', async () => {
    const keyPrefix = uniquePrefix('cluster-slot');
    const store = createRedisStore({ url: cluster.url, keyPrefix });
    try {
      const { incident } = await store.incidents.createOrGetByFingerprint(anIncident());
      await store.incidents.update({ ...incident, slack: { channel: 'C1', ts: '1.2', steps: {} } }, 0);
      await store.timeline.append(aTimelineEvent());
      await store.dedupe.claim('req-1', 60_000);
      await store.schedule.put({ id: 'advance:x', dueAt: 1, data: {} });
      await store.locks.withLock('incident:x', { ttlMs: 60_000, waitMs: 0 }, async () => {
        const masters = await cluster.masters();
        expect(masters).toHaveLength(3);
        const found: { key: string; port: number }[] = [];
        for (const port of masters) {
          const keys = (await redisCall(port, 'KEYS', `${keyPrefix}*`)) as string[];
          found.push(...keys.map((key) => ({ key, port })));
        }
        expect(found.length).toBeGreaterThanOrEqual(9);
        expect(new Set(found.map((f) => f.port)).size).toBe(1);
        const slots = await Promise.all(found.map((f) => redisCall(f.port, 'CLUSTER', 'KEYSLOT', f.key)));
        expect(new Set(slots).size).toBe(1);
      });
    } finally {
      await store.close();
    }
  });
});
