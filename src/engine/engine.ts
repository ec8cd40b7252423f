import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import type { ArtifactMeta } from '../domain/artifact.js';
import { CodedError } from '../domain/errors.js';
import { type Incident, isActive, settledStepStatuses } from '../domain/incident.js';
import type { SlackRateLimitMet } from '../domain/slack-rate-limit.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { LoadedPlaybook, Step, StepRole } from '../playbooks/schema.js';
import { ActionRunner } from './action-runner.js';
import { type Command, missingRole, releaseRefusal } from './gates.js';
import * as inputs from './inputs.js';
import { adhocStep, type Session } from './inputs.js';
import {
  type By,
  type Caller,
  callerOf,
  type EngineCommands,
  type IncidentReader,
  type Upload,
} from './ports.js';
import { Release } from './release.js';
import { DEFAULT_LOCK, type EngineDeps, mutateStep } from './state.js';
import { StepRunner } from './step-runner.js';
import { Timers } from './timers.js';
import { traceRunners } from './traced.js';
import { engineHandlers, type ItemHandlers, type WorkDone, workPass } from './worker.js';

export type { EngineDeps } from './state.js';

/** Errors that say the request was refused or invalid: nothing is left in flight after them. */
const settledCodes = new Set([
  'not_authorized',
  'approval_refused',
  'command_invalid',
  'incident_closed',
  'incident_not_found',
  'transition_invalid',
]);

/**
 * The lock held by the current command (per async call chain: the engine works on many incidents).
 * One for every engine of the process: Node 20 copies every AsyncLocalStorage instance's value into
 * every promise made, so one per engine (a test, a bench or a drill builds a core each) made every
 * promise of the process slower with each engine built (measured: 18 % of a bench's CPU after 300).
 */
const heldLocks = new AsyncLocalStorage<AbortSignal>();

/**
 * The engine's one face: people's commands, the playbook run, and the reader Slack uses. Each
 * command takes the incident's lock (short, kept alive by a heartbeat), checks the gates, and hands
 * the work to the step runner, the action runner, the release or the timers.
 */
export class Engine implements IncidentReader, EngineCommands {
  readonly #d: EngineDeps;
  readonly #lock: { ttlMs: number; waitMs: number };
  readonly #held = heldLocks;
  readonly #actions: ActionRunner;
  readonly #steps: StepRunner;
  readonly #release: Release;
  readonly #timers: Timers;
  readonly #session: Session;

  constructor(deps: EngineDeps) {
    this.#d = deps;
    this.#lock = deps.lock ?? DEFAULT_LOCK;
    const never = new AbortController().signal;
    this.#actions = new ActionRunner(deps, () => this.#held.getStore() ?? never);
    this.#timers = new Timers(deps);
    this.#steps = new StepRunner(deps, this.#actions, this.#timers, (i, s) => this.#requireStep(i, s));
    this.#release = new Release(deps, this.#actions, this.#steps);
    traceRunners(this.#steps, this.#actions);
    this.#session = {
      d: deps,
      steps: this.#steps,
      timers: this.#timers,
      playbookSteps: (i) => this.#playbookSteps(i),
      requireStep: (i, s) => this.#requireStep(i, s),
      gate: (...args) => this.#gate(...args),
      refuse: (...args) => this.#refuse(...args),
    };
  }

  // ---------------------------------------------------------------- reading (IncidentReader)

  get(id: string): Promise<Incident> {
    return this.#d.journal.get(id);
  }

  list(opts: { activeOnly?: boolean; limit: number }): Promise<Incident[]> {
    return this.#d.store.incidents.list(opts);
  }

  byThread(channel: string, ts: string): Promise<Incident | undefined> {
    return this.#d.store.incidents.byThread(channel, ts);
  }

  timeline(id: string): Promise<TimelineEvent[]> {
    return this.#d.store.timeline.read(id);
  }

