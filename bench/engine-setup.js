// The engine as `drill` and `serve` build it (the shipped playbooks and contracts, no cluster, no
// Slack), over a memory store or a Redis store under a private key prefix that is deleted afterwards.
import { Redis } from 'ioredis';
import { loadConfig } from '../dist/config/load.js';
import { allowAll } from '../dist/domain/access.js';
import { createCore, createRegistry, loadPolicy } from '../dist/main.js';
import { systemClock } from '../dist/observability/clock.js';
import { silentLogger } from '../dist/observability/logger.js';
import { createMemoryStore } from '../dist/store/memory.js';
import { createRedisStore } from '../dist/store/redis.js';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Config (embedded defaults, no REDIS_URL so nothing picks a store for us), registry and policy. */
export async function loadParts() {
  const { REDIS_URL: _ignored, ...env } = process.env;
  const config = await loadConfig(env);
  const registry = createRegistry();
  const policy = await loadPolicy(config, registry);
  if (policy.errors.length > 0) {
    throw new Error(`the shipped playbooks or contracts have errors: ${policy.errors.map((e) => e.message)}`);
  }
  return { config, registry, policy };
}

/**
 * The engine and the intake stage over `store`, as `serve` builds them, with deterministic unique
 * incident ids: generating random ids (and retrying the rare collision) is not what is measured here.
 */
export function coreOver(parts, store, tag = `bench-${process.pid}`) {
  const core = createCore({
    config: parts.config,
    store,
    registry: parts.registry,
    policy: parts.policy,
    cluster: undefined,
    log: silentLogger(),
    clock: systemClock,
    access: allowAll,
  });
  let n = 0;
  return { ...core, store, recorder: { ...core.recorder, newId: () => `EGR-BENCH-${tag}-${++n}` } };
}

export function memoryStore() {
  return createMemoryStore({ clock: systemClock });
}

/** Only loopback Redis: a benchmark never sends traffic off the machine. */
function loopbackOnly(url) {
  const host = new URL(url).hostname;
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host);
}

/**
 * A Redis store under a fresh key prefix, or `{ skipped }` with the reason when Redis does not
 * answer (or is not on 127.0.0.1). `cleanup()` deletes every key under the prefix and closes it.
 */
export async function redisStore(label) {
  if (!loopbackOnly(REDIS_URL)) return { skipped: `REDIS_URL ${REDIS_URL} is not on 127.0.0.1` };
  const prefix = `egress-responder-bench:${label}:${process.pid}-${Date.now()}:`;
  const store = createRedisStore({ url: REDIS_URL, keyPrefix: prefix, commandTimeoutMs: 2000 });
  try {
    await Promise.race([
      store.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2000)),
    ]);
  } catch (err) {
    await store.close().catch(() => undefined);
    return { skipped: `Redis at ${REDIS_URL} does not answer (${err.message})` };
  }
  return {
    store,
    prefix,
    async cleanup() {
      await store.close().catch(() => undefined);
      const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      let deleted = 0;
      try {
        await admin.connect();
        let cursor = '0';
        do {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) deleted += await admin.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        admin.disconnect();
      }
      return deleted;
    },
  };
}
