import type { ArtifactMeta, NewArtifact } from '../domain/artifact.js';
import type { Grant } from '../domain/grant.js';
import type { Incident } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';

/**
 * One alert, recorded atomically: the sender's delivery key is claimed, the alert opens an incident
 * or folds into the active one with its fingerprint (or, resolved, is noted on it), and the timeline
 * event(s) and the work it makes due are stored, all or nothing. An answer lost on the way back is
 * therefore safe to retry: the delivery key makes the retry a duplicate.
 *
 * The alert counters (count, firstSeen, lastSeen, resolvedAt) belong to this operation: they are kept
 * beside the incident document and overlaid on every read, so folds never bump the incident's
 * version and never conflict with the engine's compare-and-set updates.
 */
/** A new incident as an alert would open it: its document, first events and queued schedule items. */
export interface AlertOpening {
  incident: Incident;
  events: TimelineEvent[];
  schedule: ScheduledItem[];
}

export type AlertRecord = {
  fingerprint: string;
  /** Claimed last, and only when something was recorded; seen before → `duplicate`, nothing changes. */
  claim?: { key: string; ttlMs: number };
} & (
  | {
      state: 'firing';
      /**
       * What is stored (version 0) when no active incident holds the fingerprint; called only then,
       * at most once per recordAlert (most alerts fold, and building a new incident is not free). Its
       * `hosts.sample`, if any, seeds the set of distinct hosts the folds are counted against.
       */
      open: () => AlertOpening;
      /**
       * Otherwise added to the active incident; `event` is a template: the store gives it the id
       * `<incident>:alert:<n>`, the incident's id, `details.count` = the new count, and replaces
       * `{count}` and `{lastSeen}` in its summary.
       */
      fold: {
        count: number;
        firstSeen: string;
        lastSeen: string;
        event: TimelineEvent;
        /**
         * The alert's FQDN host (displayHost): counted into the active incident's `hosts` when it has
         * them, exactly (a set per incident, up to DISTINCT_HOSTS_CAP in codec.ts), atomically with the fold.
         */
        host?: string;
      };
    }
  | {
      state: 'resolved';
      /** Template as for a fold (id and incidentId are set by the store; summary kept). */
      resolved: { at: string; event: TimelineEvent };
    }
);

export type AlertRecorded =
  | { outcome: 'opened' | 'folded' | 'resolved'; incident: Incident; events: TimelineEvent[] }
  /** The delivery key was seen before; `incident` is the active one with the fingerprint, if any. */
  | { outcome: 'duplicate'; incident: Incident | undefined }
  /** Resolved, but no incident is active for the fingerprint. */
  | { outcome: 'ignored' };

// The one persistence interface. Two implementations (memory.ts, redis.ts) pass the same contract
// test suite (test/integration/store/contract.ts). Every method either does what it says or throws a
// CodedError: `store_unavailable` when the backend cannot be reached (never a silent drop),
// `store_conflict` when a compare-and-set loses.

export interface IncidentStore {
  get(id: string): Promise<Incident | undefined>;
  /**
   * Atomically: if an active incident holds `incident.fingerprint`, return it (created=false);
   * otherwise store `incident` (version must be 0), index its fingerprint, return it (created=true).
   * Throws CodedError('store_conflict') when another incident already has `incident.id`.
   */
  createOrGetByFingerprint(incident: Incident): Promise<{ created: boolean; incident: Incident }>;
  /** The active incident for a fingerprint, if any. */
  byFingerprint(fingerprint: string): Promise<Incident | undefined>;
  /**
   * Compare-and-set: stores `next` (with version = expectedVersion + 1) only when the stored version is
   * `expectedVersion`; otherwise throws CodedError('store_conflict'). Returns what was stored. When `next`
   * is no longer active (closed), its fingerprint is released so a new anomaly opens a new incident.
   * Throws CodedError('incident_not_found') when there is no incident `next.id`.
   */
  update(next: Incident, expectedVersion: number): Promise<Incident>;
  /** Incidents, newest first; `activeOnly` leaves out closed ones. */
  list(opts?: { activeOnly?: boolean; limit?: number }): Promise<Incident[]>;
  /** See AlertRecord. Throws CodedError('store_conflict') when the new incident's id is taken (nothing is recorded). */
  recordAlert(record: AlertRecord): Promise<AlertRecorded>;
  /** The incident whose Slack thread is `channel`/`ts` (an index kept by `update`, not a scan). */
  byThread(channel: string, ts: string): Promise<Incident | undefined>;
}

