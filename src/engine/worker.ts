import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/store.js';
import { Timers } from './timers.js';

// One pass of the worker every replica runs: take what the schedule says is due (queued playbook
// runs, runs whose process died, SLA reminders) and do it. Any replica may run a pass; each item goes
// to one of them.

export interface WorkDone {
  advanced: number;
  reminders: number;
  failed: number;
}

export async function workPass(
  d: { timers: Timers; store: Store; log: Logger; advance: (incidentId: string) => Promise<unknown> },
  now: number,
): Promise<WorkDone> {
  const done = { advanced: 0, reminders: 0, failed: 0 };
  // One item at a time: an item leased but not yet started when the process dies would otherwise
  // wait out its lease instead of coming back after resumeAfter. A leased item is not due again
  // within this pass, so the loop ends.
  for (let n = 0; n < Timers.perPass; n++) {
    const item = await d.timers.leaseOne(now);
    if (!item) break;
    try {
      const kind = d.timers.kind(item);
      if (kind === 'advance') {
        await d.advance(String(item.data.incidentId));
        done.advanced += 1;
      } else if (kind === 'sla') {
        if (await d.timers.fireSla(item)) done.reminders += 1;
      }
      // advance removes its own item once nothing is in flight; the rest are done now.
      if (kind !== 'advance') await d.store.schedule.remove(item.id);
    } catch (err) {
      done.failed += 1;
      // Left leased: it comes back after the lease, on whichever replica is free then.
      d.log.warn({ err, item: item.id }, 'scheduled work failed; it will be retried');
    }
  }
  return done;
}
