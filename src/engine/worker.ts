import type { Logger } from '../observability/logger.js';
import type { ScheduledItem, Store } from '../store/store.js';
import { type ItemKind, Timers } from './timers.js';

// One pass of the worker every replica runs: take what the schedule says is due (queued playbook
// runs, runs whose process died, SLA reminders, break-glass grants) and do it. Any replica may run a
// pass; each item goes to one of them. What an item does is looked up by its kind in a table the
// caller gives: the engine brings its own rows, the composition root adds the others (break-glass),
// so the engine never imports what it schedules for.

/** What runs one kind of schedule item. */
export interface ItemHandler {
  /** Do the item; true when it did something worth counting. */
  run(item: ScheduledItem): Promise<boolean>;
  /**
   * The handler moves or removes its own item (a playbook run keeps it while in flight; a grant
   * moves it to its next deadline). Otherwise the item is removed once `run` resolves.
   */
  keepsItem?: boolean;
}

export type ItemHandlers = Partial<Record<ItemKind, ItemHandler>>;

export interface WorkDone {
  advanced: number;
  reminders: number;
  grants: number;
  failed: number;
}

/** Which WorkDone counter a kind adds to. */
const counterOf: Record<ItemKind, Exclude<keyof WorkDone, 'failed'>> = {
  advance: 'advanced',
  sla: 'reminders',
  grant: 'grants',
  // A drill's later wave records alerts, which queue playbook runs.
  'drill-wave': 'advanced',
};

/** The engine's own rows: playbook runs (which remove their own item once nothing is in flight) and SLA reminders. */
export function engineHandlers(
  timers: Timers,
  advance: (incidentId: string) => Promise<unknown>,
): Record<'advance' | 'sla', ItemHandler> {
  return {
    advance: {
      async run(item) {
        await advance(String(item.data.incidentId));
        return true;
      },
      keepsItem: true,
    },
    sla: { run: (item) => timers.fireSla(item) },
  };
}

export async function workPass(
  d: { timers: Timers; store: Store; log: Logger; handlers: ItemHandlers },
  now: number,
): Promise<WorkDone> {
  const done: WorkDone = { advanced: 0, reminders: 0, grants: 0, failed: 0 };
  // One item at a time: an item leased but not yet started when the process dies would otherwise
  // wait out its lease instead of coming back after resumeAfter. A leased item is not due again
  // within this pass, so the loop ends.
  for (let n = 0; n < Timers.perPass; n++) {
    const item = await d.timers.leaseOne(now);
    if (!item) break;
    const kind = d.timers.kind(item);
    if (kind === undefined) {
      // Not an item this build schedules (a typo, a downgrade): nothing will ever run it.
      d.log.warn({ item: item.id }, 'schedule item of an unknown kind dropped');
      await d.store.schedule.remove(item.id);
      continue;
    }
    const handler = d.handlers[kind];
    if (!handler) {
      // A known kind this process was not given a handler for (a CLI drill has no break-glass):
      // left leased, so a replica that has one takes it after the lease. Never dropped: a grant's
      // expiry must not vanish because the wrong process looked at it.
      d.log.warn({ item: item.id, kind }, 'no handler for this schedule item here; left for another worker');
      continue;
    }
    try {
      if (await handler.run(item)) done[counterOf[kind]] += 1;
      if (!handler.keepsItem) await d.store.schedule.remove(item.id);
    } catch (err) {
      done.failed += 1;
      // Left leased: it comes back after the lease, on whichever replica is free then.
      d.log.warn({ err, item: item.id }, 'scheduled work failed; it will be retried');
    }
  }
  return done;
}
