import { errorCode } from './common.js';

// A 409 (k8s_conflict) on a write means someone else wrote the object between our read and our
// write. The answer is never to send the same write blindly: read the object again, check it is
// still the one the responder confirmed, and write again, a bounded number of times. 429/5xx are
// not handled here: kube-requests already retried them.

/** How many times a conflicting write is tried in all (the first try included). */
export const CONFLICT_ATTEMPTS = 3;

export type Tried<R> =
  | { ok: true; value: R; attempts: number }
  | { ok: false; error: unknown; attempts: number; conflict: boolean };

/**
 * Runs `step` (which must read, check and write: each try starts from a fresh read) until it does
 * not fail with a conflict, at most `attempts` times. Never throws: the caller records the result.
 */
export async function retryOnConflict<R>(
  step: (attempt: number) => Promise<R>,
  attempts = CONFLICT_ATTEMPTS,
): Promise<Tried<R>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await step(attempt), attempts: attempt };
    } catch (error) {
      const conflict = errorCode(error) === 'k8s_conflict';
      if (!conflict || attempt >= attempts) return { ok: false, error, attempts: attempt, conflict };
    }
  }
}

/** The value, or the error thrown again: for the writes whose failure fails the action. */
export function valueOrThrow<R>(tried: Tried<R>): R {
  if (tried.ok) return tried.value;
  throw tried.error;
}
