import { CodedError } from '../domain/errors.js';
import {
  canTransition,
  type Incident,
  type IncidentStatus,
  isActive,
  type StepState,
  settledStepStatuses,
  statusLabels,
} from '../domain/incident.js';
import type { Step } from '../playbooks/schema.js';
import type { ActionRunner } from './action-runner.js';
import { factsOf, unmetCondition } from './conditions.js';
import { approvalAsk, approvalSatisfied } from './gates.js';
import {
  actionKey,
  actionState,
  type EngineDeps,
  mutateStep,
  nowIso,
  stepState,
  unfinished,
} from './state.js';
import { isOptional, stepOutcome } from './step-outcome.js';
import type { Timers } from './timers.js';

// The playbook as a resumable state machine: each step is planned whole (the preview people confirm),
// read-only actions run at once, gates come before anything destructive, then the checklist. A step
// reached again after a crash carries on from its stored state.

export class StepRunner {
  readonly #d: EngineDeps;
  readonly #actions: ActionRunner;
  readonly #timers: Timers;
  readonly #stepDef: (incident: Incident, stepId: string) => Step;

  constructor(
    deps: EngineDeps,
    actions: ActionRunner,
    timers: Timers,
    stepDef: (incident: Incident, stepId: string) => Step,
  ) {
    this.#d = deps;
    this.#actions = actions;
    this.#timers = timers;
    this.#stepDef = stepDef;
  }

  /** Run the playbook forward until a step waits for people, fails, or all steps settle. */
  async advance(id: string, steps: readonly Step[], actor: string): Promise<Incident> {
    let incident = await this.#d.journal.get(id);
    if (!isActive(incident)) return incident;
    // Hard mode acts at once: urgent steps (containment) do not wait for the triage checklist.
    if (incident.mode === 'hard') {
      for (const step of steps.filter((s) => s.urgent)) {
        incident = await this.ensureState(incident, step);
        if (!settledStepStatuses.includes(stepState(incident, step.id).status)) {
          incident = await this.run(incident, step, actor);
        }
      }
    }
    for (const step of steps) {
      incident = await this.ensureState(incident, step);
      const state = stepState(incident, step.id);
      if (state.status === 'failed') break;
      if (settledStepStatuses.includes(state.status)) continue;
      incident = await this.run(incident, step, actor);
      const after = stepState(incident, step.id);
      if (!settledStepStatuses.includes(after.status) || after.status === 'failed') break;
    }
    return incident;
  }

  /** After a person's input on a step: carry that step on (wherever it is in the order), then the rest. */
  async continueFrom(id: string, stepId: string, steps: readonly Step[], actor: string): Promise<Incident> {
    const incident = await this.#d.journal.get(id);
    const state = incident.steps.find((s) => s.id === stepId);
    if (isActive(incident) && state && !settledStepStatuses.includes(state.status)) {
      await this.run(incident, this.#stepDef(incident, stepId), actor);
    }
    return this.advance(id, steps, actor);
  }

  async ensureState(incident: Incident, step: Step, extra: Partial<StepState> = {}): Promise<Incident> {
    if (incident.steps.some((s) => s.id === step.id)) return incident;
    const at = nowIso(this.#d.clock);
    return this.#d.journal.mutate(incident.id, (draft) => {
      if (draft.steps.some((s) => s.id === step.id)) return;
      draft.steps.push({
        id: step.id,
        status: 'pending',
        checklist: {},
        approvals: [],
        actions: step.actions.map((ref) => ({
          key: actionKey(ref),
          uses: ref.uses,
          status: 'pending',
          dryRun: draft.drill,
          attempts: 0,
          updatedAt: at,
        })),
        ...extra,
      });
    });
  }

  async run(incident: Incident, step: Step, actor: string): Promise<Incident> {
    const done = this.#actions.passes.begin(incident.id, step.id); // its actions share their reads
    try {
      return await this.#pass(incident, step, actor);
    } finally {
      done();
    }
  }

