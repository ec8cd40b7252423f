import type { Logger } from '../observability/logger.js';
import type { ItemHandlers, WorkDone } from './worker.js';

// The loop every replica runs over the worker's passes (worker.ts): on an interval, at once when
// woken, and again while a pass found a full batch. Started by the composition root.

/** What the loop drives: the engine's `work` (typed by shape, so this module needs no engine import). */
export interface Workable {
  work(now: number | undefined, handlers: ItemHandlers): Promise<WorkDone>;
}

/**
 * The loop that takes due work from the store's schedule: queued playbook runs, runs whose process
 * died (resumed with no click), SLA reminders. One pass at a time; `wake` asks for one at once.
 */
export function startWorker(engine: Workable, log: Logger, intervalMs: number, handlers: ItemHandlers) {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const pass = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        const done = await engine.work(undefined, handlers).catch((err: unknown) => {
          log.warn({ err: (err as Error).message }, 'scheduled work failed; retrying on the next pass');
          return undefined;
        });
        if (done && done.advanced + done.reminders + done.grants + done.failed >= 20) again = true; // more may be due
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void pass(), intervalMs);
  timer.unref();
  void pass(); // at start-up: whatever an earlier process left due
  return {
    wake: () => void pass(),
    runNow: pass,
    async stop(graceMs: number) {
      stopped = true;
      clearInterval(timer);
      if (running) await Promise.race([running, new Promise((r) => setTimeout(r, graceMs).unref())]);
    },
  };
}
