import {
  type ActionContext,
  type ActionDefinition,
  decodeOutcome,
  decodePlan,
  type Outcome,
  type Plan,
} from '../actions/define.js';
import { dryRunOnly } from '../actions/dry-run-cluster.js';
import { PassReads } from '../actions/shared-reads.js';
import { asCodedError, publicMessage } from '../domain/errors.js';
import { fixFor } from '../domain/fixes.js';
import type { ActionState, Incident } from '../domain/incident.js';
import { type Json, toJson } from '../domain/json.js';
import type { TimelineKind } from '../domain/timeline.js';
import type { Step } from '../playbooks/schema.js';
import { artifactPort } from './artifacts.js';
import { factsOf, unmetCondition } from './conditions.js';
import { actionState, dryTag, type EngineDeps, mutateAction } from './state.js';
import { failureReason } from './step-outcome.js';

// One action through plan → apply → verify → revert, with the engine's bookkeeping: each transition
// is recorded (deterministic key, so a replay records nothing twice), the action's state is
// persisted before a side effect and its result after, and a checkpoint is passed at each boundary.
// Steps and ad-hoc runs both come through here.

type Ref = Step['actions'][number];

/** An action's plan before it is recorded: nothing to plan (not pending), skipped, failed, or made. */
export type PreparedPlan =
  | { kind: 'none' }
  | { kind: 'skip'; unmet: string }
  | { kind: 'failed'; err: unknown }
  | { kind: 'plan'; plan: Plan };

export class ActionRunner {
  readonly #d: EngineDeps;
  readonly #signal: () => AbortSignal;
  /** The steps being run by this process: their actions share their reads (`passes.begin`). */
  readonly passes = new PassReads();

  /** `signal`: the current lock holder's signal (aborts when the incident lock is lost). */
  constructor(deps: EngineDeps, signal: () => AbortSignal) {
    this.#d = deps;
    this.#signal = signal;
  }

  def(uses: string): ActionDefinition {
    return this.#d.registry.require(uses);
  }

  /**
   * What planning a pending action comes to, with nothing recorded: plans only read, so a step computes all
   * of its actions' plans at once (their reads overlap) and records them in order with `recordPlan`.
   */
  async preparePlan(incident: Incident, step: Step, ref: Ref, actor: string): Promise<PreparedPlan> {
    const st = actionState(incident, step.id, ref.id ?? ref.uses);
    if (st.status !== 'pending') return { kind: 'none' };
    const unmet = unmetCondition(ref.when, factsOf(incident));
    if (unmet) return { kind: 'skip', unmet };
    const def = this.def(st.uses);
    try {
      return {
        kind: 'plan',
        plan: await def.plan(this.context(incident, step.id, st, actor), def.params.parse(ref.with)),
      };
    } catch (err) {
      return { kind: 'failed', err };
    }
  }

