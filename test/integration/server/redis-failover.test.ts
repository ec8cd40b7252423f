import { jest } from '@jest/globals';
import { createRedisStore } from '../../../src/store/redis.js';
import type { Store } from '../../../src/store/store.js';
import { uniquePrefix } from '../../support/redis.js';
import {
  type RedisClusterSet,
  type RedisSentinelSet,
  startRedisCluster,
  startRedisSentinel,
} from '../../support/redis-topologies.js';
import { egressEvent, incidentsByName, RECORDED, type Served, serve } from './intake-harness.js';

// A storm of alerts through POST /alerts while the Redis master holding the store is killed
// (SIGKILL, no goodbye): a Sentinel master (two replicas), then a Cluster shard's master (one
// replica; the killed node restarts and rejoins as the replica of the promoted one). The store waits for one
// replica (redis.waitReplicas: 1) before an alert counts as recorded, so an alert the sender was told
// is recorded survives the failover. Senders retry what was not acknowledged (503, `unknown`,
// `not_recorded`) with the same request id, as Alertmanager does. At the end every alert is
// acknowledged and each incident counts exactly its alerts: none lost, none counted twice.

jest.setTimeout(90_000);

function figure(text: string): void {
  if (process.env.FAILOVER_TEST_FIGURES) console.info(text);
}

interface StormResult {
  acked: number;
  byHttpStatus: Record<string, number>;
  /** Longest stretch with no alert acknowledged (ms): the outage as senders saw it. */
  longestGapMs: number;
  ackedBeforeKill: number;
}

const CLIENTS = 6;
const ALERTS_EACH = 60;
const BATCH = 5;
const ANOMALIES = 12;

/**
 * CLIENTS senders post ALERTS_EACH alerts each in batches, retrying the unacknowledged ones until
 * all are acknowledged. `fail` runs once a third of the alerts are acknowledged.
 */
async function storm(s: Served, tag: string, fail: () => Promise<void>): Promise<StormResult> {
  const total = CLIENTS * ALERTS_EACH;
  const byHttpStatus: Record<string, number> = {};
  let acked = 0;
  let lastAck = performance.now();
  let longestGapMs = 0;
  let ackedBeforeKill = -1;
  let failing: Promise<void> | undefined;
  const deadline = Date.now() + 60_000;
  const sender = async (c: number): Promise<void> => {
    const pending = Array.from({ length: ALERTS_EACH }, (_, i) => {
      const n = c * ALERTS_EACH + i;
      return { ...egressEvent(`${tag}-${n % ANOMALIES}`), request_id: `${tag}-${n}` };
    });
    while (pending.length > 0) {
      if (Date.now() > deadline)
        throw new Error(`${pending.length} alerts of sender ${c} never acknowledged`);
      const batch = pending.slice(0, BATCH);
      const answer = await s.post(batch).catch(() => undefined);
      const status = answer ? String(answer.status) : 'no answer';
      byHttpStatus[status] = (byHttpStatus[status] ?? 0) + 1;
      const done = new Set(
        (answer?.body.alerts ?? [])
          .filter((a) => RECORDED.has(a.status))
          .map((a) => batch[a.index]!.request_id),
      );
      if (done.size > 0) {
        const now = performance.now();
        longestGapMs = Math.max(longestGapMs, now - lastAck);
        lastAck = now;
        acked += done.size;
      }
      for (let i = pending.length - 1; i >= 0; i--)
        if (done.has(pending[i]!.request_id)) pending.splice(i, 1);
      if (!failing && acked >= total / 3) {
        ackedBeforeKill = acked;
        failing = fail();
      }
      if (done.size < batch.length) await new Promise((r) => setTimeout(r, 100));
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => sender(c)));
  await failing;
  return { acked, byHttpStatus, longestGapMs: Math.round(longestGapMs), ackedBeforeKill };
}

/** Every anomaly's incident counts exactly the alerts sent for it. */
async function expectExactCounts(store: Store, tag: string): Promise<void> {
  const incidents = await incidentsByName(store);
  const perAnomaly = (CLIENTS * ALERTS_EACH) / ANOMALIES;
  const counts = Object.fromEntries(
    Array.from({ length: ANOMALIES }, (_, a) => {
      const name = egressEvent(`${tag}-${a}`).dst_name;
      return [name, incidents.get(name)?.count ?? 0];
    }),
  );
  expect(counts).toEqual(Object.fromEntries(Object.keys(counts).map((name) => [name, perAnomaly])));
  expect(incidents.size).toBe(ANOMALIES);
}

async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a Sentinel master killed during a storm of alerts', () => {
  let set: RedisSentinelSet;
  let store: Store;
  let served: Served;
  beforeAll(async () => {
    // Two replicas: with waitReplicas 1, writes carry on while the old master is away.
    set = await startRedisSentinel({ replicas: 2 });
  }, 60_000);
  afterAll(async () => {
    await served?.close();
    await store?.close();
    await set?.stop();
  });

  it('loses no acknowledged alert: every alert ends up counted exactly once', async () => {
    store = createRedisStore({
      url: set.url,
      keyPrefix: uniquePrefix('failover-sentinel'),
      waitReplicas: 1,
      waitTimeoutMs: 500,
    });
    served = await serve(store);
    const before = await set.master();
    let after = before;
    const result = await storm(served, 'sent', async () => {
      await set.kill(before);
      await until('the Sentinels promote a replica', 30_000, async () => {
        after = await set.master();
        return after !== before;
      });
      await set.restart(before); // the pod comes back: the Sentinels make it a replica of the new master
    });
    figure(`sentinel failover: ${JSON.stringify(result)} master ${before} → ${after}`);
    expect(after).not.toBe(before);
    expect(result.ackedBeforeKill).toBeGreaterThan(0);
    expect(result.ackedBeforeKill).toBeLessThan(CLIENTS * ALERTS_EACH);
    expect(result.acked).toBe(CLIENTS * ALERTS_EACH);
    expect(result.byHttpStatus['503']).toBeGreaterThan(0); // the outage was seen, and answered honestly
    await expectExactCounts(store, 'sent');
  });
});

describe("a Cluster shard's master killed during a storm of alerts", () => {
  let set: RedisClusterSet;
  let store: Store;
  let served: Served;
  beforeAll(async () => {
    set = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await served?.close();
    await store?.close();
    await set?.stop();
  });

  it('loses no acknowledged alert: every alert ends up counted exactly once', async () => {
    store = createRedisStore({
      url: set.url,
      keyPrefix: uniquePrefix('failover-cluster'),
      waitReplicas: 1,
      waitTimeoutMs: 500,
    });
    served = await serve(store);
    // The master of the store's slot: every key carries the {er} tag.
    const before = await set.masterOf('{er}');
    let after = before;
    const result = await storm(served, 'clu', async () => {
      await set.kill(before);
      await until('the replica takes over the slot', 30_000, async () => {
        after = await set.masterOf('{er}');
        return after !== before;
      });
      await set.restart(before); // rejoins as the new master's replica
    });
    figure(`cluster failover: ${JSON.stringify(result)} master ${before} → ${after}`);
    expect(after).not.toBe(before);
    expect(result.ackedBeforeKill).toBeGreaterThan(0);
    expect(result.acked).toBe(CLIENTS * ALERTS_EACH);
    expect(result.byHttpStatus['503']).toBeGreaterThan(0);
    await expectExactCounts(store, 'clu');
  });
});
