import type { Grant } from '../domain/grant.js';
import {
  checkGrantUpdate,
  checkNewGrant,
  grantConflict,
  grantNotFound,
  isLiveGrant,
  newestGrantFirst,
} from './grants-codec.js';
import type { GrantStore } from './store.js';

// The memory store's grants: validated and deep-copied in and out, as the Redis store decodes them.

export function memoryGrants(open: () => void): GrantStore {
  const grants = new Map<string, Grant>();
  const copy = <T>(value: T): T => structuredClone(value);
  return {
    async get(id) {
      open();
      const g = grants.get(id);
      return g ? copy(g) : undefined;
    },
    async create(grant) {
      open();
      const checked = checkNewGrant(grant);
      const existing = grants.get(checked.id);
      if (existing) return { created: false, grant: copy(existing) };
      grants.set(checked.id, copy(checked));
      return { created: true, grant: copy(checked) };
    },
    async update(next, expectedVersion) {
      open();
      const stored = grants.get(next.id);
      if (!stored) throw grantNotFound(next.id);
      if (stored.version !== expectedVersion) throw grantConflict(next.id, expectedVersion, stored.version);
      const checked = checkGrantUpdate(next, expectedVersion);
      grants.set(checked.id, copy(checked));
      return copy(checked);
    },
    async list(opts = {}) {
      open();
      return [...grants.values()]
        .filter(
          (g) => (!opts.live || isLiveGrant(g)) && (!opts.incidentId || g.incidentId === opts.incidentId),
        )
        .sort(newestGrantFirst)
        .slice(0, opts.limit ?? Number.POSITIVE_INFINITY)
        .map(copy);
    },
  };
}
