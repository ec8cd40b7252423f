// What a Slack request asks for runs after its ack, through this queue: a bounded number at a time,
// in arrival order, and past a bound none at all. Slack gives every request 3 s for its ack; without
// a bound, 200 concurrent commands each reading the store, rendering and calling Slack back share the
// event loop with the acks still to be sent, and the last acks miss the deadline (seen: 3.6 s at 200
// concurrent `/egress help`). Queued, the acks go first; shed, the person is told to retry, and nothing
// was done.

export interface WorkQueueOptions {
  /** How many requests' work runs at once. */
  concurrency: number;
  /** How many may wait beyond those; one more is shed. */
  maxQueued: number;
  /**
   * True while Slack requests are still waiting for their ack (the server counts them): no new work
   * starts then, for at most HOLD_MAX_MS at a time, so a burst's acks are not written behind the
   * work of the acks before them.
   */
  holdWhile?: () => boolean;
}

/**
 * The longest new work waits for acks; after such a wait it runs unheld as long again, so a steady
 * stream of requests shares the loop with their work instead of starving it.
 */
export const HOLD_MAX_MS = 250;
/** How often held work looks again. */
const HOLD_POLL_MS = 2;

export interface WorkQueue {
  /** Run `work` in its turn, or return false at once when the queue is full (then it never runs). */
  offer(work: () => Promise<void>): boolean;
  /** Running and waiting now. */
  readonly size: { running: number; queued: number };
  /** Resolves when nothing runs or waits (for shutdown). */
  idle(): Promise<void>;
}

export const DEFAULT_WORK_QUEUE: WorkQueueOptions = { concurrency: 16, maxQueued: 1000 };

export function createWorkQueue(opts: WorkQueueOptions = DEFAULT_WORK_QUEUE): WorkQueue {
  const waiting: (() => Promise<void>)[] = [];
  let running = 0;
  let idleWaiters: (() => void)[] = [];

  const settle = () => {
    if (running === 0 && waiting.length === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const resolve of w) resolve();
    }
  };

  let heldSince: number | undefined;
  let unheldUntil = 0;
  let rechecking = false;
  /** Whether to hold new work now; when so, look again shortly. */
  const holding = (): boolean => {
    const now = performance.now();
    if (now < unheldUntil || !opts.holdWhile?.()) {
      heldSince = undefined;
      return false;
    }
    heldSince ??= now;
    if (now - heldSince >= HOLD_MAX_MS) {
      heldSince = undefined;
      unheldUntil = now + HOLD_MAX_MS;
      return false;
    }
    if (!rechecking) {
      rechecking = true;
      setTimeout(() => {
        rechecking = false;
        next();
      }, HOLD_POLL_MS);
    }
    return true;
  };

  const next = () => {
    if (waiting.length === 0 || running >= opts.concurrency || holding()) return;
    while (running < opts.concurrency && waiting.length > 0) {
      const work = waiting.shift()!;
      running++;
      // A failure is the work's own to report (each handler answers the person); the queue goes on.
      work()
        .catch(() => undefined)
        .finally(() => {
          running--;
          next();
          settle();
        });
    }
  };

  return {
    offer(work) {
      if (waiting.length >= opts.maxQueued) return false;
      waiting.push(work);
      // The first turn waits a macrotask, so acks already received are written before any work starts.
      setImmediate(next);
      return true;
    },
    get size() {
      return { running, queued: waiting.length };
    },
    idle() {
      if (running === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

/**
 * Slack requests arrived and not yet answered: the server tells `arrived` of each and calls what it
 * returns once it is answered; `any` is the queue's `holdWhile`.
 */
export function unansweredRequests(): { arrived: () => () => void; any: () => boolean } {
  let count = 0;
  return {
    arrived: () => {
      count++;
      let answered = false;
      return () => {
        if (answered) return;
        answered = true;
        count--;
      };
    },
    any: () => count > 0,
  };
}

/** What a shed request is told: nothing was done, and when to try again. */
export const BUSY_TEXT =
  'egress-responder is busy with many requests at once and did nothing with this one: please try again in a few seconds.';
