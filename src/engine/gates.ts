import type { AccessPolicy, Role } from '../domain/access.js';
import type { Incident, StepState } from '../domain/incident.js';
import type { Approval, Step } from '../playbooks/schema.js';

// Who may do what, as pure rules. Every refusal is a sentence for the person refused; the engine
// records it in the timeline and throws it, in one place.

/** Everything a person can ask the engine to do, and the role it needs. */
export const commandRoles = {
  acknowledge: 'responder',
  tick: 'responder',
  confirm: 'responder',
  'run-step': 'responder',
  retry: 'responder',
  'run-action': 'responder',
  'request-release': 'responder',
  revert: 'approver',
  note: 'responder',
  close: 'responder',
  view: 'viewer',
} as const satisfies Record<string, Role>;
export type Command = keyof typeof commandRoles;

/** The role `actor` lacks to run `command`, or undefined when they may. */
export function missingRole(access: AccessPolicy, actor: string, command: Command): Role | undefined {
  const role = commandRoles[command];
  return access.has(actor, role) ? undefined : role;
}

/**
 * Everyone who asked for a step or confirmed it: under the two-person rule none of them may approve
 * it. (Confirming never rewrites who requested, so both are kept.)
 */
export function requestersOf(state: StepState): string[] {
  return [
    ...new Set([state.requestedBy, state.confirmedBy?.by].filter((x): x is string => !!x && x !== 'system')),
  ];
}

const bare = (actor: string) => actor.replace(/^slack:/, '');

/** Why `actor` may not decide an approval of `step`, or undefined when they may. */
export function approvalRefusal(
  rule: Approval,
  state: StepState,
  actor: string,
  access: AccessPolicy,
): string | undefined {
  const allowed = Array.isArray(rule.from)
    ? rule.from.includes(bare(actor))
    : access.has(actor, rule.from === 'approvers' ? 'approver' : 'responder');
  if (!allowed)
    return `only ${Array.isArray(rule.from) ? rule.from.join(', ') : rule.from} may decide this step`;
  if (!rule.allow_requester && requestersOf(state).includes(actor)) {
    return 'the person who asked for or confirmed this step may not approve it (two-person rule)';
  }
  if (state.approvals.some((a) => a.by === actor)) return `${actor} has already decided this step`;
  return undefined;
}

export function approvalSatisfied(step: Step, state: StepState): boolean {
  const approvals = state.approvals.filter((a) => a.decision === 'approve');
  return approvals.length >= (step.approval?.count ?? 0);
}

/** What the step still waits for, in words. */
export function approvalAsk(step: Step, state: StepState): string {
  const rule = step.approval!;
  const have = state.approvals.filter((a) => a.decision === 'approve').length;
  const who = Array.isArray(rule.from) ? rule.from.join(', ') : rule.from;
  return `Step "${step.title}" needs ${rule.count - have} more approval(s) from ${who}${rule.allow_requester ? '' : ' (not the requester)'}`;
}

/** Why `actor` may not decide the release of `incident`, or undefined. */
export function releaseRefusal(incident: Incident, actor: string, access: AccessPolicy): string | undefined {
  const pending = incident.pendingRevert;
  if (!pending) return undefined;
  if (!access.has(actor, 'approver')) return 'only approvers may decide a release';
  if (pending.requestedBy === actor)
    return 'the requester may not approve their own request (two-person rule)';
  return undefined;
}
