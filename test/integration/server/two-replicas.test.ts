import { createRedisStore } from '../../../src/store/redis.js';
import type { Store } from '../../../src/store/store.js';
import { redisUrl, uniquePrefix } from '../../support/redis.js';
import { type RedisClusterSet, startRedisCluster } from '../../support/redis-topologies.js';
import { egressEvent, incidentsByName, type Served, serve } from './intake-harness.js';

// Two replicas of the bot (two /alerts servers, each with its own store connection) on one Redis:
// every alert is delivered to both at once, as a sender that retries on another replica (or a load
// balancer that resends) would. Each alert is recorded by exactly one of them, the other says
// duplicate; each anomaly opens one incident that counts each alert once. On one server and on a
// Cluster.

const SENDERS = 6;
const BATCHES = 5;
const BATCH = 8;
const ANOMALIES = 4;

async function twoReplicas(url: string, label: string): Promise<{ a: Served; b: Served; stores: Store[] }> {
  const keyPrefix = uniquePrefix(label);
  const stores = [createRedisStore({ url, keyPrefix }), createRedisStore({ url, keyPrefix })];
  const [a, b] = await Promise.all(stores.map((s) => serve(s)));
  return { a: a!, b: b!, stores };
}

async function expectEachAlertOnce(a: Served, b: Served, tag: string): Promise<void> {
  const outcomes: string[] = [];
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, s) => {
      for (let n = 0; n < BATCHES; n++) {
        const batch = Array.from({ length: BATCH }, (_, i) => {
          const k = (s * BATCHES + n) * BATCH + i;
          return { ...egressEvent(`${tag}-${k % ANOMALIES}`), request_id: `${tag}-${k}` };
        });
        const [ra, rb] = await Promise.all([a.post(batch), b.post(batch)]);
        expect([ra.status, rb.status]).toEqual([202, 202]);
        for (let i = 0; i < BATCH; i++) {
          outcomes.push([ra.body.alerts[i]!.status, rb.body.alerts[i]!.status].sort().join('+'));
        }
      }
    }),
  );
  const total = SENDERS * BATCHES * BATCH;
  const kinds = new Map<string, number>();
  for (const o of outcomes) kinds.set(o, (kinds.get(o) ?? 0) + 1);
  // One replica records (opened once per anomaly, folded otherwise), the other names it a duplicate.
  expect(Object.fromEntries(kinds)).toEqual({
    'duplicate+opened': ANOMALIES,
    'duplicate+folded': total - ANOMALIES,
  });
  const incidents = await incidentsByName(a.store);
  expect(incidents.size).toBe(ANOMALIES);
  expect([...incidents.values()].map((i) => i.count)).toEqual(Array(ANOMALIES).fill(total / ANOMALIES));
  for (const incident of incidents.values()) {
    // One alert event per alert (alert.received, then alert.folded), each request id once.
    const alertEvents = (await b.store.timeline.read(incident.id)).filter((e) => e.kind.startsWith('alert.'));
    const requestIds = alertEvents.map((e) => {
      const d = e.details as { requestId?: string; alert?: { requestId?: string } };
      return d.requestId ?? d.alert?.requestId;
    });
    expect(new Set(requestIds).size).toBe(total / ANOMALIES);
    expect(alertEvents).toHaveLength(total / ANOMALIES);
  }
}

describe('two replicas on one Redis server', () => {
  it('record each alert delivered to both exactly once', async () => {
    const { a, b, stores } = await twoReplicas(redisUrl(), 'two-replicas');
    try {
      await expectEachAlertOnce(a, b, 'one');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

describe('two replicas on one Redis Cluster', () => {
  let cluster: RedisClusterSet;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('record each alert delivered to both exactly once', async () => {
    const { a, b, stores } = await twoReplicas(cluster.url, 'two-replicas-cluster');
    try {
      await expectEachAlertOnce(a, b, 'clu');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
