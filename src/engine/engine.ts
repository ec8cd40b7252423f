import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type {
  ActionContext,
  ActionDefinition,
  Json,
  Outcome,
  Plan,
  Verification,
} from '../actions/define.js';
import type { ActionRegistry } from '../actions/registry.js';
import type { AccessPolicy, Role } from '../domain/access.js';
import type { LoadedContract } from '../domain/contract.js';
import { asCodedError, CodedError } from '../domain/errors.js';
import {
  type ActionState,
  canTransition,
  type Incident,
  type IncidentStatus,
  isActive,
  type StepState,
  settledStepStatuses,
  statusLabels,
} from '../domain/incident.js';
import type { NamespacePolicy } from '../domain/namespace-policy.js';
import { SYSTEM_ACTOR, type TimelineEvent, type TimelineKind } from '../domain/timeline.js';
import type { Cluster } from '../k8s/cluster.js';
import { type Clock, isoAt } from '../observability/clock.js';
import type { LoadedPlaybook, Step } from '../playbooks/schema.js';
import type { Store } from '../store/store.js';
import { factsOf, unmetCondition } from './conditions.js';

/** Told about every recorded event and every stored incident change (the Slack layer renders them). */
export interface EngineObserver {
  onEvent?(event: TimelineEvent, incident: Incident): void | Promise<void>;
  onIncident?(incident: Incident): void | Promise<void>;
}

export interface EngineDeps {
  store: Store;
  registry: ActionRegistry;
  playbooks: () => readonly LoadedPlaybook[];
  contracts: () => readonly LoadedContract[];
  cluster: Cluster | undefined;
  clock: Clock;
  log: Logger;
  access: AccessPolicy;
  namespaces: NamespacePolicy;
  observers?: EngineObserver[];
  /** Per-incident lock: one replica acts on an incident at a time. */
  lock?: { ttlMs: number; waitMs: number };
  /**
   * Called at every persistence boundary with its name. Production leaves it out; the crash tests
   * throw from it to stop the engine exactly there and prove a fresh engine resumes correctly.
   */
  checkpoint?: (name: string) => void;
}

export interface AdvanceOptions {
  actor?: string;
}

const EMPTY_PLAYBOOK_ID = '(none)';

/** Action states the engine still has work for: apply (planned, interrupted applying) or verify (applied). */
const unfinished: readonly ActionState['status'][] = ['planned', 'applying', 'applied'];

/**
 * Runs incidents through their playbooks as a resumable state machine. Bookkeeping lives here, not in
 * actions: every transition is recorded in the timeline (deterministic ids, so a replay after a crash
 * records nothing twice), step state is persisted before a side effect and its result after.
 */
export class Engine {
  readonly #d: EngineDeps;
  readonly #lock: { ttlMs: number; waitMs: number };

  constructor(deps: EngineDeps) {
    this.#d = deps;
    this.#lock = deps.lock ?? { ttlMs: 5 * 60_000, waitMs: 30_000 };
  }

  get deps(): EngineDeps {
    return this.#d;
  }

  // ---------------------------------------------------------------- reading

  async get(id: string): Promise<Incident> {
    const incident = await this.#d.store.incidents.get(id);
    if (!incident) throw new CodedError('incident_not_found', `no incident ${id}`);
    return incident;
  }

  playbookOf(incident: Incident): LoadedPlaybook | undefined {
    return this.#d.playbooks().find((p) => p.playbook.id === incident.playbook.id);
  }

  // ---------------------------------------------------------------- the state machine

  /** Run the incident's playbook forward until a step waits for people, fails, or all steps settle. */
  async advance(id: string, opts: AdvanceOptions = {}): Promise<Incident> {
    return this.#withIncidentLock(id, () => this.#advanceLocked(id, opts.actor ?? SYSTEM_ACTOR));
  }

