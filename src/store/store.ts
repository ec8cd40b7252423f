import type { Incident } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';

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

export interface LockStore {
  /**
   * Run `fn` holding an exclusive lock on `key` (across processes for Redis). Waits up to `waitMs`
   * for a holder to finish, then throws CodedError('lock_busy'). The lock expires after `ttlMs` if the
   * holder dies.
   */
  withLock<T>(key: string, opts: { ttlMs: number; waitMs: number }, fn: () => Promise<T>): Promise<T>;
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
  remove(id: string): Promise<void>;
}

export interface Store {
  readonly kind: 'memory' | 'redis';
  readonly incidents: IncidentStore;
  readonly timeline: TimelineStore;
  readonly dedupe: DedupeStore;
  readonly locks: LockStore;
  /** The time-ordered set behind break-glass grants and SLA reminders (a Redis sorted set). */
  readonly schedule: ScheduleStore;
  /** Resolves when the backend answers; throws CodedError('store_unavailable') otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
