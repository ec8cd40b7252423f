import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../domain/redis-target.js';
import { type ScriptedRedis, scripts } from './redis-scripts.js';

// The ioredis client for a target: one server, a Sentinel-watched master, or a Cluster, all set up
// to fail fast (no offline queue, a command timeout) and never to replay a command whose connection
// dropped — it may have run, and intake tells its senders which (see redis-connection.ts).

/** Reconnect quickly at first, then every second or so (with jitter), forever. */
export function retryDelay(times: number): number {
  return Math.min(times * 200, 1000) + Math.floor(Math.random() * 100);
}

/** After a failover the old master may answer as a replica: reconnect (to the new one), no resend. */
function reconnectOnError(err: Error): boolean {
  return err.message.startsWith('READONLY');
}

type Retry = (times: number) => number | null;

function common(timeoutMs: number, retry: Retry): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    autoResendUnfulfilledCommands: false,
    retryStrategy: retry,
    reconnectOnError,
    // Grace for a socket to close after disconnect(); ioredis arms it even for a socket already closed.
    disconnectTimeout: Math.min(timeoutMs, 500),
    connectionName: 'egress-responder',
  };
}

function credentials(t: { username?: string; password?: string; tls: boolean }): RedisOptions {
  return {
    ...(t.username ? { username: t.username } : {}),
    ...(t.password !== undefined ? { password: t.password } : {}),
    ...(t.tls ? { tls: {} } : {}),
  };
}

type Build<K extends RedisTarget['kind']> = (
  t: Extract<RedisTarget, { kind: K }>,
  ms: number,
  retry: Retry,
) => unknown;

const build: { [K in RedisTarget['kind']]: Build<K> } = {
  single: (t, ms, retry) => new Redis(t.url, common(ms, retry)),
  sentinel: (t, ms, retry) =>
    new Redis({
      ...common(ms, retry),
      ...credentials(t),
      sentinels: t.sentinels,
      name: t.name,
      db: t.db,
      ...(t.sentinelUsername ? { sentinelUsername: t.sentinelUsername } : {}),
      ...(t.sentinelPassword !== undefined ? { sentinelPassword: t.sentinelPassword } : {}),
      ...(t.tls ? { enableTLSForSentinelMode: true } : {}),
      sentinelRetryStrategy: retryDelay,
      // Reconnect as soon as the Sentinels announce a new master, not when the old one times out.
      failoverDetector: true,
    }),
  cluster: (t, ms, retry) =>
    new Cluster(t.nodes, {
      // Node connections open on first use; without this queue every command that meets one still
      // connecting is refused. The store's own budget (redis-connection.ts cmd) bounds the wait, and
      // it refuses at once while the Cluster as a whole is down.
      enableOfflineQueue: true,
      clusterRetryStrategy: retryDelay,
      slotsRefreshTimeout: ms,
      // A command whose node connection closed may have run: report it, never resend it (the
      // single-server rule). Refusals the server answered (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) ran
      // nothing, and ioredis retries those.
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      // Find a promoted replica within about a second even when no command hits a MOVED.
      slotsRefreshInterval: 1000,
      redisOptions: { ...common(ms, retry), ...credentials(t) },
    }),
};

/** `retry`: the reconnection schedule; forever (retryDelay) but in the test that makes ioredis give up. */
export function createClient(
  target: RedisTarget,
  timeoutMs: number,
  retry: Retry = retryDelay,
): ScriptedRedis {
  const make = build[target.kind] as Build<RedisTarget['kind']>;
  // Cluster and Redis share the command interface the store uses (Commander); one type for both.
  const client = make(target, timeoutMs, retry) as ScriptedRedis;
  for (const [name, def] of Object.entries(scripts)) client.defineCommand(name, def);
  return client;
}
