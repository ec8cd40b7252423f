// Bounded retries with exponential backoff and jitter, honouring Retry-After. Generic: the caller says
// which failures are transient (see errors.ts `transientReason`).

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Backoff before the 2nd attempt; doubles each time (before jitter). */
  baseMs: number;
  /** Upper bound of one backoff. */
  capMs: number;
  /** Per-attempt timeout: a request slower than this is abandoned and counts as a transient failure. */
  timeoutMs: number;
  /** A Retry-After longer than this is not waited for: the call fails at once. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 4,
  baseMs: 200,
  capMs: 5_000,
  timeoutMs: 15_000,
  maxRetryAfterMs: 30_000,
};

export interface Transient {
  /** One line for logs and the final error: `503 ServiceUnavailable`, `ECONNREFUSED`, `timed out after 15000 ms`. */
  reason: string;
  /** From a Retry-After header. */
  retryAfterMs?: number;
}

export interface RetryEvent {
  /** The attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  reason: string;
}

/** Thrown when every attempt failed transiently (or Retry-After asked for too long a wait). */
export class RetriesExhausted extends Error {
  readonly attempts: number;
  readonly lastError: unknown;
  readonly reason: string;
  constructor(attempts: number, reason: string, lastError: unknown) {
    super(`gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} (last: ${reason})`);
    this.name = 'RetriesExhausted';
    this.attempts = attempts;
    this.reason = reason;
    this.lastError = lastError;
  }
}

/**
 * "Equal jitter": half the exponential delay fixed, half random, so retries from many replicas spread
 * out but never collapse to zero. `failedAttempt` is 1 for the wait before the second attempt.
 */
export function backoffDelay(
  failedAttempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** (failedAttempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function withRetry<T>(
  op: (attempt: number) => Promise<T>,
  opts: {
    policy: RetryPolicy;
    /** Undefined for a permanent failure (rethrown as is). */
    classify: (err: unknown) => Transient | undefined;
    signal?: AbortSignal;
    onRetry?: (e: RetryEvent) => void;
    random?: () => number;
  },
): Promise<T> {
  const { policy } = opts;
  const attempts = Math.max(1, policy.attempts);
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const transient = opts.classify(err);
      if (!transient) throw err;
      if (attempt >= attempts) throw new RetriesExhausted(attempt, transient.reason, err);
      let delayMs: number;
      if (transient.retryAfterMs !== undefined) {
        if (transient.retryAfterMs > policy.maxRetryAfterMs) {
          throw new RetriesExhausted(
            attempt,
            `${transient.reason}; the server asked to retry after ${Math.round(transient.retryAfterMs / 1000)} s`,
            err,
          );
        }
        delayMs = transient.retryAfterMs;
      } else {
        delayMs = backoffDelay(attempt, policy, opts.random);
      }
      opts.onRetry?.({ attempt, delayMs, reason: transient.reason });
      await sleep(delayMs, opts.signal);
    }
  }
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
