import { CodedError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import type { Step } from '../playbooks/schema.js';
import type { ActionRunner } from './action-runner.js';
import { type EngineDeps, nowIso } from './state.js';
import type { StepRunner } from './step-runner.js';

// Undoing what a step applied, newest first, through each action's revert — and the two-person
// release of containment: a responder asks, an approver who is not the requester decides.

export class Release {
  readonly #d: EngineDeps;
  readonly #actions: ActionRunner;
  readonly #steps: StepRunner;

  constructor(deps: EngineDeps, actions: ActionRunner, steps: StepRunner) {
    this.#d = deps;
    this.#actions = actions;
    this.#steps = steps;
  }

  async request(incident: Incident, step: Step, actor: string, requestKey: string): Promise<Incident> {
    const state = incident.steps.find((s) => s.id === step.id);
    if (!state?.actions.some((a) => a.status === 'applied' || a.status === 'verified')) {
      throw new CodedError(
        'command_invalid',
        `step ${step.id} of ${incident.id} has applied nothing to release`,
      );
    }
    if (incident.pendingRevert) return incident;
    await this.#d.journal.record({
      incident,
      kind: 'approval.requested',
      summary: `Release of step ${step.id} requested; an approver other than ${actor} must decide`,
      details: { step: step.id, release: true },
      actor,
      key: `${step.id}:release-requested:${requestKey}`,
    });
    return this.#d.journal.mutate(incident.id, (d) => {
      d.pendingRevert = { stepId: step.id, requestedBy: actor, at: nowIso(this.#d.clock) };
    });
  }

  /** Record the decision (the gate has already allowed `actor`); approval reverts the step. */
  async decide(
    incident: Incident,
    step: Step,
    actor: string,
    decision: 'approve' | 'deny',
  ): Promise<Incident> {
    const pending = incident.pendingRevert!;
    await this.#d.journal.record({
      incident,
      kind: decision === 'approve' ? 'approval.granted' : 'approval.denied',
      summary: `${decision === 'approve' ? 'Approved' : 'Denied'} the release of step ${pending.stepId}`,
      details: { step: pending.stepId, release: true },
      actor,
      key: `${pending.stepId}:release:${pending.at}:${decision}:${actor}`,
    });
    await this.#d.journal.mutate(incident.id, (d) => {
      delete d.pendingRevert;
    });
    if (decision === 'deny') return this.#d.journal.get(incident.id);
    const reverted = await this.revert(incident.id, step, actor);
    return ['contained', 'containment_incomplete'].includes(reverted.status)
      ? this.#steps.setStatus(reverted, 'acknowledged', actor, `step ${pending.stepId} released`)
      : reverted;
  }

  /** Undo what `step` applied, newest first. */
  async revert(id: string, step: Step, actor: string): Promise<Incident> {
    let incident = await this.#d.journal.get(id);
    const state = incident.steps.find((s) => s.id === step.id);
    if (!state) throw new CodedError('command_invalid', `step ${step.id} has not run`);
    for (const a of [...state.actions].reverse()) {
      incident = await this.#actions.revert(incident, step, a.key, actor);
    }
    return incident;
  }
}
