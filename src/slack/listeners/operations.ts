import { CodedError } from '../../domain/errors.js';
import { type Incident, statusLabels } from '../../domain/incident.js';
import type { Caller } from '../../engine/ports.js';
import { exportTimeline } from '../../timeline/export.js';
import { markDrillComment } from '../blocks/drill.js';
import { plainLine } from '../blocks/escape.js';
import { stepHeadline } from '../blocks/steps.js';
import { type SlackDeps, stepWithRole } from '../deps.js';

// What a click or a command does, once: buttons and /egress subcommands share these. Steps are found
// by their role in the playbook, never guessed.

export async function contain(deps: SlackDeps, id: string, by: Caller): Promise<string> {
  const step = stepWithRole(deps, await deps.reader.get(id), 'contain');
  const after = await deps.commands.runStepNow(id, step.id, by);
  const state = after.steps.find((s) => s.id === step.id);
  return state?.status === 'awaiting_confirmation'
    ? `Containment preview for ${id} is in its thread: check it and press Confirm.`
    : `Containment for ${id}: ${state ? stepHeadline(state).label : 'not started'}${state?.reason ? ` (${state.reason})` : ''}.`;
}

/** A responder asks; the presenter posts Approve/Deny for an approver who is not the requester. */
export async function release(deps: SlackDeps, id: string, by: Caller): Promise<string> {
  const step = stepWithRole(deps, await deps.reader.get(id), 'contain');
  await deps.commands.requestRevert(id, step.id, by);
  return `Release of ${id} requested: an approver other than you decides in its thread.`;
}

export async function decideRelease(
  deps: SlackDeps,
  id: string,
  by: Caller,
  decision: 'approve' | 'deny',
): Promise<string> {
  const after = await deps.commands.decideRevert(id, by, decision);
  return decision === 'approve'
    ? `Containment of ${id} released (status: ${statusLabels[after.status]}).`
    : `Release of ${id} denied.`;
}

export async function rotate(deps: SlackDeps, id: string, by: Caller, hook?: string): Promise<string> {
  const incident = await deps.reader.get(id);
  if (!hook) {
    const step = stepWithRole(deps, incident, 'rotate');
    const after = await deps.commands.runStepNow(id, step.id, by);
    const state = after.steps.find((s) => s.id === step.id);
    return `Rotation step for ${id}: ${state ? stepHeadline(state).label : 'not started'}.`;
  }
  const refs = deps.reader.playbookOf(incident)?.playbook.steps.flatMap((s) => s.actions) ?? [];
  const ref = refs.find((a) => a.id === hook || a.uses === hook);
  if (!ref) {
    const known = refs
      .filter((a) => a.uses.startsWith('rotate.') || a.uses.startsWith('k8s.'))
      .map((a) => a.id ?? a.uses);
    throw new CodedError(
      'command_invalid',
      `no hook "${plainLine(hook).slice(0, 60)}" in playbook ${incident.playbook.id}; known: ${known.join(', ') || 'none'}`,
    );
  }
  const after = await deps.commands.runAction(
    id,
    { uses: ref.uses, with: ref.with, title: `Rotate: ${ref.id ?? ref.uses}` },
    by,
  );
  const ran = after.steps.filter((s) => s.adhoc?.uses === ref.uses).at(-1);
  const action = ran?.actions[0];
  return `${ref.uses}: ${summaryOf(action?.outcome) ?? summaryOf(action?.plan) ?? action?.status ?? 'not run'}${action?.error ? ` (${action.error.message})` : ''}`;
}

function summaryOf(stored: unknown): string | undefined {
  return stored !== null &&
    typeof stored === 'object' &&
    'summary' in stored &&
    typeof stored.summary === 'string'
    ? stored.summary
    : undefined;
}

export async function postTimeline(
  deps: SlackDeps,
  id: string,
  format: 'md' | 'json',
  by: Caller,
): Promise<string> {
  const { incident, events } = await deps.commands.viewTimeline(id, by);
  const content = exportTimeline(format, incident, events);
  if (!incident.slack)
    return `Timeline of ${id} has ${events.length} events; it has no Slack thread to attach it to.`;
  await deps.client.files.uploadV2({
    channel_id: incident.slack.channel,
    thread_ts: incident.slack.ts,
    filename: `${id}-timeline.${format}`,
    title: `Timeline of ${id} (${format === 'md' ? 'Markdown' : 'JSON'})`,
    content,
    initial_comment: markDrillComment(
      `Timeline requested by <@${by.actor.replace(/^slack:/, '')}>: ${events.length} events.`,
      incident.drill,
    ),
  });
  return `Timeline of ${id} (${events.length} events) attached to its thread.`;
}

export function statusLine(incident: Incident): string {
  const d = incident.alert.destination;
  const s = incident.alert.source;
  return plainLine(
    `${incident.id}: ${statusLabels[incident.status]} — ${s.service}.${s.namespace} → ${d.name}:${d.port}/${d.protocol} (${incident.count} alert${incident.count === 1 ? '' : 's'}, ${incident.verdict.kind}${incident.resolvedAt ? `, resolved by the sender at ${incident.resolvedAt}` : ''})`,
  );
}
