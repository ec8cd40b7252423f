import { randomUUID } from 'node:crypto';
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
import type { DedupeStore, LockStore, ScheduledItem, ScheduleStore, Store, TimelineStore } from './store.js';

// The shared store (ioredis 6). It fails fast and loud: no offline queue, a command timeout, and every
// client error becomes CodedError('store_unavailable') within about commandTimeoutMs, while the client
// keeps reconnecting in the background so the store recovers by itself when Redis returns.
//
// Keys (all under keyPrefix):
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
// The scripts touch keys they derive from a prefix argument (fingerprint → incident): fine on a single
// Redis or a replicated primary, not on Redis Cluster.

export interface RedisStoreOptions {
  url: string;
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
}

export function createRedisStore(opts: RedisStoreOptions): Store {
  const prefix = opts.keyPrefix ?? 'egress-responder:';
  const timeoutMs = opts.commandTimeoutMs ?? 2000;
  const log = opts.log;

  const { client, cmd, close } = openRedis({ url: opts.url, timeoutMs, ...(log ? { log } : {}) });

  const key = {
    incidentPrefix: `${prefix}incident:`,
    incident: (id: string) => `${prefix}incident:${id}`,
    fingerprintPrefix: `${prefix}fingerprint:`,
    fingerprint: (fp: string) => `${prefix}fingerprint:${fp}`,
    all: `${prefix}incidents:all`,
    active: `${prefix}incidents:active`,
    stream: (incidentId: string) => `${prefix}timeline:${incidentId}`,
    streamPrefix: `${prefix}timeline:`,
    eventIds: (incidentId: string) => `${prefix}timeline-ids:${incidentId}`,
    eventIdsPrefix: `${prefix}timeline-ids:`,
    thread: (channel: string, ts: string) => `${prefix}thread:${channel}:${ts}`,
    dedupe: (k: string) => `${prefix}dedupe:${k}`,
    lock: (k: string) => `${prefix}lock:${k}`,
    due: `${prefix}schedule:due`,
    dueData: `${prefix}schedule:data`,
    hostsPrefix: `${prefix}hosts:`,
    hosts: (incidentId: string) => `${prefix}hosts:${incidentId}`,
  };

  const incidents = redisIncidents(
    { client, cmd },
    key,
    opts.distinctHostsCap === undefined ? {} : { distinctHostsCap: opts.distinctHostsCap },
  );

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
    artifacts: redisArtifacts({ client, cmd }, prefix),
    grants: redisGrants({ client, cmd }, prefix),
    async ping() {
      await cmd('ping', () => client.ping());
    },
    close,
  };
}
