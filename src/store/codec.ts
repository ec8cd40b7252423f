import { z } from 'zod';
import { CodedError } from '../domain/errors.js';
import { FoldedHosts, HOST_SAMPLE_SIZE, Incident, isActive } from '../domain/incident.js';
import { TimelineEvent } from '../domain/timeline.js';
import { zodIssues } from '../domain/zod-issues.js';
import type { AlertOpening, AlertRecord, ScheduledItem } from './store.js';

// What both Store implementations share: validation of what goes in and comes out, and the coded
// errors they throw. Keeping it in one place is what lets memory and Redis pass the same contract.

export const ScheduledItemSchema = z.strictObject({
  id: z.string().min(1),
  dueAt: z.number(),
  data: z.record(z.string(), z.json()),
});

/** Minimal logger shape (a pino Logger fits): the stores report trouble they do not throw. */
export interface StoreLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

function invalidInput(what: string, error: z.ZodError, input: unknown): CodedError {
  return new CodedError('internal', `refusing to store an invalid ${what}`, {
    userSafe: false,
    issues: zodIssues(error, input),
  });
}

/** Corrupt data read back: a clear error naming where it was found, never a crash further on. */
export function corrupt(where: string, error: unknown, input?: unknown): CodedError {
  const issues = error instanceof z.ZodError ? zodIssues(error, input) : [];
  const reason = error instanceof Error && !(error instanceof z.ZodError) ? `: ${error.message}` : '';
  return new CodedError('internal', `corrupt data in the store at ${where}${reason}`, {
    userSafe: false,
    issues,
    details: { where },
    cause: error,
  });
}

export function checkIncident(incident: Incident): Incident {
  const res = Incident.safeParse(incident);
  if (!res.success) throw invalidInput(`incident ${JSON.stringify(incident?.id)}`, res.error, incident);
  return res.data;
}

export function checkNewIncident(incident: Incident): Incident {
  const checked = checkIncident(incident);
  if (checked.version !== 0) {
    throw new CodedError('internal', `a new incident must have version 0 (got ${checked.version})`, {
      userSafe: false,
      details: { id: checked.id },
    });
  }
  if (!isActive(checked)) {
    throw new CodedError('internal', `a new incident must be active (got status ${checked.status})`, {
      userSafe: false,
      details: { id: checked.id },
    });
  }
  return checked;
}

export function checkExpectedVersion(expectedVersion: number): void {
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new CodedError(
      'internal',
      `expectedVersion must be a non-negative integer (got ${expectedVersion})`,
      {
        userSafe: false,
      },
    );
  }
}

export function checkEvent(event: TimelineEvent): TimelineEvent {
  const res = TimelineEvent.safeParse(event);
  if (!res.success) throw invalidInput(`timeline event ${JSON.stringify(event?.id)}`, res.error, event);
  return res.data;
}

export function checkScheduled(item: ScheduledItem): ScheduledItem {
  const res = ScheduledItemSchema.safeParse(item);
  if (!res.success) throw invalidInput(`scheduled item ${JSON.stringify(item?.id)}`, res.error, item);
  return res.data;
}

function decodeWith<T>(schema: z.ZodType<T>, json: string, where: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw corrupt(where, err);
  }
  const res = schema.safeParse(raw);
  if (!res.success) throw corrupt(where, res.error, raw);
  return res.data;
}

export const decodeIncident = (json: string, where: string): Incident => decodeWith(Incident, json, where);
export const decodeEvent = (json: string, where: string): TimelineEvent =>
  decodeWith(TimelineEvent, json, where);
export const decodeScheduled = (json: string, where: string): ScheduledItem =>
  decodeWith(ScheduledItemSchema, json, where);

/** Epoch ms of an incident's createdAt: the sort key of `list` (newest first, then id descending). */
export function createdAtMs(incident: Pick<Incident, 'createdAt'>): number {
  return Date.parse(incident.createdAt);
}

export function conflict(id: string, expectedVersion: number, actualVersion: number | string): CodedError {
  return new CodedError(
    'store_conflict',
    `incident ${id} changed while you were working on it (expected version ${expectedVersion}, found ${actualVersion}); reload and try again`,
    { details: { id, expectedVersion, actualVersion: Number(actualVersion) } },
  );
}

export function idTaken(id: string): CodedError {
  return new CodedError('store_conflict', `an incident with id ${id} already exists`, { details: { id } });
}

export function notFound(id: string): CodedError {
  return new CodedError('incident_not_found', `incident ${id} does not exist`, { details: { id } });
}

export function lockBusy(key: string, waitedMs: number): CodedError {
  return new CodedError('lock_busy', `another worker is acting on ${key}; try again in a moment`, {
    details: { key, waitedMs },
  });
}

export function closedStore(kind: string): CodedError {
  return new CodedError('store_unavailable', `the ${kind} store is closed`, {
    details: { closed: true, sent: false },
  });
}

/** A TTL in whole milliseconds (Redis PX wants an integer > 0). */
export function ttl(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new CodedError('internal', `${name} must be a positive number of milliseconds (got ${ms})`, {
      userSafe: false,
    });
  }
  return Math.ceil(ms);
}

export function checkNow(now: number): void {
  if (typeof now !== 'number' || Number.isNaN(now)) {
    throw new CodedError('internal', `now must be epoch milliseconds (got ${now})`, { userSafe: false });
  }
}

