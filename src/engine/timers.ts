import { isActive, settledStepStatuses } from '../domain/incident.js';
import type { ScheduledItem } from '../store/store.js';
import { slaWaitingFor } from './sla-text.js';
import { type EngineDeps, nowIso } from './state.js';

// Everything that must happen at a time, whatever happens to the process that arranged it, lives in
// the store's schedule (a sorted set by due time) and is taken by whichever replica's worker leases it:
//   advance:<incident>      a playbook run to start or resume (queued with a new incident; kept, due
//                           `resumeAfterMs` ahead, while a run is in flight, so a run whose process died
//                           is resumed by any replica, with no click)
//   sla:<incident>:<step>   a step's SLA: a reminder if the step is still open then
//   grant:<grant>           a break-glass grant's next deadline (its request's expiry, its expiry, a
//                           removal to retry); run by the break-glass service, which moves the item on
//   drill-wave:<run>:<n>    a Slack drill's later wave of alerts, sent at its time by whichever replica
//                           is up then (drills/live.ts), so a restart in between does not drop it

export const itemKinds = ['advance', 'sla', 'grant', 'drill-wave'] as const;
export type ItemKind = (typeof itemKinds)[number];

const kindOf = (item: ScheduledItem): ItemKind | undefined =>
  (itemKinds as readonly unknown[]).includes(item.data.kind) ? (item.data.kind as ItemKind) : undefined;

export class Timers {
  readonly #d: EngineDeps;

  constructor(deps: EngineDeps) {
    this.#d = deps;
  }

  get resumeAfterMs(): number {
    return this.#d.resumeAfterMs ?? 30_000;
  }

  startSla(incidentId: string, stepId: string, slaMs: number): Promise<void> {
    return this.#d.store.schedule.put({
      id: `sla:${incidentId}:${stepId}`,
      dueAt: this.#d.clock.now() + slaMs,
      data: { kind: 'sla', incidentId, stepId },
    });
  }

  stopSla(incidentId: string, stepId: string): Promise<void> {
    return this.#d.store.schedule.remove(`sla:${incidentId}:${stepId}`);
  }

  /** A run is starting: if its process dies, the incident is resumed after resumeAfterMs. */
  watch(incidentId: string): Promise<void> {
    return this.#d.store.schedule.put({
      id: `advance:${incidentId}`,
      dueAt: this.#d.clock.now() + this.resumeAfterMs,
      data: { kind: 'advance', incidentId },
    });
  }

  /** The run reached a state that needs nobody (it waits for people, or is done). */
  unwatch(incidentId: string): Promise<void> {
    return this.#d.store.schedule.remove(`advance:${incidentId}`);
  }

  /** At most this many items per worker pass, so one pass cannot starve the replica. */
  static readonly perPass = 20;

  /**
   * Take the next due item, leased for resumeAfterMs: a worker that dies with it gives it back then
   * (and a run that starts moves its own item on with `watch`).
   */
  async leaseOne(now: number): Promise<ScheduledItem | undefined> {
    const [item] = await this.#d.store.schedule.lease(now, this.resumeAfterMs, 1);
    return item;
  }

  kind(item: ScheduledItem): ItemKind | undefined {
    return kindOf(item);
  }

  /** An SLA reminder, if the step is still open. True when one was recorded. */
  async fireSla(item: ScheduledItem): Promise<boolean> {
    const incidentId = String(item.data.incidentId);
    const stepId = String(item.data.stepId);
    const incident = await this.#d.store.incidents.get(incidentId);
    const state = incident?.steps.find((s) => s.id === stepId);
    if (!incident || !isActive(incident) || !state || settledStepStatuses.includes(state.status))
      return false;
    const def = this.#d
      .playbooks()
      .find((p) => p.playbook.id === incident.playbook.id)
      ?.playbook.steps.find((s) => s.id === stepId);
    const waitingFor = slaWaitingFor(def, state) ?? state.status;
    // Who is told is the presenter's choice (the commander, else the responders); the event says
    // who was in charge when it fired, so the reminder names them even if the thread is rebuilt later.
    await this.#d.journal.record({
      incident,
      kind: 'sla.breached',
      summary: `SLA breached: step "${def?.title ?? stepId}" is waiting for ${waitingFor}`,
      details: {
        step: stepId,
        status: state.status,
        waitingFor,
        ...(incident.commander ? { commander: incident.commander } : {}),
      },
      key: `${stepId}:sla`,
    });
    await this.#d.journal.mutate(incidentId, (d) => {
      const s = d.steps.find((x) => x.id === stepId);
      if (s) s.slaNotifiedAt = nowIso(this.#d.clock);
    });
    return true;
  }
}
