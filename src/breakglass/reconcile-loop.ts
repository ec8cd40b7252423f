import type { Logger } from '../observability/logger.js';
import type { Breakglass } from './service.js';

// The reconciler's loop on every replica: a pass at start-up (grants whose expiry passed while no
// process was up) and every `breakglass.reconcileEvery`; the service's lock lets one replica act.

/**
 * Reconcile break-glass grants against the store and the cluster at start-up and every `everyMs`, on
 * every replica (the service's lock lets one act at a time). One pass at a time.
 */
export function startGrantReconciler(
  breakglass: Pick<Breakglass, 'reconcile'>,
  log: Logger,
  everyMs: number,
) {
  let running: Promise<void> | undefined;
  const pass = (): Promise<void> =>
    (running ??= breakglass
      .reconcile()
      .then(() => undefined)
      .catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'break-glass reconcile failed; retried next period'),
      )
      .finally(() => {
        running = undefined;
      }));
  const timer = setInterval(() => void pass(), everyMs);
  timer.unref();
  void pass(); // at start-up: grants whose expiry passed while no process was up
  return {
    runNow: pass,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
