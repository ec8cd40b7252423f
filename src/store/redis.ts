import { randomUUID } from 'node:crypto';
import { parseRedisTarget, type RedisTarget } from '../domain/redis-target.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { Clock } from '../observability/clock.js';
import {
  checkEvent,
  checkNow,
  checkScheduled,
  corrupt,
  decodeEvent,
  decodeScheduled,
  lockBusy,
  pollDelay,
  type StoreLog,
  sleep,
  startHeartbeat,
  ttl,
  waitBudget,
} from './codec.js';
import { redisArtifacts } from './redis-artifacts.js';
import { asStrings, errorMessage, openRedis } from './redis-connection.js';
import { redisGrants } from './redis-grants.js';
import { redisIncidents } from './redis-incidents.js';
import { keyBase, storeKeys } from './redis-keys.js';
import { migrateKeyLayout } from './redis-migrate.js';
import type { DedupeStore, LockStore, ScheduledItem, ScheduleStore, Store, TimelineStore } from './store.js';

// The shared store (ioredis 6) on one Redis server, a Sentinel-watched master or a Redis Cluster
// (REDIS_URL picks: domain/redis-target.ts). It fails fast and loud: no offline queue, a command
// timeout, and every client error becomes CodedError('store_unavailable') within about
// commandTimeoutMs, while the client keeps reconnecting in the background so the store recovers by
// itself when Redis returns.
//
// Keys (all `<keyPrefix>{er}:<name>`, one Cluster slot: redis-keys.ts says why):
//   incident:<id>            hash {data: Incident JSON, version, fingerprint, and the alert counters
//                            count, firstSeen, lastSeen, resolvedAt, seq — recordAlert's, overlaid on reads}
//   thread:<channel>:<ts>    string: id of the incident whose Slack thread that is
//   fingerprint:<fp>         string: id of the active incident holding that fingerprint
//   incidents:all            sorted set id → createdAt ms (list)
//   incidents:active         sorted set id → createdAt ms (list activeOnly, byFingerprint check)
//   timeline:<incidentId>    stream, one entry per event, field `event` = TimelineEvent JSON
//   timeline-ids:<incidentId> set of event ids already appended (idempotent append)
//   hosts:<incidentId>       set of the distinct FQDN hosts folded in (up to the cap; dropped on close),
//                            their count and sample in the incident hash's `hosts` field
//   dedupe:<key>             SET NX PX
//   lock:<key>               SET NX PX random token; compare-and-delete release
//   schedule:due             sorted set id → dueAt; schedule:data hash id → ScheduledItem JSON
//   artifact:<incident>:<name>, artifacts:<incident>   see redis-artifacts.ts
//   grant:<id>, grants:*     see redis-grants.ts
// The scripts derive some keys from a prefix argument (fingerprint → incident); the shared tag is
// what keeps that legal on a Cluster.

export interface RedisStoreOptions {
  /** redis://, rediss://, redis+sentinel:// or redis+cluster:// (domain/redis-target.ts). */
  url?: string;
  /** Instead of `url`: the target already read (the config file's redis: block, config/redis.ts). */
  target?: RedisTarget;
  /** Default `egress-responder:`. */
  keyPrefix?: string;
  /** How long any one call may take before it fails with store_unavailable. Default 2000. */
  commandTimeoutMs?: number;
  /** Accepted for symmetry with the memory store; TTLs here are kept by the Redis server's clock. */
  clock?: Clock;
  /** Where connection trouble is reported (once per outage, and on recovery). */
  log?: StoreLog;
  /** Distinct hosts kept exactly per incident (default DISTINCT_HOSTS_CAP); tests make it small. */
  distinctHostsCap?: number;
  /**
   * Replicas that must hold a recorded alert before recordAlert answers (Redis WAIT): with 1, an
   * alert acknowledged to its sender survives the failover of the master it was written to. 0 (the
   * default) answers once the master has it (replication is asynchronous).
   */
  waitReplicas?: number;
  /** How long recordAlert waits for those replicas before it fails with store_unavailable. Default 500. */
  waitTimeoutMs?: number;
}