  /** Record what `preparePlan` found for a still pending action (a plan, or why it is skipped or failed). */
  async recordPlan(
    incident: Incident,
    step: Step,
    ref: Ref,
    actor: string,
    prepared: PreparedPlan,
  ): Promise<Incident> {
    const key = ref.id ?? ref.uses;
    const st = actionState(incident, step.id, key);
    if (st.status !== 'pending' || prepared.kind === 'none') return incident;
    if (prepared.kind === 'skip')
      return this.skip(incident, step.id, key, `${st.uses} skipped: ${prepared.unmet}`, prepared.unmet);
    if (prepared.kind === 'failed') return this.failed(incident, step.id, key, 'plan', prepared.err);
    const { plan } = prepared;
    const def = this.def(st.uses);
    // A read-only action's plan is its finding; the applied record says it once. Destructive plans are
    // the preview people confirm, so they are recorded on their own.
    return this.#settle(
      incident,
      actor,
      step.id,
      key,
      def.destructive
        ? {
            kind: 'action.planned',
            summary: `${dryTag(st.dryRun)}${st.uses} planned: ${plan.summary}`,
            details: { plan: toJson(plan) },
            key: 'planned',
          }
        : undefined,
      (a) => {
        a.status = 'planned';
        a.plan = toJson(plan);
      },
      'planned',
    );
  }

  /**
   * Compare the confirmed plan with the cluster now. On drift: record what changed, plan again and
   * store the new plan (its preview says what changed). Returns the differences (empty: none).
   */
  async checkDrift(
    incident: Incident,
    step: Step,
    ref: Ref,
    actor: string,
    then: 'ask again' | 'apply it',
  ): Promise<{ incident: Incident; drift: string[] }> {
    const key = ref.id ?? ref.uses;
    const st = actionState(incident, step.id, key);
    const def = this.def(st.uses);
    if (!def.drift || st.status !== 'planned' || (def.needsCluster && !this.#d.cluster)) {
      return { incident, drift: [] };
    }
    const params = def.params.parse(ref.with);
    const ctx = this.context(incident, step.id, st, actor);
    let drift: string[];
    let replanned: Plan;
    try {
      drift = await def.drift(ctx, decodePlan(def, st.plan), params);
      if (drift.length === 0) return { incident, drift };
      replanned = await def.plan(ctx, params);
    } catch (err) {
      return { incident: await this.failed(incident, step.id, key, 'plan', err), drift: [] };
    }
    const preview = [
      `# changed since the preview that was confirmed: ${drift.join('; ')}`,
      replanned.preview ?? '',
    ].join('\n');
    const round = (st.replans ?? 0) + 1;
    const next = { ...replanned, preview };
    const after = await this.#settle(
      incident,
      actor,
      step.id,
      key,
      {
        kind: 'plan.drift',
        summary: `${dryTag(st.dryRun)}${st.uses}: the cluster changed since the plan was confirmed (${drift.join('; ')}); new plan: ${replanned.summary}; ${then === 'apply it' ? 'hard mode: applying the new plan' : 'asking again before anything is applied'}`,
        details: { drift, plan: toJson(next), then },
        key: `drift:${round}`,
      },
      (a) => {
        a.plan = toJson(next);
        a.replans = round;
      },
      'replanned',
    );
    return { incident: after, drift };
  }

  /** Apply a planned (or resume an interrupted) action, then verify it. */
  async apply(incident: Incident, step: Step, ref: Ref, actor: string): Promise<Incident> {
    const key = ref.id ?? ref.uses;
    let st = actionState(incident, step.id, key);
    const def = this.def(st.uses);
    const params = def.params.parse(ref.with);

    if (st.status === 'planned' || st.status === 'applying') {
      if (def.needsCluster && !this.#d.cluster) {
        return this.skip(
          incident,
          step.id,
          key,
          `${st.uses} not applied (no cluster configured: planned only)`,
          'no cluster configured: planned only',
        );
      }
      if (st.status === 'applying') {
        await this.#d.journal.record({
          incident,
          kind: 'engine.resumed',
          summary: `${st.uses} was interrupted while applying (attempt ${st.attempts}); resuming with the same plan and idempotency key`,
          details: { step: step.id, action: key },
          key: `${step.id}:${key}:resumed:${st.attempts}`,
        });
      }
      incident = await mutateAction(this.#d.journal, this.#d.clock, incident.id, step.id, key, (a) => {
        a.status = 'applying';
        a.attempts += 1;
      });
      this.#checkpoint(`${step.id}:${key}:applying`);
      st = actionState(incident, step.id, key);
      let outcome: Outcome;
      try {
        outcome = await def.apply(
          this.context(incident, step.id, st, actor),
          decodePlan(def, st.plan),
          params,
        );
      } catch (err) {
        return this.failed(incident, step.id, key, 'apply', err);
      }
      const kind: TimelineKind = outcome.status === 'applied' ? 'action.applied' : 'action.skipped';
      const verb = outcome.status === 'applied' ? (def.destructive ? 'applied' : 'done') : 'skipped';
      incident = await this.#settle(
        incident,
        actor,
        step.id,
        key,
        {
          kind,
          summary: `${dryTag(st.dryRun)}${st.uses} ${verb}: ${outcome.summary}${outcome.reason ? ` (${outcome.reason})` : ''}`,
          details: { outcome: toJson(outcome) },
          key: outcome.status,
        },
        (a) => {
          a.status = outcome.status;
          a.outcome = toJson(outcome);
          // A retried action's earlier failure reason no longer describes it.
          if (outcome.reason) a.reason = outcome.reason;
          else delete a.reason;
        },
        'applied',
      );
      st = actionState(incident, step.id, key);
    }

    if (st.status === 'applied' && def.verify) {
      let verification: Awaited<ReturnType<NonNullable<ActionDefinition['verify']>>>;
      try {
        verification = await def.verify(
          this.context(incident, step.id, st, actor),
          decodeOutcome(def, st.outcome),
          params,
        );
      } catch (err) {
        return this.failed(incident, step.id, key, 'verify', err);
      }
      incident = await this.#settle(
        incident,
        actor,
        step.id,
        key,
        {
          kind: 'action.verified',
          summary: `${dryTag(st.dryRun)}${verification.line}`,
          details: { verification: toJson(verification) },
          key: 'verified',
        },
        (a) => {
          a.status = 'verified';
          a.verification = toJson(verification);
        },
        'verified',
      );
    }
    return incident;
  }

  /** Undo one applied action through its revert; the result is recorded. Throws on failure. */
  async revert(incident: Incident, step: Step, key: string, actor: string): Promise<Incident> {
    const st = actionState(incident, step.id, key);
    const def = this.def(st.uses);
    if (!def.revert || (st.status !== 'applied' && st.status !== 'verified')) return incident;
    const ref = step.actions.find((r) => (r.id ?? r.uses) === key);
    let outcome: Outcome<Json>;
    try {
      outcome = await def.revert(
        this.context(incident, step.id, st, actor),
        decodeOutcome(def, st.outcome),
        def.params.parse(ref?.with ?? {}),
      );
    } catch (err) {
      await this.failed(incident, step.id, key, 'revert', err);
      throw asCodedError(err);
    }
    await this.#d.journal.record({
      incident,
      kind: 'action.reverted',
      summary: `${dryTag(st.dryRun)}${st.uses} reverted: ${outcome.summary}`,
      details: { step: step.id, action: key, outcome: toJson(outcome) },
      actor,
      key: `${step.id}:${key}:reverted:${st.attempts}`,
    });
    return mutateAction(this.#d.journal, this.#d.clock, incident.id, step.id, key, (a) => {
      a.status = 'reverted';
    });
  }

  async skip(
    incident: Incident,
    stepId: string,
    key: string,
    summary: string,
    reason: string,
  ): Promise<Incident> {
    return this.#settle(
      incident,
      'system',
      stepId,
      key,
      { kind: 'action.skipped', summary, details: {}, key: 'skipped' },
      (a) => {
        a.status = 'skipped';
        a.reason = reason;
      },
      'skipped',
    );
  }

  async failed(
    incident: Incident,
    stepId: string,
    key: string,
    phase: string,
    err: unknown,
  ): Promise<Incident> {
    // The incident's lock was lost mid-action (a stalled process, an expired TTL): another worker may
    // be acting on it now, so nothing more is written here and the action is not failed; the run is
    // resumed from its stored state (applying → "interrupted", with the same idempotency key).
    const lock = this.#signal();
    if (lock.aborted) throw lock.reason instanceof Error ? lock.reason : asCodedError(lock.reason);
    const coded = asCodedError(err);
    const st = actionState(incident, stepId, key);
    const message = publicMessage(coded, `incident ${incident.id}`);
    if (!coded.userSafe)
      this.#d.log.error({ err, incident: incident.id, step: stepId, action: key }, 'action failed');
    await this.#d.journal.record({
      incident,
      kind: 'action.failed',
      summary: `${dryTag(st.dryRun)}${st.uses} failed during ${phase}: ${message}`,
      details: { step: stepId, action: key, uses: st.uses, phase, code: coded.code },
      key: `${stepId}:${key}:failed:${st.attempts}:${phase}`,
    });
    return mutateAction(this.#d.journal, this.#d.clock, incident.id, stepId, key, (a) => {
      a.status = 'failed';
      const fix = fixFor(coded.code, coded.details);
      a.error = { code: coded.code, message, ...(fix ? { fix } : {}) };
      // In a few words, for the step's line (an optional layer's failure is named there).
      a.reason = failureReason(coded, message);
    });
  }

  context(incident: Incident, stepId: string, st: ActionState, actor: string): ActionContext {
    const timeout = AbortSignal.timeout(this.#d.actionTimeoutMs ?? 5 * 60_000);
    // A drill's actions get a cluster that cannot store a write, however the step was reached, and
    // only a drill's get its scenario's complications.
    const dryRun = st.dryRun || incident.drill;
    const base =
      this.#d.cluster && incident.drill && this.#d.drillCluster
        ? this.#d.drillCluster(incident, this.#d.cluster)
        : this.#d.cluster;
    const reads = this.passes.of(incident.id, stepId);
    const shared = base && reads ? reads.over(base) : base;
    const cluster = shared && dryRun ? dryRunOnly(shared) : shared;
    return {
      incident,
      stepId,
      actionKey: st.key,
      actor,
      dryRun,
      cluster,
      contracts: this.#d.contracts(),
      namespaces: this.#d.namespaces,
      timeline: () => this.#d.store.timeline.read(incident.id),
      clock: this.#d.clock,
      log: this.#d.log.child({ incident: incident.id, step: stepId, action: st.key }),
      signal: AbortSignal.any([this.#signal(), timeout]),
      idempotencyKey: `${incident.id}:${stepId}:${st.key}`,
      attempt: Math.max(1, st.attempts),
      artifacts: artifactPort(this.#d, incident, {
        stepId,
        actionKey: st.key,
        uses: st.uses,
        dryRun: st.dryRun,
        actor,
      }),
    };
  }

  /**
   * The order that makes a replay safe: record the event (its deterministic key makes a repeat a
   * no-op), then persist the action's new state, then pass the checkpoint.
   */
  async #settle(
    incident: Incident,
    actor: string,
    stepId: string,
    key: string,
    event: { kind: TimelineKind; summary: string; details: Record<string, Json>; key: string } | undefined,
    patch: (a: ActionState) => void,
    boundary: string,
  ): Promise<Incident> {
    if (event) {
      await this.#d.journal.record({
        incident,
        kind: event.kind,
        summary: event.summary,
        details: {
          step: stepId,
          action: key,
          uses: actionState(incident, stepId, key).uses,
          ...event.details,
        },
        actor,
        key: `${stepId}:${key}:${event.key}`,
      });
    }
    const next = await mutateAction(this.#d.journal, this.#d.clock, incident.id, stepId, key, patch);
    this.#checkpoint(`${stepId}:${key}:${boundary}`);
    return next;
  }

  #checkpoint(name: string): void {
    this.#d.checkpoint?.(name);
  }
}
