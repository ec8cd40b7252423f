import type { AccessPolicy } from '../domain/access.js';
import type { GrantKind } from '../domain/grant.js';
import type { NamespacePolicy } from '../domain/namespace-policy.js';
import type { Journal } from '../journal/journal.js';
import type { Cluster } from '../k8s/cluster.js';
import type { Clock } from '../observability/clock.js';
import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/store.js';

// What every part of break-glass is given, and the few constants they share.

/**
 * The `breakglass` section of the config as parsed (config/schema.ts `BreakglassConfig`; durations in
 * ms). Spelled out here because breakglass/ may not import config/ (ARCHITECTURE.md): the
 * composition root passes `config.breakglass`, and the compiler checks the two agree.
 */
export interface BreakglassConfig {
  approvals: number;
  requestTtl: number;
  maxDuration: Record<GrantKind, number>;
  accessRoles: readonly string[];
  fqdnPolicy: 'none' | 'cilium';
  kyvernoCleanup: boolean;
  reconcileEvery: number;
}

export interface BreakglassDeps {
  /** Grant records, their per-grant locks and their schedule items. */
  store: Store;
  /** Every lifecycle event lands in the incident's timeline through it. */
  journal: Journal;
  clock: Clock;
  log: Logger;
  /** None: previews and requests still work for drills (planned only); a real grant cannot be applied. */
  cluster?: Cluster;
  config: BreakglassConfig;
  namespaces: NamespacePolicy;
  access: AccessPolicy;
}

/** One grant changes under this lock: two approvers, a revoke, the expiry and a reconciler all race for it. */
export const grantLockKey = (id: string): string => `grant:${id}`;
/** Short and kept alive by the store's heartbeat while an apply or a removal runs. */
export const GRANT_LOCK = { ttlMs: 15_000, waitMs: 20_000 } as const;
/** Exactly one replica reconciles at a time; the others skip (waitMs 0) and try at their next period. */
export const RECONCILE_LOCK_KEY = 'breakglass:reconcile';
export const RECONCILE_LOCK = { ttlMs: 30_000, waitMs: 0 } as const;

/** The grant's one schedule item: its next deadline (request expiry, expiry, a removal retry). */
export const grantItemId = (id: string): string => `grant:${id}`;
export const GRANT_ITEM_KIND = 'grant';

/** Server-side apply's field manager: the same as the containment actions. */
export const FIELD_MANAGER = 'egress-responder';

/** An approved grant whose apply did not finish (a replica died) is taken up again this soon. */
export const APPLY_RETRY_MS = 30_000;

/** Removal retries: 5 s, 10 s, 20 s … at most 5 minutes apart, for as long as it takes. */
export function removalBackoffMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 5 * 60_000);
}

export const SYSTEM = 'system';
