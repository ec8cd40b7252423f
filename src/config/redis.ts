import { z } from 'zod';
import { DurationText } from '../domain/duration.js';
import { CodedError, type FieldIssue } from '../domain/errors.js';
import {
  MASTER_NAME,
  MAX_NODES,
  parseRedisTarget,
  REDIS_HOST,
  type RedisTarget,
  redactRedisUrl,
} from '../domain/redis-target.js';
import type { Secret } from './secret.js';

// The config file's redis: block. Besides how the store behaves (WAIT, timeouts) it may name a
// Sentinel set or a Cluster field by field, in ioredis's own words (sentinels/name/db/
// sentinelUsername, the Cluster's startup nodes), as an alternative to REDIS_URL. Passwords never
// go in the file: REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD, like every other secret, come from
// the environment. Either form ends in the same RedisTarget (domain/redis-target.ts).

const node = (defaultPort: number) =>
  z.strictObject({
    host: z.string().regex(REDIS_HOST, { error: 'expected a host name or an IPv4/IPv6 address (no port)' }),
    port: z.number().int().min(1).max(65535).default(defaultPort),
  });

const nodes = (defaultPort: number) => z.array(node(defaultPort)).min(1).max(MAX_NODES);

export const RedisConfig = z
  .strictObject({
    /** Replicas that must hold a recorded alert before /alerts answers 202 (Redis WAIT); 0: the master's word. */
    waitReplicas: z.number().int().min(0).max(5).default(0),
    /** How long recordAlert waits for them; past it the sender is told 503 and retries. */
    waitTimeout: DurationText.default(500),
    /** Any one store call fails with store_unavailable after this long. */
    commandTimeout: DurationText.default(2_000),
    /** The Sentinels watching the master (ioredis `sentinels`; port default 26379). */
    sentinels: nodes(26379).optional(),
    /** The master's name as the Sentinels know it (ioredis `name`); required with sentinels. */
    name: z
      .string()
      .regex(MASTER_NAME, { error: 'expected letters, digits, dot, dash and underscore (1-64)' })
      .optional(),
    /** The database number on the Sentinel-watched master (default 0). */
    db: z.number().int().min(0).max(99_999).optional(),
    /** The Sentinels' own ACL user, if they have one (its password: REDIS_SENTINEL_PASSWORD). */
    sentinelUsername: z.string().min(1).max(256).optional(),
    /** Seed nodes of a Redis Cluster (ioredis `new Cluster(startupNodes)`; port default 6379). */
    cluster: nodes(6379).optional(),
    /** The data nodes' ACL user (its password: REDIS_PASSWORD). */
    username: z.string().min(1).max(256).optional(),
    /** TLS to the data nodes (and, with sentinels, to the Sentinels too). */
    tls: z.boolean().optional(),
  })
  .superRefine((r, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (r.waitTimeout >= r.commandTimeout) {
      issue(
        'waitTimeout',
        'waitTimeout must be shorter than commandTimeout (the WAIT is part of one store call)',
      );
    }
    if (r.sentinels && r.cluster) issue('cluster', 'expected either sentinels or cluster, not both');
    if (r.sentinels && r.name === undefined) {
      issue('sentinels', 'expected name (the master name, e.g. mymaster) next to sentinels');
    }
    for (const field of ['name', 'db', 'sentinelUsername'] as const) {
      if (!r.sentinels && r[field] !== undefined) issue(field, 'only with sentinels');
    }
    for (const field of ['username', 'tls'] as const) {
      if (!r.sentinels && !r.cluster && r[field] !== undefined) {
        issue(field, 'only with sentinels or cluster (a single server takes these in REDIS_URL)');
      }
    }
  });
export type RedisConfig = z.infer<typeof RedisConfig>;

const SECRET_FIELDS = { password: 'REDIS_PASSWORD', sentinelPassword: 'REDIS_SENTINEL_PASSWORD' } as const;

/**
 * A password written in the file's redis: block, refused before the schema sees it: the schema's
 * own refusal would show the value, and this one must not. Paths as `lineOf` reads them.
 */
export function secretsInFile(data: unknown): FieldIssue[] {
  const redis = (data as { redis?: unknown } | null)?.redis;
  if (redis === null || typeof redis !== 'object') return [];
  return Object.entries(SECRET_FIELDS)
    .filter(([field]) => Object.hasOwn(redis, field))
    .map(([field, env]) => ({
      path: `redis.${field}`,
      message: `a password never goes in the config file: set ${env} in the environment`,
    }));
}

/** The environment's part: REDIS_URL and the passwords the redis: block's topology takes. */
export interface RedisSecrets {
  redisUrl?: Secret;
  redisPassword?: Secret;
  redisSentinelPassword?: Secret;
}

function refuse(issues: FieldIssue[]): never {
  throw new CodedError('config_invalid', 'the Redis to use is named inconsistently', { issues });
}

/**
 * Which Redis the store talks to: REDIS_URL, or the redis: block's sentinels/cluster, or none (the
 * embedded store). Both at once is refused rather than one silently winning: an operator who set
 * one and forgot the other would otherwise run against a Redis they did not mean.
 */
export function redisTarget(redis: RedisConfig, env: RedisSecrets): RedisTarget | undefined {
  const topology = redis.sentinels ? 'sentinels' : redis.cluster ? 'cluster' : undefined;
  const url = env.redisUrl?.reveal();
  const issues: FieldIssue[] = [];
  if (url && topology) {
    issues.push({
      path: 'REDIS_URL',
      message: `names the Redis, and so does redis.${topology} in the config file: keep one of the two`,
      value: redactRedisUrl(url),
    });
  }
  if (env.redisPassword && !topology) {
    issues.push({
      path: 'REDIS_PASSWORD',
      message: 'only with redis.sentinels or redis.cluster in the config file (REDIS_URL holds its own)',
    });
  }
  if (env.redisSentinelPassword && topology !== 'sentinels') {
    issues.push({
      path: 'REDIS_SENTINEL_PASSWORD',
      message: 'only with redis.sentinels in the config file (REDIS_URL takes ?sentinelPassword= instead)',
    });
  }
  if (issues.length > 0) refuse(issues);
  if (url) return parseRedisTarget(url);
  const password = env.redisPassword?.reveal();
  const creds = {
    tls: redis.tls ?? false,
    ...(redis.username ? { username: redis.username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
  if (redis.cluster) return { kind: 'cluster', nodes: redis.cluster, ...creds };
  if (!redis.sentinels || redis.name === undefined) return undefined;
  const sentinelPassword = env.redisSentinelPassword?.reveal();
  return {
    kind: 'sentinel',
    sentinels: redis.sentinels,
    name: redis.name,
    db: redis.db ?? 0,
    ...creds,
    ...(redis.sentinelUsername ? { sentinelUsername: redis.sentinelUsername } : {}),
    ...(sentinelPassword !== undefined ? { sentinelPassword } : {}),
  };
}