  async #advanceLocked(id: string, actor: string): Promise<Incident> {
    let incident = await this.get(id);
    if (!isActive(incident)) return incident;
    const loaded = this.playbookOf(incident);
    if (!loaded) return incident;
    // Hard mode acts at once: urgent steps (containment) do not wait for the triage checklist.
    if (incident.mode === 'hard') {
      for (const step of loaded.playbook.steps.filter((s) => s.urgent)) {
        incident = await this.#ensureStepState(incident, step);
        if (!settledStepStatuses.includes(stepState(incident, step.id).status)) {
          incident = await this.#runStep(incident, step, actor);
        }
      }
    }
    for (const step of loaded.playbook.steps) {
      incident = await this.#ensureStepState(incident, step);
      const state = stepState(incident, step.id);
      if (state.status === 'failed') break;
      if (settledStepStatuses.includes(state.status)) continue;
      incident = await this.#runStep(incident, step, actor);
      const after = stepState(incident, step.id);
      if (!settledStepStatuses.includes(after.status) || after.status === 'failed') break;
    }
    return incident;
  }

  async #ensureStepState(incident: Incident, step: Step): Promise<Incident> {
    if (incident.steps.some((s) => s.id === step.id)) return incident;
    return this.#mutate(incident.id, (draft) => {
      if (draft.steps.some((s) => s.id === step.id)) return;
      draft.steps.push({
        id: step.id,
        status: 'pending',
        checklist: {},
        approvals: [],
        actions: step.actions.map((ref) => ({
          key: ref.id ?? ref.uses,
          uses: ref.uses,
          status: 'pending',
          dryRun: draft.drill,
          attempts: 0,
          updatedAt: this.#now(),
        })),
      });
    });
  }

  async #runStep(incident: Incident, step: Step, actor: string): Promise<Incident> {
    const key = `${incident.id}:${step.id}`;
    let state = stepState(incident, step.id);

    if (state.status === 'pending') {
      const unmet = unmetCondition(step.when, factsOf(incident));
      if (unmet) {
        await this.#record(
          incident,
          'step.skipped',
          `Step "${step.title}" skipped: ${unmet}`,
          { step: step.id },
          {
            id: `${key}:skipped`,
          },
        );
        return this.#mutateStep(incident.id, step.id, (s) => {
          s.status = 'skipped';
          s.reason = unmet;
          s.endedAt = this.#now();
        });
      }
      await this.#record(
        incident,
        'step.started',
        `Step "${step.title}" started`,
        { step: step.id },
        {
          id: `${key}:started`,
        },
      );
      incident = await this.#mutateStep(incident.id, step.id, (s) => {
        s.status = 'running';
        s.startedAt = this.#now();
        s.requestedBy ??= actor;
      });
      if (step.sla !== undefined) {
        await this.#d.store.schedule.put({
          id: `sla:${key}`,
          dueAt: this.#d.clock.now() + step.sla,
          data: { kind: 'sla', incidentId: incident.id, stepId: step.id },
        });
      }
      this.#checkpoint(`${step.id}:started`);
      state = stepState(incident, step.id);
    }

    // 1. Plan everything first: the preview people confirm is the whole step.
    for (const ref of step.actions) {
      incident = await this.#planAction(incident, step, ref.id ?? ref.uses, ref.with, ref.when, actor);
      if (actionState(incident, step.id, ref.id ?? ref.uses).status === 'failed')
        return this.#failStep(incident, step);
    }

    // 2. Non-destructive actions (checks, notes, exports) run straight away.
    for (const ref of step.actions) {
      const def = this.#d.registry.require(ref.uses);
      if (def.destructive) continue;
      incident = await this.#applyAction(incident, step, ref.id ?? ref.uses, ref.with, actor);
      if (actionState(incident, step.id, ref.id ?? ref.uses).status === 'failed')
        return this.#failStep(incident, step);
    }

    // 3. Gates before anything destructive.
    const destructive = step.actions.filter((ref) => {
      const st = actionState(incident, step.id, ref.id ?? ref.uses);
      return this.#d.registry.require(ref.uses).destructive && unfinished.includes(st.status);
    });
    if (destructive.length > 0 && incident.mode === 'observe') {
      for (const ref of destructive) {
        const k = ref.id ?? ref.uses;
        const reason = 'observe mode: recorded, not applied';
        await this.#record(
          incident,
          'action.skipped',
          `${ref.uses} not applied (${reason})`,
          actionDetails(step.id, k),
          {
            id: `${key}:${k}:skipped`,
          },
        );
        incident = await this.#mutateAction(incident.id, step.id, k, (a) => {
          a.status = 'skipped';
          a.reason = reason;
        });
      }
    }
    state = stepState(incident, step.id);
    const stillDestructive = destructive.filter((ref) => {
      return unfinished.includes(actionState(incident, step.id, ref.id ?? ref.uses).status);
    });

    if (step.approval && !approvalSatisfied(step, state)) {
      return this.#wait(incident, step, 'awaiting_approval', this.#approvalAsk(step, state));
    }
    if (stillDestructive.length > 0 && incident.mode === 'soft' && !state.confirmedBy) {
      return this.#wait(
        incident,
        step,
        'awaiting_confirmation',
        `Step "${step.title}" waits for a responder to confirm: ${stillDestructive.map((r) => r.uses).join(', ')}`,
      );
    }

    // 4. Destructive actions, in order.
    for (const ref of stillDestructive) {
      incident = await this.#applyAction(incident, step, ref.id ?? ref.uses, ref.with, actor);
      if (actionState(incident, step.id, ref.id ?? ref.uses).status === 'failed')
        return this.#failStep(incident, step);
    }

    // 5. People's checklist.
    state = stepState(incident, step.id);
    const open = step.checklist.filter((item) => !state.checklist[item.id]);
    if (open.length > 0) {
      return this.#wait(
        incident,
        step,
        'awaiting_input',
        `Step "${step.title}" waits for its checklist: ${open.map((i) => i.text).join('; ')}`,
      );
    }

    return this.#completeStep(incident, step);
  }

  async #planAction(
    incident: Incident,
    step: Step,
    key: string,
    rawParams: Record<string, unknown>,
    when: Step['when'],
    actor: string,
  ): Promise<Incident> {
    const st = actionState(incident, step.id, key);
    if (st.status !== 'pending') return incident;
    const id = `${incident.id}:${step.id}:${key}`;
    const unmet = unmetCondition(when, factsOf(incident));
    if (unmet) {
      await this.#record(
        incident,
        'action.skipped',
        `${st.uses} skipped: ${unmet}`,
        actionDetails(step.id, key),
        {
          id: `${id}:skipped`,
        },
      );
      return this.#mutateAction(incident.id, step.id, key, (a) => {
        a.status = 'skipped';
        a.reason = unmet;
      });
    }
    const def = this.#d.registry.require(st.uses);
    let plan: Plan;
    try {
      plan = await def.plan(
        this.#context(incident, step.id, key, actor, st.dryRun),
        def.params.parse(rawParams),
      );
    } catch (err) {
      return this.#actionFailed(incident, step, key, 'plan', err);
    }
    // A read-only action's plan is its finding; the applied record says it once. Destructive plans are
    // the preview people confirm, so they are recorded on their own.
    return this.#settleAction(
      incident,
      step.id,
      key,
      def.destructive
        ? {
            kind: 'action.planned',
            summary: `${dryTag(st.dryRun)}${st.uses} planned: ${plan.summary}`,
            details: { plan: plan as unknown as Json },
            id: `${id}:planned`,
          }
        : undefined,
      (a) => {
        a.status = 'planned';
        a.plan = plan as unknown as Json;
      },
      'planned',
    );
  }

  async #applyAction(
    incident: Incident,
    step: Step,
    key: string,
    rawParams: Record<string, unknown>,
    actor: string,
  ): Promise<Incident> {
    let st = actionState(incident, step.id, key);
    const def = this.#d.registry.require(st.uses);
    const id = `${incident.id}:${step.id}:${key}`;
    const params = def.params.parse(rawParams);

    if (st.status === 'planned' || st.status === 'applying') {
      if (def.needsCluster && !this.#d.cluster) {
        const reason = 'no cluster configured: planned only';
        await this.#record(
          incident,
          'action.skipped',
          `${st.uses} not applied (${reason})`,
          actionDetails(step.id, key),
          {
            id: `${id}:skipped`,
          },
        );
        return this.#mutateAction(incident.id, step.id, key, (a) => {
          a.status = 'skipped';
          a.reason = reason;
        });
      }
      if (st.status === 'applying') {
        await this.#record(
          incident,
          'engine.resumed',
          `${st.uses} was interrupted while applying; applying again (attempt ${st.attempts + 1}, same idempotency key)`,
          actionDetails(step.id, key),
          { id: `${id}:resumed:${st.attempts}` },
        );
      }
      incident = await this.#mutateAction(incident.id, step.id, key, (a) => {
        a.status = 'applying';
        a.attempts += 1;
      });
      this.#checkpoint(`${step.id}:${key}:applying`);
      st = actionState(incident, step.id, key);
      let outcome: Outcome;
      try {
        outcome = await def.apply(
          this.#context(incident, step.id, key, actor, st.dryRun),
          st.plan as unknown as Plan,
          params,
        );
      } catch (err) {
        return this.#actionFailed(incident, step, key, 'apply', err);
      }
      const kind: TimelineKind = outcome.status === 'applied' ? 'action.applied' : 'action.skipped';
      const verb = outcome.status === 'applied' ? (def.destructive ? 'applied' : 'done') : 'skipped';
      incident = await this.#settleAction(
        incident,
        step.id,
        key,
        {
          kind,
          summary: `${dryTag(st.dryRun)}${st.uses} ${verb}: ${outcome.summary}${outcome.reason ? ` (${outcome.reason})` : ''}`,
          details: { outcome: outcome as unknown as Json },
          id: `${id}:${outcome.status}`,
        },
        (a) => {
          a.status = outcome.status;
          a.outcome = outcome as unknown as Json;
          if (outcome.reason) a.reason = outcome.reason;
        },
        'applied',
      );
      st = actionState(incident, step.id, key);
    }

    if (st.status === 'applied' && def.verify) {
      let verification: Verification;
      try {
        verification = await def.verify(
          this.#context(incident, step.id, key, actor, st.dryRun),
          st.outcome as unknown as Outcome,
          params,
        );
      } catch (err) {
        return this.#actionFailed(incident, step, key, 'verify', err);
      }
      incident = await this.#settleAction(
        incident,
        step.id,
        key,
        {
          kind: 'action.verified',
          summary: `${dryTag(st.dryRun)}${verification.line}`,
          details: { verification: verification as unknown as Json },
          id: `${id}:verified`,
        },
        (a) => {
          a.status = 'verified';
          a.verification = verification as unknown as Json;
        },
        'verified',
      );
    }
    return incident;
  }

  /**
   * The order that makes a replay safe: record the event (its deterministic id makes a repeat a no-op),
   * then persist the action's new state, then pass the checkpoint.
   */
  async #settleAction(
    incident: Incident,
    stepId: string,
    key: string,
    event: { kind: TimelineKind; summary: string; details: Record<string, Json>; id: string } | undefined,
    patch: (a: ActionState) => void,
    boundary: string,
  ): Promise<Incident> {
    if (event) {
      await this.#record(
        incident,
        event.kind,
        event.summary,
        { ...actionDetails(stepId, key), ...event.details },
        {
          id: event.id,
        },
      );
    }
    const next = await this.#mutateAction(incident.id, stepId, key, patch);
    this.#checkpoint(`${stepId}:${key}:${boundary}`);
    return next;
  }

  async #actionFailed(
    incident: Incident,
    step: Step,
    key: string,
    phase: string,
    err: unknown,
  ): Promise<Incident> {
    const coded = asCodedError(err);
    const st = actionState(incident, step.id, key);
    const message = coded.userSafe
      ? coded.describe()
      : `internal error (see logs for incident ${incident.id})`;
    if (!coded.userSafe)
      this.#d.log.error({ err, incident: incident.id, step: step.id, action: key }, 'action failed');
    await this.#record(
      incident,
      'action.failed',
      `${dryTag(st.dryRun)}${st.uses} failed during ${phase}: ${message}`,
      { ...actionDetails(step.id, key), phase, code: coded.code },
      { id: `${incident.id}:${step.id}:${key}:failed:${st.attempts}` },
    );
    return this.#mutateAction(incident.id, step.id, key, (a) => {
      a.status = 'failed';
      a.error = { code: coded.code, message };
    });
  }

  async #failStep(incident: Incident, step: Step): Promise<Incident> {
    const failed = stepState(incident, step.id).actions.filter((a) => a.status === 'failed');
    const reason = `action failed: ${failed.map((a) => a.uses).join(', ')}; retry the step or skip it`;
    await this.#record(
      incident,
      'step.failed',
      `Step "${step.title}" failed (${reason})`,
      { step: step.id },
      {
        id: `${incident.id}:${step.id}:failed:${failed.map((a) => a.attempts).join('.')}`,
      },
    );
    return this.#mutateStep(incident.id, step.id, (s) => {
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
    const kind: TimelineKind = status === 'awaiting_approval' ? 'approval.requested' : 'step.waiting';
    await this.#record(
      incident,
      kind,
      summary,
      { step: step.id, waiting: status },
      {
        id: `${incident.id}:${step.id}:${status}:${state.approvals.length}`,
      },
    );
    return this.#mutateStep(incident.id, step.id, (s) => {
      s.status = status;
    });
  }

  #approvalAsk(step: Step, state: StepState): string {
    const rule = step.approval!;
    const have = state.approvals.filter((a) => a.decision === 'approve').length;
    const who = Array.isArray(rule.from) ? rule.from.join(', ') : rule.from;
    return `Step "${step.title}" needs ${rule.count - have} more approval(s) from ${who}${rule.allow_requester ? '' : ' (not the requester)'}`;
  }

  async #completeStep(incident: Incident, step: Step): Promise<Incident> {
    const state = stepState(incident, step.id);
    const failedChecks = state.actions.filter(
      (a) => a.verification !== undefined && (a.verification as { ok?: boolean }).ok === false,
    );
    const incomplete = failedChecks.length > 0;
    await this.#record(
      incident,
      'step.completed',
      `Step "${step.title}" completed${incomplete ? ` with ${failedChecks.length} failed verification(s)` : ''}`,
      { step: step.id, incomplete },
      { id: `${incident.id}:${step.id}:completed` },
    );
    incident = await this.#mutateStep(incident.id, step.id, (s) => {
      s.status = 'completed';
      s.endedAt = this.#now();
    });
    await this.#d.store.schedule.remove(`sla:${incident.id}:${step.id}`);
    // A status like `contained` is a claim about the world: not made when a change was only planned
    // (observe mode, no cluster) or the approvers said no.
    // (An action that ran and found itself not applicable — no mesh for an L7 block — has an outcome and does not count.)
    const notApplied = state.actions.filter(
      (a) => a.status === 'skipped' && a.outcome === undefined && this.#d.registry.get(a.uses)?.destructive,
    );
    const next = incomplete ? step.sets_status?.incomplete : step.sets_status?.success;
    if (next && notApplied.length === 0) {
      incident = await this.#setStatus(incident, next, SYSTEM_ACTOR, `step "${step.title}" completed`);
    } else if (next) {
      await this.#record(
        incident,
        'status.changed',
        `Status stays ${statusLabels[incident.status]}: ${notApplied.map((a) => `${a.uses} (${a.reason ?? 'skipped'})`).join(', ')} not applied`,
        { step: step.id, from: incident.status, to: incident.status, notSet: next },
        { id: `${incident.id}:${step.id}:status-not-set` },
      );
    }
    this.#checkpoint(`${step.id}:completed`);
    return incident;
  }

  // ---------------------------------------------------------------- people's inputs

  /** Tick a checklist item. Responders only. */
  async tick(id: string, stepId: string, itemId: string, actor: string): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      const incident = await this.#requireRole(
        id,
        actor,
        'responder',
        `tick a checklist item of step ${stepId}`,
      );
      const step = this.#stepDef(incident, stepId);
      const item = step.checklist.find((c) => c.id === itemId);
      if (!item) {
        throw new CodedError('command_invalid', `step ${stepId} has no checklist item "${itemId}"`);
      }
      const state = incident.steps.find((s) => s.id === stepId);
      if (state?.checklist[itemId]) return incident;
      await this.#record(
        incident,
        'checklist.ticked',
        `Checklist: ${item.text}`,
        { step: stepId, item: itemId },
        {
          actor,
          id: `${id}:${stepId}:tick:${itemId}`,
        },
      );
      await this.#mutateStep(id, stepId, (s) => {
        s.checklist[itemId] = { by: actor, at: this.#now() };
      });
      return this.#continueFrom(id, stepId, actor);
    });
  }

  /** A responder confirms a soft-mode step's destructive actions (after seeing the preview). */
  async confirm(id: string, stepId: string, actor: string): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      const incident = await this.#requireRole(id, actor, 'responder', `confirm step ${stepId}`);
      this.#stepDef(incident, stepId);
      const state = incident.steps.find((s) => s.id === stepId);
      if (state?.confirmedBy) return incident;
      await this.#record(
        incident,
        'confirmation.given',
        `Confirmed step ${stepId}`,
        { step: stepId },
        {
          actor,
          id: `${id}:${stepId}:confirmed`,
        },
      );
      await this.#ensureStepState(incident, this.#stepDef(incident, stepId));
      await this.#mutateStep(id, stepId, (s) => {
        s.confirmedBy = { by: actor, at: this.#now() };
        s.requestedBy = actor;
      });
      return this.#continueFrom(id, stepId, actor);
    });
  }

  /** Approve or deny a step that waits for approval. The requester may not approve their own request. */
  async decide(id: string, stepId: string, actor: string, decision: 'approve' | 'deny'): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      const incident = await this.get(id);
      const step = this.#stepDef(incident, stepId);
      const rule = step.approval;
      const state = incident.steps.find((s) => s.id === stepId);
      if (!rule || !state || state.status !== 'awaiting_approval') {
        throw new CodedError('command_invalid', `step ${stepId} of ${id} is not waiting for an approval`);
      }
      const refuse = async (why: string) => {
        await this.#record(
          incident,
          'refusal',
          `Refused ${decision} of step ${stepId} by ${actor}: ${why}`,
          {
            step: stepId,
          },
          { actor },
        );
        throw new CodedError('approval_refused', why);
      };
      const allowed = Array.isArray(rule.from)
        ? rule.from.includes(actor.replace(/^slack:/, ''))
        : this.#d.access.has(actor, rule.from === 'approvers' ? 'approver' : 'responder');
      if (!allowed)
        await refuse(
          `only ${Array.isArray(rule.from) ? rule.from.join(', ') : rule.from} may decide this step`,
        );
      if (!rule.allow_requester && state.requestedBy === actor)
        await refuse('the requester may not approve their own request');
      if (state.approvals.some((a) => a.by === actor)) await refuse(`${actor} has already decided this step`);
      const kind: TimelineKind = decision === 'approve' ? 'approval.granted' : 'approval.denied';
      await this.#record(
        incident,
        kind,
        `${decision === 'approve' ? 'Approved' : 'Denied'} step ${stepId}`,
        {
          step: stepId,
        },
        { actor, id: `${id}:${stepId}:${decision}:${actor}` },
      );
      await this.#mutateStep(id, stepId, (s) => {
        s.approvals.push({ by: actor, at: this.#now(), decision });
      });
      if (decision === 'deny') {
        await this.#record(
          incident,
          'step.skipped',
          `Step "${step.title}" skipped: approval denied by ${actor}`,
          {
            step: stepId,
          },
          { id: `${id}:${stepId}:skipped` },
        );
        await this.#mutateStep(id, stepId, (s) => {
          s.status = 'skipped';
          s.reason = `approval denied by ${actor}`;
          s.endedAt = this.#now();
        });
      }
      return this.#continueFrom(id, stepId, actor);
    });
  }

  /**
   * Run one step now, out of the playbook's order: a responder may contain (or rotate) before the
   * triage checklist is ticked. Later inputs on that step carry it on; the rest keeps its order.
   */
  async runStepNow(id: string, stepId: string, actor: string): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      const incident = await this.#requireRole(id, actor, 'responder', `run step ${stepId}`);
      await this.#ensureStepState(incident, this.#stepDef(incident, stepId));
      return this.#continueFrom(id, stepId, actor);
    });
  }

  /** After a person's input on a step: carry that step on (wherever it is in the order), then the rest. */
  async #continueFrom(id: string, stepId: string, actor: string): Promise<Incident> {
    const incident = await this.get(id);
    const state = incident.steps.find((s) => s.id === stepId);
    if (isActive(incident) && state && !settledStepStatuses.includes(state.status)) {
      await this.#runStep(incident, this.#stepDef(incident, stepId), actor);
    }
    return this.#advanceLocked(id, actor);
  }

  /** Retry a failed step: failed actions are planned again; everything that succeeded stays done. */
  async retryStep(id: string, stepId: string, actor: string): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      await this.#requireRole(id, actor, 'responder', `retry step ${stepId}`);
      await this.#mutateStep(id, stepId, (s) => {
        if (s.status !== 'failed') throw new CodedError('command_invalid', `step ${stepId} has not failed`);
        s.status = 'running';
        delete s.reason;
        for (const a of s.actions) {
          if (a.status === 'failed') {
            a.status = a.plan === undefined ? 'pending' : 'planned';
            delete a.error;
          }
        }
      });
      return this.#continueFrom(id, stepId, actor);
    });
  }

  /** Undo what a step applied, newest first, through each action's revert. Responders only. */
  async revertStep(id: string, stepId: string, actor: string): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      await this.#requireRole(id, actor, 'approver', `revert step ${stepId}`);
      return this.#revertLocked(id, stepId, actor);
    });
  }

  /**
   * Two-person release: a responder asks for a step to be undone (containment, typically); an approver
   * who is not the requester decides. Approval reverts the step and the incident goes back to acknowledged.
   */
  async requestRevert(id: string, stepId: string, actor: string): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      const incident = await this.#requireRole(id, actor, 'responder', `ask to release step ${stepId}`);
      this.#stepDef(incident, stepId);
      const state = incident.steps.find((s) => s.id === stepId);
      if (!state?.actions.some((a) => a.status === 'applied' || a.status === 'verified')) {
        throw new CodedError('command_invalid', `step ${stepId} of ${id} has applied nothing to release`);
      }
      if (incident.pendingRevert) return incident;
      await this.#record(
        incident,
        'approval.requested',
        `Release of step ${stepId} requested; an approver other than ${actor} must decide`,
        {
          step: stepId,
          release: true,
        },
        { actor },
      );
      return this.#mutate(id, (d) => {
        d.pendingRevert = { stepId, requestedBy: actor, at: this.#now() };
      });
    });
  }

  async decideRevert(id: string, actor: string, decision: 'approve' | 'deny'): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      const incident = await this.get(id);
      const pending = incident.pendingRevert;
      if (!pending) throw new CodedError('command_invalid', `no release of ${id} is waiting for a decision`);
      const refuse = async (why: string) => {
        await this.#record(
          incident,
          'refusal',
          `Refused ${decision} of the release by ${actor}: ${why}`,
          {
            step: pending.stepId,
          },
          { actor },
        );
        throw new CodedError('approval_refused', why);
      };
      if (!this.#d.access.has(actor, 'approver')) await refuse('only approvers may decide a release');
      if (pending.requestedBy === actor) await refuse('the requester may not approve their own request');
      const kind: TimelineKind = decision === 'approve' ? 'approval.granted' : 'approval.denied';
      await this.#record(
        incident,
        kind,
        `${decision === 'approve' ? 'Approved' : 'Denied'} the release of step ${pending.stepId}`,
        {
          step: pending.stepId,
          release: true,
        },
        { actor },
      );
      await this.#mutate(id, (d) => {
        delete d.pendingRevert;
      });
      if (decision === 'deny') return this.get(id);
      const reverted = await this.#revertLocked(id, pending.stepId, actor);
      return ['contained', 'containment_incomplete'].includes(reverted.status)
        ? this.#setStatus(reverted, 'acknowledged', actor, `step ${pending.stepId} released`)
        : reverted;
    });
  }

  async #revertLocked(id: string, stepId: string, actor: string): Promise<Incident> {
    {
      let incident = await this.get(id);
      const step = this.#stepDef(incident, stepId);
      const state = incident.steps.find((s) => s.id === stepId);
      if (!state) throw new CodedError('command_invalid', `step ${stepId} has not run`);
      for (const a of [...state.actions].reverse()) {
        if (a.status !== 'applied' && a.status !== 'verified') continue;
        const def = this.#d.registry.require(a.uses);
        if (!def.revert) continue;
        const ref = step.actions.find((r) => (r.id ?? r.uses) === a.key)!;
        let outcome: Outcome;
        try {
          outcome = await def.revert(
            this.#context(incident, stepId, a.key, actor, a.dryRun),
            a.outcome as unknown as Outcome,
            def.params.parse(ref.with),
          );
        } catch (err) {
          incident = await this.#actionFailed(incident, step, a.key, 'revert', err);
          throw asCodedError(err);
        }
        await this.#record(
          incident,
          'action.reverted',
          `${dryTag(a.dryRun)}${a.uses} reverted: ${outcome.summary}`,
          {
            ...actionDetails(stepId, a.key),
            outcome: outcome as unknown as Json,
          },
          { actor, id: `${id}:${stepId}:${a.key}:reverted:${a.attempts}` },
        );
        incident = await this.#mutateAction(id, stepId, a.key, (s) => {
          s.status = 'reverted';
        });
      }
      return incident;
    }
  }

  /** Run one registered action outside the playbook's order (e.g. `/egress rotate`), optionally as a dry-run. */
  async runAction(
    id: string,
    uses: string,
    params: Record<string, unknown>,
    actor: string,
    opts: { dryRun: boolean },
  ): Promise<{ plan: Plan; outcome?: Outcome; verification?: Verification }> {
    return this.#withIncidentLock(id, async () => {
      const incident = await this.#requireRole(id, actor, 'responder', `run ${uses}`);
      const def: ActionDefinition = this.#d.registry.require(uses);
      const parsed = def.params.safeParse(params);
      if (!parsed.success) {
        throw new CodedError(
          'action_params_invalid',
          `invalid parameters for ${uses}: ${parsed.error.message}`,
        );
      }
      const key = `adhoc-${randomUUID().slice(0, 8)}`;
      const ctx = this.#context(incident, 'adhoc', key, actor, opts.dryRun || incident.drill);
      const tag = dryTag(ctx.dryRun);
      const details = { ...actionDetails('adhoc', key), uses };
      try {
        const plan = await def.plan(ctx, parsed.data);
        await this.#record(incident, 'action.planned', `${tag}${uses} planned: ${plan.summary}`, details, {
          actor,
        });
        if (def.needsCluster && !this.#d.cluster) {
          await this.#record(
            incident,
            'action.skipped',
            `${uses} not applied (no cluster configured)`,
            details,
            { actor },
          );
          return { plan };
        }
        const outcome = await def.apply(ctx, plan, parsed.data);
        await this.#record(
          incident,
          'action.applied',
          `${tag}${uses} ${outcome.status}: ${outcome.summary}`,
          details,
          {
            actor,
          },
        );
        const verification = def.verify ? await def.verify(ctx, outcome, parsed.data) : undefined;
        if (verification)
          await this.#record(incident, 'action.verified', `${tag}${verification.line}`, details, { actor });
        return verification ? { plan, outcome, verification } : { plan, outcome };
      } catch (err) {
        const coded = asCodedError(err);
        await this.#record(
          incident,
          'action.failed',
          `${tag}${uses} failed: ${coded.userSafe ? coded.describe() : 'internal error'}`,
          {
            ...details,
            code: coded.code,
          },
          { actor },
        );
        throw coded;
      }
    });
  }

  async note(
    id: string,
    actor: string,
    text: string,
    opts: { at?: number; source?: string } = {},
  ): Promise<void> {
    const incident = await this.get(id);
    await this.#record(incident, 'note', text, opts.source ? { source: opts.source } : {}, {
      actor,
      ...(opts.at !== undefined ? { at: opts.at } : {}),
      ...(opts.source ? { id: `${id}:note:${opts.source}` } : {}),
    });
  }

  async acknowledge(id: string, actor: string): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      const incident = await this.#requireRole(id, actor, 'responder', 'take command');
      await this.#mutate(id, (d) => {
        d.commander = actor;
      });
      return incident.status === 'open'
        ? this.#setStatus(incident, 'acknowledged', actor, 'taken in command')
        : this.get(id);
    });
  }

  async close(id: string, actor: string, reason: string): Promise<Incident> {
    return this.#withIncidentLock(id, async () => {
      const incident = await this.#requireRole(id, actor, 'responder', 'close the incident');
      await this.#mutate(id, (d) => {
        d.closeReason = reason;
      });
      const closed = await this.#setStatus(incident, 'closed', actor, reason);
      await this.#record(closed, 'incident.closed', `Incident closed: ${reason}`, { reason }, { actor });
      return closed;
    });
  }

  /** Fire what is due in the schedule: SLA reminders for steps still open past their SLA. */
  async fireDue(now = this.#d.clock.now()): Promise<number> {
    const due = await this.#d.store.schedule.due(now, 100);
    let fired = 0;
    for (const item of due) {
      if (item.data.kind === 'sla') {
        const incident = await this.#d.store.incidents.get(String(item.data.incidentId));
        const stepId = String(item.data.stepId);
        const state = incident?.steps.find((s) => s.id === stepId);
        if (incident && isActive(incident) && state && !settledStepStatuses.includes(state.status)) {
          const title =
            this.playbookOf(incident)?.playbook.steps.find((s) => s.id === stepId)?.title ?? stepId;
          await this.#record(
            incident,
            'sla.breached',
            `SLA breached: step "${title}" is still ${state.status}`,
            {
              step: stepId,
            },
            { id: `${incident.id}:${stepId}:sla` },
          );
          await this.#mutateStep(incident.id, stepId, (s) => {
            s.slaNotifiedAt = this.#now();
          });
          fired += 1;
        }
      }
      await this.#d.store.schedule.remove(item.id);
    }
    return fired;
  }

  // ---------------------------------------------------------------- bookkeeping

  async setStatus(id: string, to: IncidentStatus, actor: string, why: string): Promise<Incident> {
    return this.#setStatus(await this.get(id), to, actor, why);
  }

  async #setStatus(incident: Incident, to: IncidentStatus, actor: string, why: string): Promise<Incident> {
    const from = incident.status;
    if (from === to) return incident;
    if (!canTransition(from, to)) {
      throw new CodedError(
        'transition_invalid',
        `an incident that is ${statusLabels[from]} cannot become ${statusLabels[to]}`,
      );
    }
    const next = await this.#mutate(incident.id, (d) => {
      d.status = to;
    });
    await this.#record(
      next,
      'status.changed',
      `Status: ${statusLabels[from]} → ${statusLabels[to]} (${why})`,
      {
        from,
        to,
      },
      { actor },
    );
    return next;
  }

  async #requireRole(id: string, actor: string, role: Role, what: string): Promise<Incident> {
    const incident = await this.get(id);
    if (!isActive(incident)) throw new CodedError('incident_closed', `incident ${id} is closed`);
    if (!this.#d.access.has(actor, role)) {
      await this.#record(
        incident,
        'refusal',
        `Refused: ${actor} may not ${what} (needs the ${role} role)`,
        { role },
        {
          actor,
        },
      );
      throw new CodedError('not_authorized', `you may not ${what}: it needs the ${role} role`);
    }
    return incident;
  }

  #stepDef(incident: Incident, stepId: string): Step {
    const step = this.playbookOf(incident)?.playbook.steps.find((s) => s.id === stepId);
    if (!step)
      throw new CodedError('command_invalid', `playbook ${incident.playbook.id} has no step "${stepId}"`);
    return step;
  }

  /** Append an event (idempotent on id) and tell observers when it was new. */
  async record(
    incident: Incident,
    kind: TimelineKind,
    summary: string,
    details: Record<string, Json>,
    opts: { actor?: string; id?: string; at?: number } = {},
  ): Promise<void> {
    return this.#record(incident, kind, summary, details, opts);
  }

  async #record(
    incident: Incident,
    kind: TimelineKind,
    summary: string,
    details: Record<string, Json>,
    opts: { actor?: string; id?: string; at?: number } = {},
  ): Promise<void> {
    const event: TimelineEvent = {
      id: opts.id ?? `${incident.id}:${kind}:${randomUUID()}`,
      at: isoAt(opts.at ?? this.#d.clock.now()),
      incidentId: incident.id,
      kind,
      actor: opts.actor ?? SYSTEM_ACTOR,
      summary,
      details,
    };
    const fresh = await this.#d.store.timeline.append(event);
    if (fresh) await this.#notify((o) => o.onEvent?.(event, incident));
  }

  async #notify(call: (o: EngineObserver) => void | Promise<void>): Promise<void> {
    for (const o of this.#d.observers ?? []) {
      try {
        await call(o);
      } catch (err) {
        this.#d.log.warn({ err }, 'engine observer failed');
      }
    }
  }

  /** Read-modify-write with compare-and-set, retried on conflict (alert folds update concurrently). */
  /** `known`: a copy the caller just read, tried first (saves a round trip; a conflict re-reads). */
  async mutate(id: string, fn: (draft: Incident) => void, known?: Incident): Promise<Incident> {
    return this.#mutate(id, fn, known);
  }

  async #mutate(id: string, fn: (draft: Incident) => void, known?: Incident): Promise<Incident> {
    for (let attempt = 0; ; attempt++) {
      const fresh = !(attempt === 0 && known);
      const current = fresh ? await this.get(id) : (known as Incident);
      // Stores hand out copies; only a caller's snapshot needs copying before it is changed.
      const expected = current.version;
      const draft = fresh ? current : structuredClone(current);
      fn(draft);
      draft.updatedAt = this.#now();
      try {
        const stored = await this.#d.store.incidents.update(draft, expected);
        await this.#notify((o) => o.onIncident?.(stored));
        return stored;
      } catch (err) {
        if (!(err instanceof CodedError && err.code === 'store_conflict') || attempt >= 20) throw err;
      }
    }
  }

  #mutateStep(id: string, stepId: string, fn: (s: StepState) => void): Promise<Incident> {
    return this.#mutate(id, (d) => {
      const s = d.steps.find((x) => x.id === stepId);
      if (!s) throw new CodedError('internal', `step ${stepId} has no state`, { userSafe: false });
      fn(s);
    });
  }

  #mutateAction(id: string, stepId: string, key: string, fn: (a: ActionState) => void): Promise<Incident> {
    return this.#mutateStep(id, stepId, (s) => {
      const a = s.actions.find((x) => x.key === key);
      if (!a) throw new CodedError('internal', `action ${key} has no state`, { userSafe: false });
      fn(a);
      a.updatedAt = this.#now();
    });
  }

  #context(incident: Incident, stepId: string, key: string, actor: string, dryRun: boolean): ActionContext {
    return {
      incident,
      stepId,
      actionKey: key,
      actor,
      dryRun,
      cluster: this.#d.cluster,
      contracts: this.#d.contracts(),
      namespaces: this.#d.namespaces,
      store: this.#d.store,
      clock: this.#d.clock,
      log: this.#d.log.child({ incident: incident.id, step: stepId, action: key }),
      signal: AbortSignal.timeout(this.#lock.ttlMs),
      idempotencyKey: `${incident.id}:${stepId}:${key}`,
    };
  }

  #withIncidentLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.#d.store.locks.withLock(`incident:${id}`, this.#lock, fn);
  }

  #checkpoint(name: string): void {
    this.#d.checkpoint?.(name);
  }

  #now(): string {
    return isoAt(this.#d.clock.now());
  }
}

export { EMPTY_PLAYBOOK_ID };

function stepState(incident: Incident, stepId: string): StepState {
  const s = incident.steps.find((x) => x.id === stepId);
  if (!s) throw new CodedError('internal', `step ${stepId} has no state`, { userSafe: false });
  return s;
}

function actionState(incident: Incident, stepId: string, key: string): ActionState {
  const a = stepState(incident, stepId).actions.find((x) => x.key === key);
  if (!a) throw new CodedError('internal', `action ${key} has no state`, { userSafe: false });
  return a;
}

function approvalSatisfied(step: Step, state: StepState): boolean {
  const approvals = state.approvals.filter((a) => a.decision === 'approve');
  return approvals.length >= (step.approval?.count ?? 0);
}

function actionDetails(step: string, action: string): Record<string, Json> {
  return { step, action };
}

function dryTag(dryRun: boolean): string {
  return dryRun ? '[dry-run] ' : '';
}
