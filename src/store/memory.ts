import { type Incident, isActive } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';
import { type Clock, systemClock } from '../observability/clock.js';
import {
  checkEvent,
  checkExpectedVersion,
  checkIncident,
  checkNewIncident,
  checkNow,
  checkOpening,
  checkScheduled,
  closedStore,
  conflict,
  countersOf,
  createdAtMs,
  DISTINCT_HOSTS_CAP,
  fillAlertEvent,
  foldCounters,
  foldHost,
  idTaken,
  lockBusy,
  notFound,
  pollDelay,
  startHeartbeat,
  ttl,
  waitBudget,
  withCounters,
} from './codec.js';
import { memoryArtifacts } from './memory-artifacts.js';
import { memoryGrants } from './memory-grants.js';
import type {
  DedupeStore,
  IncidentStore,
  LockStore,
  ScheduledItem,
  ScheduleStore,
  Store,
  TimelineStore,
} from './store.js';

// The embedded store: one process, no persistence. It keeps the same contract as the Redis store
// (test/integration/store/contract.ts runs against both): data is validated and deep-copied on the
// way in and out, so a caller can never mutate what is stored; TTLs follow the injected clock.

export interface MemoryStoreOptions {
  /** Drives dedupe and lock TTLs. Waiting for a lock (`waitMs`) is always real time. */
  clock?: Clock;
  /** Distinct hosts kept exactly per incident (default DISTINCT_HOSTS_CAP); tests make it small. */
  distinctHostsCap?: number;
}

const copy = <T>(value: T): T => structuredClone(value);