export function createRedisStore(opts: RedisStoreOptions): Store {
  const prefix = opts.keyPrefix ?? 'egress-responder:';
  const timeoutMs = opts.commandTimeoutMs ?? 2000;
  const log = opts.log;

  if (!opts.target === (opts.url === undefined))
    throw new Error('createRedisStore: exactly one of url and target');
  const target = opts.target ?? parseRedisTarget(opts.url!);
  const { client, cmd, close } = openRedis({ target, timeoutMs, ...(log ? { log } : {}) });
  const key = storeKeys(prefix);
  // The first ping (serve's start-up check) also moves keys an earlier release left (redis-migrate.ts).
  let migrated: Promise<unknown> | undefined;

  const incidents = redisIncidents({ client, cmd }, key, {
    ...(opts.distinctHostsCap === undefined ? {} : { distinctHostsCap: opts.distinctHostsCap }),
    waitReplicas: opts.waitReplicas ?? 0,
    waitTimeoutMs: opts.waitTimeoutMs ?? 500,
  });

  const timeline: TimelineStore = {
    async append(event) {
      const checked: TimelineEvent = checkEvent(event);
      const added = await cmd('timeline.append', () =>
        client.erAppend(
          key.eventIds(checked.incidentId),
          key.stream(checked.incidentId),
          checked.id,
          JSON.stringify(checked),
        ),
      );
      return added === 1;
    },
    async read(incidentId) {
      const stream = key.stream(incidentId);
      const entries = await cmd('timeline.read', () => client.xrange(stream, '-', '+'));
      return entries.map(([entryId, fields]) => {
        const at = fields.indexOf('event');
        const json = at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
        if (json === undefined) throw corrupt(`${stream} entry ${entryId}`, new Error('no `event` field'));
        return decodeEvent(json, `${stream} entry ${entryId}`);
      });
    },
  };

  const dedupe: DedupeStore = {
    async claim(k, ttlMs) {
      const ms = ttl('ttlMs', ttlMs);
      const reply = await cmd('dedupe.claim', () => client.set(key.dedupe(k), '1', 'PX', ms, 'NX'));
      return reply === 'OK';
    },
    async release(k) {
      await cmd('dedupe.release', () => client.del(key.dedupe(k)));
    },
  };

  const locks: LockStore = {
    async withLock(k, lockOpts, fn) {
      const ttlMs = ttl('ttlMs', lockOpts.ttlMs);
      const waitMs = waitBudget(lockOpts.waitMs);
      const lockKey = key.lock(k);
      const token = randomUUID();
      const started = performance.now();
      for (;;) {
        const reply = await cmd('locks.acquire', () => client.set(lockKey, token, 'PX', ttlMs, 'NX'));
        if (reply === 'OK') break;
        const waited = performance.now() - started;
        if (waited >= waitMs) throw lockBusy(k, Math.round(waited));
        await sleep(pollDelay(waitMs - waited));
      }
      const lost = new AbortController();
      const heartbeat = startHeartbeat(
        ttlMs,
        async () => (await cmd('locks.extend', () => client.erExtend(lockKey, token, String(ttlMs)))) === 1,
        lost,
        k,
      );
      try {
        return await fn({ signal: lost.signal });
      } finally {
        heartbeat.stop();
        // Compare-and-delete: if fn outlived the TTL, the lock may be someone else's by now.
        await cmd('locks.release', () => client.erUnlock(lockKey, token)).then(
          (released) => {
            if (released !== 1) {
              log?.warn(
                { key: k, ttlMs },
                'redis store: lock expired before its holder finished (ttl too short?)',
              );
            }
          },
          (err: unknown) => {
            // The result of fn matters more; the lock expires by itself after ttlMs.
            log?.warn(
              { key: k, err: errorMessage(err) },
              'redis store: could not release a lock; it will expire',
            );
          },
        );
      }
    },
  };

  const schedule: ScheduleStore = {
    async put(item) {
      const checked: ScheduledItem = checkScheduled(item);
      await cmd('schedule.put', () =>
        client.erSchedulePut(
          key.due,
          key.dueData,
          checked.id,
          String(checked.dueAt),
          JSON.stringify(checked),
        ),
      );
    },
    async due(now, limit) {
      checkNow(now);
      if (limit !== undefined && limit <= 0) return [];
      const max = limit === undefined || !Number.isFinite(limit) ? '' : String(Math.floor(limit));
      const upTo = now === Number.POSITIVE_INFINITY ? '+inf' : String(now);
      const reply = asStrings(
        'schedule.due',
        await cmd('schedule.due', () => client.erScheduleDue(key.due, key.dueData, upTo, max)),
      );
      const out: ScheduledItem[] = [];
      for (let i = 0; i + 2 <= reply.length; i += 2) {
        out.push({ ...decodeScheduled(reply[i]!, key.dueData), dueAt: Number(reply[i + 1]) });
      }
      return out;
    },
    async lease(now, leaseMs, limit) {
      checkNow(now);
      const ms = ttl('leaseMs', leaseMs);
      if (limit <= 0) return [];
      const reply = await cmd('schedule.lease', () =>
        client.erScheduleLease(
          key.due,
          key.dueData,
          String(now),
          String(now + ms),
          String(Math.floor(limit)),
        ),
      );
      return asStrings('schedule.lease', reply).map((data) => ({
        ...decodeScheduled(data, key.dueData),
        dueAt: now + ms,
      }));
    },
    async remove(id) {
      await cmd('schedule.remove', () => client.erScheduleRemove(key.due, key.dueData, id));
    },
  };

  return {
    kind: 'redis',
    incidents,
    timeline,
    dedupe,
    locks,
    schedule,
    artifacts: redisArtifacts({ client, cmd }, keyBase(prefix)),
    grants: redisGrants({ client, cmd }, keyBase(prefix)),
    async ping() {
      await cmd('ping', () => client.ping());
      if (target.kind === 'cluster') return;
      migrated ??= migrateKeyLayout({ client, cmd }, prefix, log).catch((err: unknown) => {
        migrated = undefined; // try again at the next ping
        throw err;
      });
      await migrated;
    },
    close,
  };
}