  playbookOf(incident: Incident): LoadedPlaybook | undefined {
    return this.#d.playbooks().find((p) => p.playbook.id === incident.playbook.id);
  }

  stepOf(incident: Incident, stepId: string): Step | undefined {
    const fromPlaybook = this.playbookOf(incident)?.playbook.steps.find((s) => s.id === stepId);
    if (fromPlaybook) return fromPlaybook;
    const adhoc = incident.steps.find((s) => s.id === stepId)?.adhoc;
    return adhoc ? adhocStep(stepId, adhoc) : undefined;
  }

  stepFor(incident: Incident, role: StepRole): Step | undefined {
    return this.playbookOf(incident)?.playbook.steps.find((s) => s.role === role);
  }

  artifacts(id: string): Promise<ArtifactMeta[]> {
    return this.#d.store.artifacts.list(id);
  }

  artifact(id: string, name: string): Promise<{ artifact: ArtifactMeta; bytes: Buffer } | undefined> {
    return this.#d.store.artifacts.get(id, name);
  }

  // ---------------------------------------------------------------- the playbook run

  /** Run the incident's playbook forward until a step waits for people, fails, or all steps settle. */
  async advance(id: string, opts: { actor?: string } = {}): Promise<Incident> {
    return this.#act(id, { runs: true }, async (incident) => {
      // Ad-hoc runs interrupted by a crash carry on first, like any step.
      for (const s of incident.steps.filter((x) => x.adhoc && !settledStepStatuses.includes(x.status))) {
        await this.#steps.run(await this.get(id), this.#requireStep(incident, s.id), opts.actor ?? 'system');
      }
      return this.#steps.advance(id, this.#playbookSteps(incident), opts.actor ?? 'system');
    });
  }

  /**
   * Take what the schedule says is due (queued playbook runs, runs whose process died, SLA
   * reminders) and do it. Any replica may call this; each item goes to one of them. `handlers`: the
   * caller's rows for kinds the engine does not run itself (break-glass grants, from main.ts).
   */
  work(now = this.#d.clock.now(), handlers: ItemHandlers = {}): Promise<WorkDone> {
    const own = engineHandlers(this.#timers, (id) => this.advance(id));
    return workPass(
      { timers: this.#timers, store: this.#d.store, log: this.#d.log, handlers: { ...handlers, ...own } },
      now,
    );
  }

  // ---------------------------------------------------------------- people's inputs

  acknowledge(id: string, by: By): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: false }, async (incident) => {
      await this.#gate(incident, caller, 'acknowledge', 'take command');
      if (incident.commander === caller.actor && incident.status !== 'open') return incident;
      const next = await this.#d.journal.mutate(
        id,
        (d) => {
          d.commander = caller.actor;
        },
        incident,
      );
      return next.status === 'open'
        ? this.#steps.setStatus(next, 'acknowledged', caller.actor, 'taken in command')
        : next;
    });
  }

  tick(id: string, stepId: string, itemId: string, by: By): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: true }, (incident) =>
      inputs.tick(this.#session, incident, caller, stepId, itemId),
    );
  }

  /**
   * A responder confirms a soft-mode step's destructive actions (after seeing the preview). Confirming
   * again carries the step on (after a restart, say): it never silently does nothing.
   */
  confirm(id: string, stepId: string, by: By): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: true }, (incident) =>
      inputs.confirm(this.#session, incident, caller, stepId),
    );
  }

  /** Approve or deny a step that waits for approval. Nobody who asked for or confirmed it may approve. */
  decide(id: string, stepId: string, by: By, decision: 'approve' | 'deny'): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: true }, (incident) =>
      inputs.decide(this.#session, incident, caller, stepId, decision),
    );
  }

  /**
   * Run one step now, out of the playbook's order: a responder may contain (or rotate) before the
   * triage checklist is ticked. Later inputs on that step carry it on; the rest keeps its order.
   */
  runStepNow(id: string, stepId: string, by: By): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: true }, async (incident) => {
      await this.#gate(incident, caller, 'run-step', `run step ${stepId}`);
      await this.#steps.ensureState(incident, this.#requireStep(incident, stepId));
      return this.#steps.continueFrom(id, stepId, this.#playbookSteps(incident), caller.actor);
    });
  }

  /** Retry a failed step: failed actions are planned again; everything that succeeded stays done. */
  retryStep(id: string, stepId: string, by: By): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: true }, async (incident) => {
      await this.#gate(incident, caller, 'retry', `retry step ${stepId}`);
      await mutateStep(this.#d.journal, id, stepId, (s) => {
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
      return this.#steps.continueFrom(id, stepId, this.#playbookSteps(incident), caller.actor);
    });
  }

  /** Undo what a step applied, newest first, through each action's revert. Approvers only. */
  revertStep(id: string, stepId: string, by: By): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: false }, async (incident) => {
      await this.#gate(incident, caller, 'revert', `revert step ${stepId}`);
      return this.#release.revert(id, this.#requireStep(incident, stepId), caller.actor);
    });
  }

  /** Two-person release: a responder asks for a step to be undone; an approver who is not the requester decides. */
  requestRevert(id: string, stepId: string, by: By): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: false }, async (incident) => {
      await this.#gate(incident, caller, 'request-release', `ask to release step ${stepId}`);
      return this.#release.request(
        incident,
        this.#requireStep(incident, stepId),
        caller.actor,
        caller.requestId ?? 'once',
      );
    });
  }

  decideRevert(id: string, by: By, decision: 'approve' | 'deny'): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: false }, async (incident) => {
      const pending = incident.pendingRevert;
      if (!pending) throw new CodedError('command_invalid', `no release of ${id} is waiting for a decision`);
      const why = releaseRefusal(incident, caller.actor, this.#d.access);
      if (why) {
        await this.#refuse(
          incident,
          caller,
          `Refused ${decision} of the release by ${caller.actor}: ${why}`,
          'approval_refused',
          why,
          { step: pending.stepId },
        );
      }
      return this.#release.decide(
        incident,
        this.#requireStep(incident, pending.stepId),
        caller.actor,
        decision,
      );
    });
  }

  /**
   * Run one registered action outside the playbook's order (`/egress rotate <id> <hook>`). It becomes
   * an ad-hoc step of the incident, persisted and resumed exactly like a playbook step; the command
   * itself is the responder's confirmation.
   */
  runAction(
    id: string,
    ref: { uses: string; with: Record<string, unknown>; title?: string },
    by: By,
  ): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: true }, (incident) =>
      inputs.runAction(this.#session, incident, caller, ref),
    );
  }

  /** A note in the timeline. A note with the same `source` (a pinned message) is recorded once. */
  async note(id: string, by: By, text: string, opts: { at?: number; source?: string } = {}): Promise<void> {
    const caller = callerOf(by);
    const incident = await this.get(id);
    await this.#gate(incident, caller, 'note', 'add a note', { closedOk: true });
    await this.#d.journal.record({
      incident,
      kind: 'note',
      summary: text,
      details: opts.source ? { source: opts.source } : {},
      actor: caller.actor,
      key: `note:${opts.source ?? caller.requestId ?? randomUUID()}`,
      ...(opts.at !== undefined ? { at: opts.at } : {}),
    });
  }

  close(id: string, by: By, reason: string): Promise<Incident> {
    const caller = callerOf(by);
    return this.#act(id, { runs: false }, (incident) =>
      inputs.close(this.#session, incident, caller, reason),
    );
  }

  // ---------------------------------------------------------------- reads that need a role

  async view(id: string, by: By): Promise<Incident> {
    const incident = await this.get(id);
    await this.#gate(incident, callerOf(by), 'view', `see incident ${id}`, { closedOk: true });
    return incident;
  }

  async viewTimeline(id: string, by: By): Promise<{ incident: Incident; events: TimelineEvent[] }> {
    const incident = await this.view(id, by);
    return { incident, events: await this.timeline(id) };
  }

  async viewOpen(by: By, limit: number): Promise<Incident[]> {
    const role = missingRole(this.#d.access, callerOf(by).actor, 'view');
    if (role) throw new CodedError('not_authorized', `you may not list incidents: it needs the ${role} role`);
    return this.list({ activeOnly: true, limit });
  }

  // ---------------------------------------------------------------- what the presenter posted

  attachThread(id: string, thread: { channel: string; ts: string }): Promise<Incident> {
    return this.#act(id, { runs: false }, (incident) => inputs.attachThread(this.#session, incident, thread));
  }

  attachStepMessage(id: string, stepId: string, ts: string): Promise<Incident> {
    return this.#act(id, { runs: false }, (incident) =>
      inputs.attachStepMessage(this.#session, incident, stepId, ts),
    );
  }

  attachUpload(id: string, upload: Upload): Promise<boolean> {
    return this.#act(id, { runs: false }, (incident) => inputs.attachUpload(this.#session, incident, upload));
  }

  recordSlackRateLimit(id: string, met: SlackRateLimitMet): Promise<boolean> {
    return this.#act(id, { runs: false }, (incident) =>
      inputs.recordSlackRateLimit(this.#session, incident, met),
    );
  }

  // ---------------------------------------------------------------- plumbing

  /**
   * One command on one incident, holding its lock. `runs`: the command may run the playbook (its
   * incident is watched, so a process dying mid-run is resumed by another, and unwatched once the
   * run settles).
   */
  #act<T>(id: string, opts: { runs: boolean }, fn: (incident: Incident) => Promise<T>): Promise<T> {
    return this.#d.store.locks.withLock(`incident:${id}`, this.#lock, (held) =>
      this.#held.run(held.signal, async () => {
        const incident = await this.get(id);
        if (!opts.runs) return fn(incident);
        if (isActive(incident)) await this.#timers.watch(id);
        try {
          const result = await fn(incident);
          await this.#timers.unwatch(id);
          return result;
        } catch (err) {
          if (err instanceof CodedError && settledCodes.has(err.code)) await this.#timers.unwatch(id);
          throw err;
        }
      }),
    );
  }

  /** The one refusal path: recorded in the timeline, then thrown. */
  async #refuse(
    incident: Incident,
    caller: Caller,
    summary: string,
    code: 'not_authorized' | 'approval_refused',
    why: string,
    details: Record<string, string> = {},
  ): Promise<never> {
    await this.#d.journal.record({
      incident,
      kind: 'refusal',
      summary,
      details,
      actor: caller.actor,
      // One request may be refused once per thing it asked for; a retried delivery records nothing new.
      key: `refusal:${caller.requestId ?? randomUUID()}:${createHash('sha256').update(summary).digest('hex').slice(0, 12)}`,
    });
    throw new CodedError(code, why);
  }

  async #gate(
    incident: Incident,
    caller: Caller,
    command: Command,
    what: string,
    opts: { closedOk?: boolean } = {},
  ): Promise<void> {
    if (!opts.closedOk && !isActive(incident)) {
      throw new CodedError('incident_closed', `incident ${incident.id} is closed`);
    }
    const role = missingRole(this.#d.access, caller.actor, command);
    if (role) {
      await this.#refuse(
        incident,
        caller,
        `Refused: ${caller.actor} may not ${what} (needs the ${role} role)`,
        'not_authorized',
        `you may not ${what}: it needs the ${role} role`,
        { role, command },
      );
    }
  }

  #playbookSteps(incident: Incident): readonly Step[] {
    return this.playbookOf(incident)?.playbook.steps ?? [];
  }

  #requireStep(incident: Incident, stepId: string): Step {
    const step = this.stepOf(incident, stepId);
    if (!step)
      throw new CodedError('command_invalid', `playbook ${incident.playbook.id} has no step "${stepId}"`);
    return step;
  }
}