/** Newest first; ties broken by id descending (the order of a Redis ZREVRANGE). */
function newestFirst(a: Incident, b: Incident): number {
  const d = createdAtMs(b) - createdAtMs(a);
  if (d !== 0) return d;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function createMemoryStore(opts: MemoryStoreOptions = {}): Store {
  const clock = opts.clock ?? systemClock;
  let closed = false;
  const open = (): void => {
    if (closed) throw closedStore('memory');
  };

  const claims = new Map<string, number>(); // dedupe key → expiresAt (clock ms)
  const scheduled = new Map<string, ScheduledItem>();

  // ---- incidents (and the timeline, which recordAlert writes in the same step)
  const incidentsById = new Map<string, Incident>();
  const fingerprintIndex = new Map<string, string>();
  const threadIndex = new Map<string, string>(); // "<channel>\u0000<ts>" → incident id
  const alertSeq = new Map<string, number>(); // incident id → alert events recorded by recordAlert
  const hostSets = new Map<string, Set<string>>(); // active incident id → its distinct FQDN hosts
  const hostsCap = opts.distinctHostsCap ?? DISTINCT_HOSTS_CAP;
  const seedHosts = (incident: Incident): void => {
    if (incident.hosts) hostSets.set(incident.id, new Set(incident.hosts.sample));
  };
  const timelines = new Map<string, { ids: Set<string>; events: TimelineEvent[] }>();
  const appendEvent = (checked: TimelineEvent): boolean => {
    let line = timelines.get(checked.incidentId);
    if (!line) {
      line = { ids: new Set(), events: [] };
      timelines.set(checked.incidentId, line);
    }
    if (line.ids.has(checked.id)) return false;
    line.ids.add(checked.id);
    line.events.push(copy(checked));
    return true;
  };
  const threadKey = (channel: string, ts: string) => `${channel}\u0000${ts}`;

  const activeFor = (fingerprint: string): Incident | undefined => {
    const id = fingerprintIndex.get(fingerprint);
    const held = id === undefined ? undefined : incidentsById.get(id);
    return held && isActive(held) ? held : undefined;
  };

  // Every method body runs to completion before its first await, so each is atomic in-process.
  const incidents: IncidentStore = {
    async get(id) {
      open();
      const found = incidentsById.get(id);
      return found ? copy(found) : undefined;
    },
    async createOrGetByFingerprint(incident) {
      open();
      const fresh = checkNewIncident(incident);
      const held = activeFor(fresh.fingerprint);
      if (held) return { created: false, incident: copy(held) };
      if (incidentsById.has(fresh.id)) throw idTaken(fresh.id);
      const stored = copy(fresh);
      incidentsById.set(stored.id, stored);
      fingerprintIndex.set(stored.fingerprint, stored.id);
      seedHosts(stored);
      return { created: true, incident: copy(stored) };
    },
    async byFingerprint(fingerprint) {
      open();
      const held = activeFor(fingerprint);
      return held ? copy(held) : undefined;
    },
    async update(next, expectedVersion) {
      open();
      checkExpectedVersion(expectedVersion);
      const checked = checkIncident(next);
      const current = incidentsById.get(checked.id);
      if (!current) throw notFound(checked.id);
      if (current.version !== expectedVersion) throw conflict(checked.id, expectedVersion, current.version);
      // The alert counters are recordAlert's: an update never moves them.
      const stored = withCounters({ ...copy(checked), version: expectedVersion + 1 }, countersOf(current));
      incidentsById.set(stored.id, stored);
      if (stored.slack) threadIndex.set(threadKey(stored.slack.channel, stored.slack.ts), stored.id);
      if (!isActive(stored) && fingerprintIndex.get(current.fingerprint) === stored.id) {
        fingerprintIndex.delete(current.fingerprint);
      }
      if (!isActive(stored)) hostSets.delete(stored.id); // nothing folds into it any more
      return copy(stored);
    },
    async list(listOpts = {}) {
      open();
      const limit = listOpts.limit ?? Number.POSITIVE_INFINITY;
      if (limit <= 0) return [];
      const all = [...incidentsById.values()].filter((i) => !listOpts.activeOnly || isActive(i));
      return all.sort(newestFirst).slice(0, limit).map(copy);
    },
    async byThread(channel, ts) {
      open();
      const id = threadIndex.get(threadKey(channel, ts));
      const found = id === undefined ? undefined : incidentsById.get(id);
      return found ? copy(found) : undefined;
    },
    async recordAlert(record) {
      open();
      // Validate everything before changing anything: all or nothing.
      const claimMs = record.claim ? ttl('claim.ttlMs', record.claim.ttlMs) : 0;
      const now = clock.now();
      if (record.claim && (claims.get(record.claim.key) ?? 0) > now) {
        const held = activeFor(record.fingerprint);
        return { outcome: 'duplicate', incident: held ? copy(held) : undefined };
      }
      const claim = () => {
        if (record.claim) claims.set(record.claim.key, now + claimMs);
      };
      const held = activeFor(record.fingerprint);
      const nextSeq = (id: string) => {
        const n = (alertSeq.get(id) ?? 0) + 1;
        alertSeq.set(id, n);
        return n;
      };
      if (record.state === 'resolved') {
        if (!held) {
          claim();
          return { outcome: 'ignored' };
        }
        const template = checkEvent(record.resolved.event);
        const event = checkEvent(fillAlertEvent(template, held.id, (alertSeq.get(held.id) ?? 0) + 1));
        nextSeq(held.id);
        held.resolvedAt = record.resolved.at;
        appendEvent(event);
        claim();
        return { outcome: 'resolved', incident: copy(held), events: [event] };
      }
      if (!held) {
        const { incident: fresh, events, schedule: items } = checkOpening(record);
        if (incidentsById.has(fresh.id)) throw idTaken(fresh.id);
        const stored = copy(fresh);
        incidentsById.set(stored.id, stored);
        fingerprintIndex.set(stored.fingerprint, stored.id);
        seedHosts(stored);
        for (const e of events) appendEvent(e);
        for (const item of items) scheduled.set(item.id, copy(item));
        claim();
        return { outcome: 'opened', incident: copy(stored), events: events.map(copy) };
      }
      const template = checkEvent(record.fold.event);
      const counters = foldCounters(countersOf(held), record.fold);
      const event = checkEvent(fillAlertEvent(template, held.id, (alertSeq.get(held.id) ?? 0) + 1, counters));
      nextSeq(held.id);
      Object.assign(held, counters);
      delete held.resolvedAt;
      const seen = hostSets.get(held.id);
      if (held.hosts && seen && record.fold.host !== undefined) {
        held.hosts = foldHost(held.hosts, record.fold.host, seen, hostsCap);
      }
      appendEvent(event);
      claim();
      return { outcome: 'folded', incident: copy(held), events: [event] };
    },
  };

  // ---- timeline
  const timeline: TimelineStore = {
    async append(event) {
      open();
      return appendEvent(checkEvent(event));
    },
    async read(incidentId) {
      open();
      return (timelines.get(incidentId)?.events ?? []).map(copy);
    },
  };

  // ---- dedupe
  let claimsSinceSweep = 0;
  const sweepClaims = (now: number): void => {
    for (const [key, expiresAt] of claims) if (expiresAt <= now) claims.delete(key);
  };
  const dedupe: DedupeStore = {
    async claim(key, ttlMs) {
      open();
      const ms = ttl('ttlMs', ttlMs);
      const now = clock.now();
      if (++claimsSinceSweep >= 1024) {
        claimsSinceSweep = 0;
        sweepClaims(now);
      }
      const expiresAt = claims.get(key);
      if (expiresAt !== undefined && expiresAt > now) return false;
      claims.set(key, now + ms);
      return true;
    },
    async release(key) {
      open();
      claims.delete(key);
    },
  };

  // ---- locks: a mutex per key with a TTL, waiters woken on release and polling for expiry
  const held = new Map<string, { token: object; expiresAt: number }>();
  const waiters = new Map<string, Set<() => void>>();
  const wake = (key: string): void => {
    const set = waiters.get(key);
    if (!set) return;
    waiters.delete(key);
    for (const w of set) w();
  };
  const waitForRelease = (key: string, ms: number): Promise<void> =>
    new Promise((resolve) => {
      let set = waiters.get(key);
      if (!set) {
        set = new Set();
        waiters.set(key, set);
      }
      const done = (): void => {
        clearTimeout(timer);
        waiters.get(key)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });

  const locks: LockStore = {
    async withLock(key, lockOpts, fn) {
      open();
      const ttlMs = ttl('ttlMs', lockOpts.ttlMs);
      const waitMs = waitBudget(lockOpts.waitMs);
      const token = {};
      const started = performance.now();
      for (;;) {
        const current = held.get(key);
        const now = clock.now();
        if (!current || current.expiresAt <= now) {
          held.set(key, { token, expiresAt: now + ttlMs });
          break;
        }
        const waited = performance.now() - started;
        if (waited >= waitMs) throw lockBusy(key, Math.round(waited));
        await waitForRelease(key, pollDelay(waitMs - waited));
        open();
      }
      const lost = new AbortController();
      const heartbeat = startHeartbeat(
        ttlMs,
        async () => {
          const mine = held.get(key);
          if (mine?.token !== token) return false;
          mine.expiresAt = clock.now() + ttlMs;
          return true;
        },
        lost,
        key,
      );
      try {
        return await fn({ signal: lost.signal });
      } finally {
        heartbeat.stop();
        // Outlived the TTL and someone else took over: their lock is not ours to release.
        if (held.get(key)?.token === token) {
          held.delete(key);
          wake(key);
        }
      }
    },
  };

  // ---- schedule
  const items = scheduled;
  const schedule: ScheduleStore = {
    async put(item) {
      open();
      const checked = checkScheduled(item);
      items.set(checked.id, copy(checked));
    },
    async due(now, limit) {
      open();
      checkNow(now);
      const max = limit ?? Number.POSITIVE_INFINITY;
      if (max <= 0) return [];
      return [...items.values()]
        .filter((i) => i.dueAt <= now)
        .sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, max)
        .map(copy);
    },
    async lease(now, leaseMs, limit) {
      open();
      checkNow(now);
      const ms = ttl('leaseMs', leaseMs);
      if (limit <= 0) return [];
      const taken = [...items.values()]
        .filter((i) => i.dueAt <= now)
        .sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, limit);
      for (const item of taken) item.dueAt = now + ms;
      return taken.map(copy);
    },
    async remove(id) {
      open();
      items.delete(id);
    },
  };

  return {
    kind: 'memory',
    incidents,
    timeline,
    dedupe,
    locks,
    schedule,
    artifacts: memoryArtifacts(open),
    grants: memoryGrants(open),
    async ping() {
      open();
    },
    async close() {
      closed = true;
      for (const key of [...waiters.keys()]) wake(key);
    },
  };
}