export function waitBudget(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new CodedError('internal', `waitMs must be zero or more milliseconds (got ${ms})`, {
      userSafe: false,
    });
  }
  return ms;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A poll interval for lock waiters: small, jittered so waiters do not move in lockstep. */
export function pollDelay(remainingMs: number): number {
  return Math.max(1, Math.min(remainingMs, 10 + Math.floor(Math.random() * 30)));
}

/** The alert counters recordAlert owns; kept beside the incident document and overlaid on reads. */
export interface AlertCounters {
  count: number;
  firstSeen: string;
  lastSeen: string;
  resolvedAt?: string;
  hosts?: FoldedHosts;
}

export function countersOf(incident: Incident): AlertCounters {
  return {
    count: incident.count,
    firstSeen: incident.firstSeen,
    lastSeen: incident.lastSeen,
    ...(incident.resolvedAt ? { resolvedAt: incident.resolvedAt } : {}),
    ...(incident.hosts ? { hosts: incident.hosts } : {}),
  };
}

/** The counters overlaid on a document; `hosts` only when the counters have them (else the document's). */
export function withCounters(incident: Incident, c: AlertCounters): Incident {
  const { resolvedAt: _stale, ...rest } = incident;
  return {
    ...rest,
    count: c.count,
    firstSeen: c.firstSeen,
    lastSeen: c.lastSeen,
    ...(c.resolvedAt ? { resolvedAt: c.resolvedAt } : {}),
    ...(c.hosts ? { hosts: c.hosts } : {}),
  };
}

/**
 * Distinct hosts an incident keeps exactly; one more distinct host past it sets `capped` (the count
 * stays a lower bound). Memory: each incident's set is at most this many names of at most 1024
 * characters (intake's limit), dropped when the incident closes.
 */
export const DISTINCT_HOSTS_CAP = 10_000;

/**
 * A fold's host counted into `hosts` (the Redis script does the same in Lua): a host not in `seen`
 * is added while `seen` holds fewer than `cap`, else marks the count capped. Returns the new value
 * (the same object when nothing changed); `seen` is updated in place.
 */
export function foldHost(hosts: FoldedHosts, host: string, seen: Set<string>, cap: number): FoldedHosts {
  if (seen.has(host)) return hosts;
  if (seen.size >= cap) return hosts.capped ? hosts : { ...hosts, capped: true };
  seen.add(host);
  return {
    ...hosts,
    count: hosts.count + 1,
    sample: hosts.sample.length < HOST_SAMPLE_SIZE ? [...hosts.sample, host] : hosts.sample,
  };
}

export const decodeHosts = (json: string, where: string): FoldedHosts => decodeWith(FoldedHosts, json, where);

/** A fold's counters: count added, seen widened, resolved cleared (the alert fires again). */
export function foldCounters(c: AlertCounters, fold: { count: number; firstSeen: string; lastSeen: string }) {
  return {
    count: c.count + fold.count,
    // ISO UTC timestamps of one format: string order is time order.
    firstSeen: [fold.firstSeen, c.firstSeen].sort()[0]!,
    lastSeen: [fold.lastSeen, c.lastSeen].sort()[1]!,
  };
}

/** An AlertRecord event template made concrete (the Redis script does the same in Lua). */
export function fillAlertEvent(
  template: TimelineEvent,
  incidentId: string,
  seq: number,
  counters?: { count: number; lastSeen: string },
): TimelineEvent {
  return {
    ...template,
    id: `${incidentId}:alert:${seq}`,
    incidentId,
    summary: counters
      ? template.summary
          .split('{count}')
          .join(String(counters.count))
          .split('{lastSeen}')
          .join(counters.lastSeen)
      : template.summary,
    details: counters ? { ...template.details, count: counters.count } : template.details,
  };
}

export function lockLost(key: string): CodedError {
  return new CodedError('lock_lost', `the lock on ${key} was lost (expired or taken over) while held`, {
    details: { key },
  });
}

/**
 * Extend a held lock every ttlMs/3 with `extend` (true: still ours). When it is no longer ours, or
 * extensions keep failing until the TTL has run out, `lost` aborts with lock_lost.
 */
export function startHeartbeat(
  ttlMs: number,
  extend: () => Promise<boolean>,
  lost: AbortController,
  key = 'lock',
): { stop(): void } {
  let lastOk = performance.now();
  let busy = false;
  const timer = setInterval(
    () => {
      if (busy || lost.signal.aborted) return;
      busy = true;
      extend()
        .then(
          (ours) => {
            if (ours) lastOk = performance.now();
            else lost.abort(lockLost(key));
          },
          () => {
            if (performance.now() - lastOk >= ttlMs) lost.abort(lockLost(key));
          },
        )
        .finally(() => {
          busy = false;
        });
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}

/** What a firing alert opens, checked on the way in: a new incident of the alert's fingerprint, its events and schedule. */
export function checkOpening(record: Extract<AlertRecord, { state: 'firing' }>): AlertOpening {
  const open = record.open();
  const incident = checkNewIncident(open.incident);
  if (incident.fingerprint !== record.fingerprint) {
    throw new CodedError('internal', 'recordAlert: the new incident has another fingerprint', {
      userSafe: false,
    });
  }
  return {
    incident,
    events: open.events.map(checkEvent),
    schedule: open.schedule.map(checkScheduled),
  };
}
