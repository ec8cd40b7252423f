import { CodedError } from '../../domain/errors.js';
import { type Incident, statusLabels } from '../../domain/incident.js';
import { exportTimeline } from '../../timeline/export.js';
import { containStepId, rotateStepId, type SlackDeps } from '../deps.js';

// What a click or a command does, once: buttons and /egress subcommands share these.

export async function contain(deps: SlackDeps, id: string, actor: string): Promise<string> {
  const incident = await deps.engine.get(id);
  const step = containStepId(deps, incident.playbook.id);
  if (!step)
    throw new CodedError('command_invalid', `playbook ${incident.playbook.id} has no containment step`);
  const after = await deps.engine.runStepNow(id, step, actor);
  const state = after.steps.find((s) => s.id === step);
  return state?.status === 'awaiting_confirmation'
    ? `Containment preview for ${id} is in its thread: check it and press Confirm.`
    : `Containment for ${id}: ${state?.status ?? 'not started'}${state?.reason ? ` (${state.reason})` : ''}.`;
}

/** A responder asks; the presenter posts Approve/Deny for an approver who is not the requester. */
export async function release(deps: SlackDeps, id: string, actor: string): Promise<string> {
  const incident = await deps.engine.get(id);
  const step = containStepId(deps, incident.playbook.id);
  if (!step)
    throw new CodedError('command_invalid', `playbook ${incident.playbook.id} has no containment step`);
  await deps.engine.requestRevert(id, step, actor);
  return `Release of ${id} requested: an approver other than you decides in its thread.`;
}

export async function decideRelease(
  deps: SlackDeps,
  id: string,
  actor: string,
  decision: 'approve' | 'deny',
): Promise<string> {
  const after = await deps.engine.decideRevert(id, actor, decision);
  return decision === 'approve'
    ? `Containment of ${id} released (status: ${statusLabels[after.status]}).`
    : `Release of ${id} denied.`;
}

export async function rotate(deps: SlackDeps, id: string, actor: string, hook?: string): Promise<string> {
  const incident = await deps.engine.get(id);
  const step = rotateStepId(deps, incident.playbook.id);
  const pb = deps.engine.playbookOf(incident)?.playbook;
  if (hook) {
    const ref = pb?.steps.flatMap((s) => s.actions).find((a) => a.id === hook || a.uses === hook);
    if (!ref) {
      const known = pb?.steps.flatMap((s) =>
        s.actions
          .filter((a) => a.uses.startsWith('rotate.') || a.uses.startsWith('k8s.'))
          .map((a) => a.id ?? a.uses),
      );
      throw new CodedError(
        'command_invalid',
        `no hook "${hook}" in playbook ${incident.playbook.id}; known: ${known?.join(', ') || 'none'}`,
      );
    }
    const r = await deps.engine.runAction(id, ref.uses, ref.with, actor, { dryRun: false });
    return `${ref.uses}: ${r.outcome?.summary ?? r.plan.summary}`;
  }
  if (!step) throw new CodedError('command_invalid', `playbook ${incident.playbook.id} has no rotation step`);
  const after = await deps.engine.runStepNow(id, step, actor);
  return `Rotation step for ${id}: ${after.steps.find((s) => s.id === step)?.status ?? 'not started'}.`;
}

export async function postTimeline(
  deps: SlackDeps,
  id: string,
  format: 'md' | 'json',
  actor: string,
): Promise<string> {
  const incident = await deps.engine.get(id);
  const events = await deps.engine.deps.store.timeline.read(id);
  const content = exportTimeline(format, incident, events);
  if (!incident.slack)
    return `Timeline of ${id} has ${events.length} events; it has no Slack thread to attach it to.`;
  await deps.client.files.uploadV2({
    channel_id: incident.slack.channel,
    thread_ts: incident.slack.ts,
    filename: `${id}-timeline.${format}`,
    title: `Timeline of ${id} (${format === 'md' ? 'Markdown' : 'JSON'})`,
    content,
    initial_comment: `Timeline requested by <@${actor.replace(/^slack:/, '')}>: ${events.length} events.`,
  });
  return `Timeline of ${id} (${events.length} events) attached to its thread.`;
}

export function statusLine(incident: Incident): string {
  const d = incident.alert.destination;
  return `${incident.id}: ${statusLabels[incident.status]} — ${incident.alert.source.service}.${incident.alert.source.namespace} → ${d.name}:${d.port}/${d.protocol} (${incident.count} alert${incident.count === 1 ? '' : 's'}, ${incident.verdict.kind})`;
}
