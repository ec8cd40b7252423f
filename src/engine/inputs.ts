import { CodedError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import { type Json, toJson } from '../domain/json.js';
import { SLACK_RATE_LIMIT_COMPLICATION, type SlackRateLimitMet } from '../domain/slack-rate-limit.js';
import type { Step } from '../playbooks/schema.js';
import { approvalRefusal, type Command } from './gates.js';
import type { Caller, Upload } from './ports.js';
import { type EngineDeps, mutateStep, nowIso } from './state.js';
import type { StepRunner } from './step-runner.js';
import type { Timers } from './timers.js';

// What people's commands do once the engine holds the incident's lock and has the incident in
// hand: the facade (engine.ts) takes the lock, these do the work. Each records what it did before
// changing anything, keyed so that the same request delivered twice records once.

/** What a command needs of the engine. */
export interface Session {
  d: EngineDeps;
  steps: StepRunner;
  timers: Timers;
  playbookSteps(incident: Incident): readonly Step[];
  requireStep(incident: Incident, stepId: string): Step;
  gate(
    incident: Incident,
    caller: Caller,
    command: Command,
    what: string,
    opts?: { closedOk?: boolean },
  ): Promise<void>;
  refuse(
    incident: Incident,
    caller: Caller,
    summary: string,
    code: 'not_authorized' | 'approval_refused',
    why: string,
    details?: Record<string, string>,
  ): Promise<never>;
}

export async function tick(
  session: Session,
  incident: Incident,
  caller: Caller,
  stepId: string,
  itemId: string,
): Promise<Incident> {
  await session.gate(incident, caller, 'tick', `tick a checklist item of step ${stepId}`);
  const step = session.requireStep(incident, stepId);
  const item = step.checklist.find((c) => c.id === itemId);
  if (!item) throw new CodedError('command_invalid', `step ${stepId} has no checklist item "${itemId}"`);
  const state = incident.steps.find((s) => s.id === stepId);
  if (!state || !Object.hasOwn(state.checklist, itemId)) {
    await session.d.journal.record({
      incident,
      kind: 'checklist.ticked',
      summary: `Checklist: ${item.text}`,
      details: { step: stepId, item: itemId },
      actor: caller.actor,
      key: `${stepId}:tick:${itemId}`,
    });
    await session.steps.ensureState(incident, step);
    await mutateStep(session.d.journal, incident.id, stepId, (s) => {
      s.checklist[itemId] = { by: caller.actor, at: nowIso(session.d.clock) };
    });
  }
  return session.steps.continueFrom(incident.id, stepId, session.playbookSteps(incident), caller.actor);
}

export async function confirm(
  session: Session,
  incident: Incident,
  caller: Caller,
  stepId: string,
): Promise<Incident> {
  await session.gate(incident, caller, 'confirm', `confirm step ${stepId}`);
  const step = session.requireStep(incident, stepId);
  const state = incident.steps.find((s) => s.id === stepId);
  if (!state?.confirmedBy) {
    const round = state?.actions.reduce((n, a) => n + (a.replans ?? 0), 0) ?? 0;
    await session.d.journal.record({
      incident,
      kind: 'confirmation.given',
      summary: `Confirmed step ${stepId}`,
      details: { step: stepId },
      actor: caller.actor,
      key: `${stepId}:confirmed${round > 0 ? `:replan-${round}` : ''}`,
    });
    await session.steps.ensureState(incident, step);
    // Who requested the step stays as it was: the two-person rule counts both people.
    await mutateStep(session.d.journal, incident.id, stepId, (s) => {
      s.confirmedBy = { by: caller.actor, at: nowIso(session.d.clock) };
      if (s.status === 'awaiting_confirmation') s.status = 'running';
    });
  }
  return session.steps.continueFrom(incident.id, stepId, session.playbookSteps(incident), caller.actor);
}

export async function decide(
  session: Session,
  incident: Incident,
  caller: Caller,
  stepId: string,
  decision: 'approve' | 'deny',
): Promise<Incident> {
  const step = session.requireStep(incident, stepId);
  const state = incident.steps.find((s) => s.id === stepId);
  if (!step.approval || !state || state.status !== 'awaiting_approval') {
    throw new CodedError(
      'command_invalid',
      `step ${stepId} of ${incident.id} is not waiting for an approval`,
    );
  }
  const why = approvalRefusal(step.approval, state, caller.actor, session.d.access);
  if (why)
    await session.refuse(
      incident,
      caller,
      `Refused ${decision} of step ${stepId} by ${caller.actor}: ${why}`,
      'approval_refused',
      why,
      { step: stepId },
    );
  await session.d.journal.record({
    incident,
    kind: decision === 'approve' ? 'approval.granted' : 'approval.denied',
    summary: `${decision === 'approve' ? 'Approved' : 'Denied'} step ${stepId}`,
    details: { step: stepId },
    actor: caller.actor,
    key: `${stepId}:${decision}:${caller.actor}:${state.approvals.length}`,
  });
  await mutateStep(session.d.journal, incident.id, stepId, (s) => {
    s.approvals.push({ by: caller.actor, at: nowIso(session.d.clock), decision });
  });
  if (decision === 'deny') {
    await session.d.journal.record({
      incident,
      kind: 'step.skipped',
      summary: `Step "${step.title}" skipped: approval denied by ${caller.actor}`,
      details: { step: stepId },
      key: `${stepId}:skipped`,
    });
    await mutateStep(session.d.journal, incident.id, stepId, (s) => {
      s.status = 'skipped';
      s.reason = `approval denied by ${caller.actor}`;
      s.endedAt = nowIso(session.d.clock);
    });
  }
  return session.steps.continueFrom(incident.id, stepId, session.playbookSteps(incident), caller.actor);
}

export async function runAction(
  session: Session,
  incident: Incident,
  caller: Caller,
  ref: { uses: string; with: Record<string, unknown>; title?: string },
): Promise<Incident> {
  await session.gate(incident, caller, 'run-action', `run ${ref.uses}`);
  const def = session.d.registry.require(ref.uses);
  const parsed = def.params.safeParse(ref.with);
  if (!parsed.success) {
    throw new CodedError(
      'action_params_invalid',
      `invalid parameters for ${ref.uses}: ${parsed.error.message}`,
    );
  }
  const n = incident.steps.filter((s) => s.adhoc).length + 1;
  const adhoc = { title: ref.title ?? `Run ${ref.uses}`, uses: ref.uses, with: toJsonRecord(ref.with) };
  const step = adhocStep(`adhoc-${n}`, adhoc);
  await session.d.journal.record({
    incident,
    kind: 'step.started',
    summary: `${caller.actor} runs ${ref.uses} now (outside the playbook's order)`,
    details: { step: step.id, uses: ref.uses },
    actor: caller.actor,
    key: `${step.id}:requested`,
  });
  const started = await session.steps.ensureState(incident, step, {
    adhoc,
    requestedBy: caller.actor,
    confirmedBy: { by: caller.actor, at: nowIso(session.d.clock) },
  });
  return session.steps.run(started, step, caller.actor);
}

export async function close(
  session: Session,
  incident: Incident,
  caller: Caller,
  reason: string,
): Promise<Incident> {
  await session.gate(incident, caller, 'close', 'close the incident');
  const withReason = await session.d.journal.mutate(
    incident.id,
    (d) => {
      d.closeReason = reason;
    },
    incident,
  );
  const closed = await session.steps.setStatus(withReason, 'closed', caller.actor, reason);
  await session.d.journal.record({
    incident: closed,
    kind: 'incident.closed',
    summary: `Incident closed: ${reason}`,
    details: { reason },
    actor: caller.actor,
    key: 'closed',
  });
  await session.timers.unwatch(incident.id);
  return closed;
}

export function adhocStep(
  id: string,
  adhoc: { title: string; uses: string; with: Record<string, unknown> },
): Step {
  return {
    id,
    title: adhoc.title,
    checklist: [],
    actions: [{ id: adhoc.uses.replaceAll('.', '-'), uses: adhoc.uses, with: adhoc.with }],
    urgent: false,
    notes: [],
  };
}

function toJsonRecord(value: Record<string, unknown>): Record<string, Json> {
  const json = toJson(value);
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {};
}

/** The presenter posted the incident's root message: the first thread wins. */
export async function attachThread(
  session: Session,
  incident: Incident,
  thread: { channel: string; ts: string },
): Promise<Incident> {
  if (incident.slack) return incident;
  await session.d.journal.record({
    incident,
    kind: 'slack.posted',
    summary: `Slack thread opened in ${thread.channel}`,
    details: { channel: thread.channel, ts: thread.ts },
    key: 'slack:thread',
  });
  return session.d.journal.mutate(incident.id, (d) => {
    d.slack ??= { channel: thread.channel, ts: thread.ts, steps: {} };
  });
}

export async function attachStepMessage(
  session: Session,
  incident: Incident,
  stepId: string,
  ts: string,
): Promise<Incident> {
  if (!incident.slack || incident.slack.steps[stepId] === ts) return incident;
  await session.d.journal.record({
    incident,
    kind: 'slack.posted',
    summary: `Slack: message for step ${stepId} posted in the thread`,
    details: { step: stepId, ts },
    key: `slack:step:${stepId}`,
  });
  return session.d.journal.mutate(incident.id, (d) => {
    if (d.slack) d.slack.steps[stepId] = ts;
  });
}

export async function attachUpload(session: Session, incident: Incident, upload: Upload): Promise<boolean> {
  return session.d.journal.record({
    incident,
    kind: 'slack.uploaded',
    summary: `Slack: ${upload.name} uploaded to the thread (${upload.size} bytes, sha256 ${upload.sha256})`,
    details: {
      name: upload.name,
      size: upload.size,
      sha256: upload.sha256,
      file_id: upload.fileId,
      channel: upload.channel,
      thread_ts: upload.threadTs,
    },
    // One upload per artifact: artifacts are stored once, so the name is the artifact.
    key: `slack:upload:${upload.name}`,
  });
}

/**
 * A drill's injected Slack rate limit met and got through. Recorded once per method: the event moves
 * the root message, whose update may be limited again, and that must not record (and move it) again.
 */
export function recordSlackRateLimit(
  session: Session,
  incident: Incident,
  met: SlackRateLimitMet,
): Promise<boolean> {
  return session.d.journal.record({
    incident,
    kind: 'slack.posted',
    summary: `Slack: ${met.method} answered HTTP 429 with Retry-After ${met.retryAfterS} s (the drill's injected rate limit); sent again ${(met.waitedMs / 1000).toFixed(1)} s later and delivered`,
    details: {
      complication: SLACK_RATE_LIMIT_COMPLICATION,
      method: met.method,
      retry_after_s: met.retryAfterS,
      waited_ms: met.waitedMs,
    },
    key: `slack:rate-limit:${met.method}`,
  });
}
