import { Cluster, Redis } from 'ioredis';
import { parseRedisTarget } from '../../../src/domain/redis-target.js';
import { createRedisStore } from '../../../src/store/redis.js';
import { keyBase } from '../../../src/store/redis-keys.js';
import type { Store } from '../../../src/store/store.js';
import { uniquePrefix } from '../../support/redis.js';
import { describeArtifactContract } from './artifacts-contract.js';
import { describeStoreContract } from './contract.js';
import { describeGrantContract } from './grants-contract.js';
import { describeHostsContract } from './hosts-contract.js';

// The four store contract suites against a Redis topology the test file started (Cluster,
// Sentinel): the same assertions the single server and the memory store pass. Each store gets its
// own prefix; the topology is thrown away after the file, keys and all.

/** A plain client for the target, to damage a record behind the store's back. */
function rawClient(url: string): Redis | Cluster {
  const target = parseRedisTarget(url);
  if (target.kind === 'cluster') return new Cluster(target.nodes);
  if (target.kind === 'sentinel') return new Redis({ sentinels: target.sentinels, name: target.name });
  return new Redis(target.url);
}

export function describeContractsOn(label: string, url: () => string): void {
  const prefix = uniquePrefix(`store-${label}`);
  let n = 0;
  const open = (opts: { distinctHostsCap?: number } = {}): Store =>
    createRedisStore({ url: url(), keyPrefix: `${prefix}${n++}:`, commandTimeoutMs: 5000, ...opts });
  const prefixes = new WeakMap<Store, string>();
  const make = async (opts?: { distinctHostsCap?: number }) => {
    const store = open(opts ?? {});
    prefixes.set(store, `${prefix}${n - 1}:`);
    return store;
  };
  const dispose = async (store: Store) => store.close();
  describeStoreContract(label, make, dispose);
  describeArtifactContract(label, make, dispose);
  describeHostsContract(label, make, dispose);
  describeGrantContract(label, make, dispose, async (store, id, raw) => {
    const client = rawClient(url());
    try {
      await client.set(`${keyBase(prefixes.get(store) ?? '')}grant:${id}`, raw);
    } finally {
      await client.quit();
    }
  });
}