  async #pass(incident: Incident, step: Step, actor: string): Promise<Incident> {
    const key = step.id;
    let state = stepState(incident, step.id);

    if (state.status === 'pending') {
      const unmet = unmetCondition(step.when, factsOf(incident));
      if (unmet) {
        await this.#record(
          incident,
          'step.skipped',
          `Step "${step.title}" skipped: ${unmet}`,
          step.id,
          `${key}:skipped`,
        );
        return this.#mutate(incident.id, step.id, (s) => {
          s.status = 'skipped';
          s.reason = unmet;
          s.endedAt = nowIso(this.#d.clock);
        });
      }
      await this.#record(incident, 'step.started', `Step "${step.title}" started`, step.id, `${key}:started`);
      incident = await this.#mutate(incident.id, step.id, (s) => {
        s.status = 'running';
        s.startedAt = nowIso(this.#d.clock);
        s.requestedBy ??= actor;
      });
      if (step.sla !== undefined) await this.#timers.startSla(incident.id, step.id, step.sla);
      this.#checkpoint(`${step.id}:started`);
      state = stepState(incident, step.id);
    }

    // 1. Plan everything first: the preview people confirm is the whole step. Plans only read the
    //    cluster, so they are made together (one round trip's wait, not one per action) and recorded in
    //    order, stopping where the sequence would have stopped.
    const planning = incident;
    const prepared = await Promise.all(
      step.actions.map((ref) => this.#actions.preparePlan(planning, step, ref, actor)),
    );
    for (const [i, ref] of step.actions.entries()) {
      incident = await this.#actions.recordPlan(incident, step, ref, actor, prepared[i]!);
      if (this.#blocked(incident, step, ref)) return this.#fail(incident, step);
    }

    // 2. Non-destructive actions (checks, notes, exports) run straight away.
    for (const ref of step.actions) {
      if (this.#actions.def(ref.uses).destructive) continue;
      incident = await this.#actions.apply(incident, step, ref, actor);
      if (this.#blocked(incident, step, ref)) return this.#fail(incident, step);
    }

    // 3. Gates before anything destructive.
    const destructive = () =>
      step.actions.filter(
        (ref) =>
          this.#actions.def(ref.uses).destructive &&
          unfinished.includes(actionState(incident, step.id, actionKey(ref)).status),
      );
    if (incident.mode === 'observe' && !state.adhoc) {
      for (const ref of destructive()) {
        incident = await this.#actions.skip(
          incident,
          step.id,
          actionKey(ref),
          `${ref.uses} not applied (observe mode: recorded, not applied)`,
          'observe mode: recorded, not applied',
        );
      }
    }
    state = stepState(incident, step.id);
    const pendingDestructive = destructive();
    if (step.approval && !approvalSatisfied(step, state)) {
      return this.#wait(incident, step, 'awaiting_approval', approvalAsk(step, state));
    }
    if (pendingDestructive.length > 0 && incident.mode === 'soft' && !state.confirmedBy) {
      return this.#wait(
        incident,
        step,
        'awaiting_confirmation',
        `Step "${step.title}" waits for a responder to confirm: ${pendingDestructive.map((r) => r.uses).join(', ')}`,
      );
    }
    if (waitingStatuses.includes(state.status)) {
      incident = await this.#mutate(incident.id, step.id, (s) => {
        s.status = 'running';
      });
    }

    // 4. Destructive actions, in order: exactly what people confirmed, or said so. Every one of them
    //    is held against the cluster before any is applied, so a drift never leaves a step half done.
    if (state.confirmedBy || state.approvals.length > 0) {
      const drift: string[] = [];
      for (const ref of pendingDestructive) {
        const then = incident.mode === 'hard' ? 'apply it' : 'ask again';
        const checked = await this.#actions.checkDrift(incident, step, ref, actor, then);
        incident = checked.incident;
        if (this.#blocked(incident, step, ref)) return this.#fail(incident, step);
        drift.push(...checked.drift.filter((d) => !drift.includes(d)));
      }
      if (drift.length > 0 && incident.mode !== 'hard') return this.#askAgain(incident, step, drift);
    }
    for (const ref of pendingDestructive) {
      incident = await this.#actions.apply(incident, step, ref, actor);
      if (this.#blocked(incident, step, ref)) return this.#fail(incident, step);
    }

    // 5. People's checklist.
    state = stepState(incident, step.id);
    const open = step.checklist.filter((item) => !Object.hasOwn(state.checklist, item.id));
    if (open.length > 0) {
      return this.#wait(
        incident,
        step,
        'awaiting_input',
        `Step "${step.title}" waits for its checklist: ${open.map((i) => i.text).join('; ')}`,
      );
    }
    return this.#complete(incident, step);
  }

  /** The cluster moved since people confirmed: their confirmation and approvals no longer hold. */
  async #askAgain(incident: Incident, step: Step, drift: string[]): Promise<Incident> {
    const state = stepState(incident, step.id);
    const status = step.approval ? 'awaiting_approval' : 'awaiting_confirmation';
    incident = await this.#mutate(incident.id, step.id, (s) => {
      delete s.confirmedBy;
      s.approvals = [];
      s.status = 'running';
    });
    return this.#wait(
      incident,
      step,
      status,
      `Step "${step.title}" asks again: the cluster changed since the preview was ${state.confirmedBy ? `confirmed by ${state.confirmedBy.by}` : 'approved'} (${drift.join('; ')}); check the new preview`,
    );
  }

  /** A required action failed: the step stops. An optional one's failure is recorded and the step goes on. */
  #blocked(incident: Incident, step: Step, ref: Step['actions'][number]): boolean {
    const key = actionKey(ref);
    return actionState(incident, step.id, key).status === 'failed' && !isOptional(step, key);
  }

  async #fail(incident: Incident, step: Step): Promise<Incident> {
    const failed = stepState(incident, step.id).actions.filter(
      (a) => a.status === 'failed' && !isOptional(step, a.key),
    );
    const reason = `action failed: ${failed.map((a) => a.uses).join(', ')}; retry the step or skip it`;
    await this.#record(
      incident,
      'step.failed',
      `Step "${step.title}" failed (${reason})`,
      step.id,
      `${step.id}:failed:${failed.map((a) => a.attempts).join('.')}`,
    );
    return this.#mutate(incident.id, step.id, (s) => {
      s.status = 'failed';
      s.reason = reason;
    });
  }

  async #wait(
    incident: Incident,
    step: Step,
    status: StepState['status'],
    summary: string,
  ): Promise<Incident> {
    const state = stepState(incident, step.id);
    if (state.status === status) return incident;
    const replans = state.actions.reduce((n, a) => n + (a.replans ?? 0), 0);
    await this.#d.journal.record({
      incident,
      kind: status === 'awaiting_approval' ? 'approval.requested' : 'step.waiting',
      summary,
      details: { step: step.id, waiting: status },
      key: `${step.id}:${status}:${state.approvals.length}${replans > 0 ? `:replan-${replans}` : ''}`,
    });
    return this.#mutate(incident.id, step.id, (s) => {
      s.status = status;
    });
  }

  /**
   * The step is done. What it says about the incident (`sets_status`) is stored in the same
   * compare-and-set as the step's completion: a process dying in between would otherwise leave the
   * step completed and the status unchanged for good (a resumed run skips settled steps). Both events
   * are recorded first under keys of the step, so a replay records them once and then stores both.
   */
  async #complete(incident: Incident, step: Step): Promise<Incident> {
    const state = stepState(incident, step.id);
    const { failedChecks, notApplied, noRequiredLayer, result } = stepOutcome(step, state, this.#d.registry);
    const incomplete = failedChecks.length > 0 || noRequiredLayer;
    const next = incomplete ? step.sets_status?.incomplete : step.sets_status?.success;
    const from = incident.status;
    const to = next && notApplied.length === 0 && next !== from ? next : undefined;
    if (to) refuseTransition(from, to);
    const checks = failedChecks.length > 0 ? ` with ${failedChecks.length} failed verification(s)` : '';
    const said =
      result?.state === 'planned_only'
        ? ` ${result.line}`
        : ` completed${checks}${result ? `: ${result.line}` : ''}`;
    await this.#d.journal.record({
      incident,
      kind: 'step.completed',
      summary: `Step "${step.title}"${said}`,
      details: { step: step.id, incomplete, ...(result ? { result } : {}) },
      key: `${step.id}:completed`,
    });
    if (to) {
      await this.#d.journal.record({
        incident,
        kind: 'status.changed',
        summary: `Status: ${statusLabels[from]} → ${statusLabels[to]} (step "${step.title}" completed)`,
        details: { from, to, step: step.id },
        key: `${step.id}:completed:status`,
      });
    } else if (next && next !== from) {
      await this.#d.journal.record({
        incident,
        kind: 'status.changed',
        summary: `Status stays ${statusLabels[from]}: ${notApplied.map((a) => `${a.uses} (${a.reason ?? 'skipped'})`).join(', ')} not applied`,
        details: { step: step.id, from, to: from, notSet: next },
        key: `${step.id}:status-not-set`,
      });
    }
    incident = await this.#d.journal.mutate(
      incident.id,
      (d) => {
        const s = d.steps.find((x) => x.id === step.id);
        if (!s) throw new CodedError('internal', `step ${step.id} has no state`, { userSafe: false });
        s.status = 'completed';
        s.endedAt = nowIso(this.#d.clock);
        if (result) s.result = result;
        if (to) {
          refuseTransition(d.status, to);
          d.status = to;
        }
      },
      incident,
    );
    await this.#timers.stopSla(incident.id, step.id);
    this.#checkpoint(`${step.id}:completed`);
    return incident;
  }

  /**
   * Move the incident to `to`. Recorded first (keyed by the version it moves from, so a replay after
   * a crash records it once), then stored.
   */
  async setStatus(incident: Incident, to: IncidentStatus, actor: string, why: string): Promise<Incident> {
    const from = incident.status;
    if (from === to) return incident;
    refuseTransition(from, to);
    await this.#d.journal.record({
      incident,
      kind: 'status.changed',
      summary: `Status: ${statusLabels[from]} → ${statusLabels[to]} (${why})`,
      details: { from, to },
      actor,
      key: `status:${from}->${to}:v${incident.version}`,
    });
    return this.#d.journal.mutate(
      incident.id,
      (d) => {
        // Re-read after a conflict: someone may have closed it meanwhile.
        refuseTransition(d.status, to);
        d.status = to;
      },
      incident,
    );
  }

  #mutate(id: string, stepId: string, fn: (s: StepState) => void): Promise<Incident> {
    return mutateStep(this.#d.journal, id, stepId, fn);
  }

  async #record(
    incident: Incident,
    kind: 'step.skipped' | 'step.started' | 'step.failed',
    summary: string,
    step: string,
    key: string,
  ) {
    await this.#d.journal.record({ incident, kind, summary, details: { step }, key });
  }

  #checkpoint(name: string): void {
    this.#d.checkpoint?.(name);
  }
}

const waitingStatuses: readonly StepState['status'][] = ['awaiting_confirmation', 'awaiting_approval'];

function refuseTransition(from: IncidentStatus, to: IncidentStatus): void {
  if (!canTransition(from, to)) {
    throw new CodedError(
      'transition_invalid',
      `an incident that is ${statusLabels[from]} cannot become ${statusLabels[to]}`,
    );
  }
}
