import type { Redis } from 'ioredis';
import { CodedError } from '../domain/errors.js';
import type { RedisTarget } from '../domain/redis-target.js';
import { closedStore, type StoreLog } from './codec.js';
import { createClient, retryDelay } from './redis-client.js';
import type { ScriptedRedis } from './redis-scripts.js';

// One connection to Redis that fails fast and loud: no offline queue, a command timeout, and every
// client error a CodedError('store_unavailable') within about the timeout, saying whether the command
// left this process — while the client keeps reconnecting in the background, so the store recovers by
// itself when Redis returns.

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * `sent`: whether the command left this process. A command never sent certainly did not run; one
 * sent without an answer may have (intake tells its senders which).
 */
function unavailable(op: string, err: unknown, sent: boolean): CodedError {
  if (err instanceof CodedError) return err;
  return new CodedError(
    'store_unavailable',
    'the incident store (Redis) is not answering; try again shortly',
    {
      cause: err,
      details: { op, reason: errorMessage(err), sent },
    },
  );
}

export function unexpected(op: string, reply: unknown): CodedError {
  return new CodedError('internal', `unexpected reply from Redis to ${op}`, {
    userSafe: false,
    details: { op, reply },
  });
}

export function asStrings(op: string, reply: unknown): string[] {
  if (!Array.isArray(reply) || !reply.every((x) => typeof x === 'string')) throw unexpected(op, reply);
  return reply;
}

/**
 * ioredis parks the commands that were on a connection when it dropped (`prevCommandQueue`) and, with
 * autoResendUnfulfilledCommands off, discards them on reconnect without settling them: each keeps its
 * commandTimeout timer alive. Reject them now (the callers already have their answer from `cmd`). This
 * reaches into ioredis internals, so it does nothing unless the shape is the expected one (a Cluster
 * has no such queue: its node connections never reconnect by themselves and reject what they held).
 */
function settleUnfulfilled(client: Redis, err: Error): void {
  const internals = client as unknown as {
    prevCommandQueue?: {
      length: number;
      shift(): { command?: { reject?: (e: Error) => void } } | undefined;
    } | null;
  };
  const queue = internals.prevCommandQueue;
  if (!queue || typeof queue.shift !== 'function' || typeof queue.length !== 'number') return;
  internals.prevCommandQueue = null;
  for (let item = queue.shift(); item; item = queue.shift()) item.command?.reject?.(err);
}

export interface RedisConnection {
  client: ScriptedRedis;
  /** One Redis call: answered, or CodedError('store_unavailable') within about the timeout. */
  cmd<T>(op: string, run: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function openRedis(opts: {
  target: RedisTarget;
  timeoutMs: number;
  log?: StoreLog;
  /**
   * The reconnection schedule (default: forever). Only a test sets it, to one that gives up: that
   * is the one way to make ioredis end a client for good on demand and reach the restart below.
   */
  retryStrategy?: (times: number) => number | null;
}): RedisConnection {
  const { timeoutMs, log } = opts;
  const client = createClient(opts.target, timeoutMs, opts.retryStrategy);

  let closed = false;
  let troubled = false;
  client.on('error', (err: unknown) => {
    if (troubled || closed) return;
    troubled = true;
    log?.warn({ err: errorMessage(err) }, 'redis store: connection trouble; reconnecting in the background');
  });
  client.on('ready', () => {
    if (!troubled) return;
    troubled = false;
    log?.warn({}, 'redis store: connection restored');
  });

  // ioredis gives a client up for good ('end') when a Sentinel reconnection is cut short by its own
  // failover detector (a +switch-master while it asks the Sentinels: seen in the failover storm
  // test). Not closed by us, the store must not stay down: start the client again.
  client.on('end', () => {
    if (closed) return;
    log?.warn({}, 'redis store: the client gave up reconnecting; starting it again');
    const again = setTimeout(() => {
      if (!closed && client.status === 'end') client.connect().catch(() => {});
    }, retryDelay(1));
    again.unref();
  });

  // Commands in flight when the connection drops fail at once instead of waiting for their timeout.
  const inflight = new Set<(err: Error) => void>();
  client.on('close', () => {
    const lost = new Error('connection to Redis lost while the command was in flight');
    const waiting = [...inflight];
    inflight.clear();
    for (const reject of waiting) reject(lost);
    settleUnfulfilled(client, lost);
  });

  // One shared promise for the connection attempt under way, however many calls wait for it.
  let attempt: Promise<void> | undefined;
  function connectionAttempt(): Promise<void> {
    if (!attempt) {
      const current = new Promise<void>((resolve, reject) => {
        const done = (err?: Error): void => {
          client.off('ready', onReady);
          client.off('close', onClose);
          attempt = undefined;
          if (err) reject(err);
          else resolve();
        };
        const onReady = (): void => done();
        const onClose = (): void => done(new Error('connection attempt failed'));
        client.on('ready', onReady);
        client.on('close', onClose);
      });
      current.catch(() => {});
      attempt = current;
    }
    return attempt;
  }

  /**
   * One Redis call: answered, or CodedError('store_unavailable') within about commandTimeoutMs. While the
   * client is between reconnection attempts it fails at once; while an attempt is under way it waits for
   * it, and that wait counts against the same budget as the command.
   */
  async function cmd<T>(op: string, run: () => Promise<T>): Promise<T> {
    if (closed) throw closedStore('redis');
    const status = client.status;
    const connecting = status === 'wait' || status === 'connecting' || status === 'connect';
    if (status !== 'ready' && !connecting) throw unavailable(op, new Error(`connection is ${status}`), false);
    let onLost: (err: Error) => void = () => {};
    const lost = new Promise<never>((_, reject) => {
      onLost = reject;
    });
    // Connecting: the wait counts against the command's budget. Connected: commandTimeout answers
    // first on one server; on a Cluster a command ioredis retries (TRYAGAIN, CLUSTERDOWN) has no
    // timeout of its own, so this bound is the one that holds.
    const budget = setTimeout(
      () => onLost(new Error(`no answer within ${timeoutMs} ms`)),
      connecting ? timeoutMs : timeoutMs + 250,
    );
    let pending: Promise<T> | undefined;
    try {
      if (connecting) await Promise.race([connectionAttempt(), lost]);
      inflight.add(onLost);
      pending = run();
      return await Promise.race([pending, lost]);
    } catch (err) {
      pending?.catch(() => {}); // it settles later (timeout); nobody is waiting for it any more
      throw unavailable(op, err, pending !== undefined);
    } finally {
      clearTimeout(budget);
      inflight.delete(onLost);
    }
  }

  return {
    client,
    cmd,
    async close() {
      if (closed) return;
      closed = true;
      if (client.status === 'ready') {
        // not answering: dropping the connection below does instead
        await client.quit().catch(() => undefined);
      }
      // Also stops the background reconnection, and closes what quit() leaves open: a Sentinel
      // client's subscriptions to the Sentinels (its failover detector) would keep retrying forever.
      client.disconnect();
    },
  };
}