export interface TimelineStore {
  /** Appends; returns false (and stores nothing) when an event with the same id is already recorded. */
  append(event: TimelineEvent): Promise<boolean>;
  /** All events of an incident in append order. */
  read(incidentId: string): Promise<TimelineEvent[]>;
}

export interface DedupeStore {
  /** SET NX with a TTL: true the first time a key is claimed within `ttlMs`. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Undo a claim whose work failed, so the sender's retry is not mistaken for a duplicate. */
  release(key: string): Promise<void>;
}

/** What a lock holder is told: `signal` aborts (reason: CodedError('lock_lost')) if the lock was lost. */
export interface HeldLock {
  signal: AbortSignal;
}

export interface LockStore {
  /**
   * Run `fn` holding an exclusive lock on `key` (across processes for Redis). Waits up to `waitMs`
   * for a holder to finish, then throws CodedError('lock_busy'). The lock is short (`ttlMs`) and
   * extended by a heartbeat every ttlMs/3 while `fn` runs, so a dead holder's lock lapses quickly and a
   * long action keeps its lock; if an extension finds the lock gone, `signal` aborts.
   */
  withLock<T>(
    key: string,
    opts: { ttlMs: number; waitMs: number },
    fn: (held: HeldLock) => Promise<T>,
  ): Promise<T>;
}

/** Something that must happen at a time, whatever happens to the process (grant expiry, SLA timers). */
export interface ScheduledItem {
  id: string;
  /** Epoch milliseconds. */
  dueAt: number;
  data: Record<string, unknown>;
}

export interface ScheduleStore {
  /** Insert or move an item (same id = one item). */
  put(item: ScheduledItem): Promise<void>;
  /** Items due at or before `now`, earliest first. */
  due(now: number, limit?: number): Promise<ScheduledItem[]>;
  /**
   * Atomically take the items due at `now` (earliest first, up to `limit`) and move each to
   * `now + leaseMs`: a worker that dies with one comes back to it after the lease. Remove when done.
   */
  lease(now: number, leaseMs: number, limit: number): Promise<ScheduledItem[]>;
  remove(id: string): Promise<void>;
}

/**
 * Files of evidence kept with an incident, readable by every replica. An artifact is stored once:
 * evidence is never overwritten, so a second put of a name returns what was stored first
 * (`created: false`) and the bytes the timeline's sha256 describes stay the bytes served.
 */
export interface ArtifactStore {
  /**
   * Store `artifact` (its size and sha256 computed here) unless the incident already has one by that
   * name. Refuses (`command_invalid`) an unsafe name (see domain/artifact.ts) or one over the cap.
   */
  put(incidentId: string, artifact: NewArtifact): Promise<{ artifact: ArtifactMeta; created: boolean }>;
  /** The artifact and its bytes (checked against the recorded sha256), or undefined. */
  get(incidentId: string, name: string): Promise<{ artifact: ArtifactMeta; bytes: Buffer } | undefined>;
  /** The incident's artifacts in the order they were stored, without their bytes. */
  list(incidentId: string): Promise<ArtifactMeta[]>;
}

/**
 * Break-glass grants: the audit record of each, changed only by compare-and-set (two approvers,
 * a revoke and the expiry reconciler may all race for one grant). Records are validated on the way
 * in and out (domain/grant.ts) and kept after a grant ends: they are the audit.
 */
export interface GrantStore {
  get(id: string): Promise<Grant | undefined>;
  /**
   * Store a new grant (version must be 0). A grant with the same id already stored is returned with
   * `created: false` and nothing changes (a request delivered twice makes one grant).
   */
  create(grant: Grant): Promise<{ created: boolean; grant: Grant }>;
  /**
   * Compare-and-set as for incidents: stores `next` with version expectedVersion + 1 only when the
   * stored version is `expectedVersion`; otherwise CodedError('store_conflict'). No such grant:
   * CodedError('command_invalid').
   */
  update(next: Grant, expectedVersion: number): Promise<Grant>;
  /**
   * Grants, newest request first. `live` keeps only pending, approved and active ones (an index,
   * not a scan); `incidentId` keeps one incident's.
   */
  list(opts?: { live?: boolean; incidentId?: string; limit?: number }): Promise<Grant[]>;
}

export interface Store {
  readonly kind: 'memory' | 'redis';
  readonly incidents: IncidentStore;
  readonly timeline: TimelineStore;
  readonly dedupe: DedupeStore;
  readonly locks: LockStore;
  /** The time-ordered set behind break-glass grants and SLA reminders (a Redis sorted set). */
  readonly schedule: ScheduleStore;
  readonly artifacts: ArtifactStore;
  readonly grants: GrantStore;
  /** Resolves when the backend answers; throws CodedError('store_unavailable') otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
