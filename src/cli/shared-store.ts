import type { Config } from '../config/load.js';
import { redisTarget } from '../config/redis.js';
import { CodedError } from '../domain/errors.js';
import { createRedisStore } from '../store/redis.js';
import type { Store } from '../store/store.js';

// The CLI commands that read what `serve` keeps (timeline, grants) open the same Redis it does: the
// one REDIS_URL names, or the Sentinels or Cluster nodes of the config's redis: block.

/** Run `fn` on the store `serve` uses; `what` says what lives there, for the error when none is named. */
export async function withSharedStore<T>(
  config: Config,
  what: string,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const target = redisTarget(config.redis, config.env);
  if (!target) {
    throw new CodedError(
      'config_invalid',
      `REDIS_URL is not set, and the config names no redis.sentinels or redis.cluster. ${what} live in the Redis that \`serve\` uses: name the same one.`,
    );
  }
  const store = createRedisStore({ target, commandTimeoutMs: config.redis.commandTimeout });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
