import { CodedError } from '../domain/errors.js';
import type { Grant, GrantApproval } from '../domain/grant.js';
import { type Incident, isActive } from '../domain/incident.js';
import type { Caller } from '../engine/ports.js';
import type { GrantEvents } from './events.js';
import type { BreakglassDeps } from './settings.js';
import { invalid } from './validate.js';

// The two-person rule for grants and their extensions, and the reason every ending needs. Each
// refusal is recorded on the incident before it is thrown (events.ts).

export function reasonOf(reason: unknown, field = 'reason'): string {
  const text = typeof reason === 'string' ? reason.trim() : '';
  if (text === '' || text.length > 2000) {
    throw invalid('a reason is required', [
      { path: field, message: text === '' ? 'a reason is required' : 'expected at most 2000 characters' },
    ]);
  }
  return text;
}

/**
 * Approvers only; never whoever asked (the grant's requester, or the extension's), whatever other
 * roles they hold, and whoever else already approved; never twice; the incident must still be active.
 */
export async function mayDecide(
  d: BreakglassDeps,
  events: GrantEvents,
  incident: Incident | undefined,
  g: Grant,
  caller: Caller,
  verb: 'approve' | 'deny',
  requester: string,
  approvals: readonly GrantApproval[],
): Promise<void> {
  const what = `${verb} it`;
  if (!incident || !isActive(incident)) {
    throw new CodedError(
      'incident_closed',
      `incident ${g.incidentId} is closed: its grants can no longer be decided`,
    );
  }
  if (!d.access.has(caller.actor, 'approver')) {
    await events.refuse(incident, g.id, caller, what, 'not_authorized', 'it needs the approver role');
  }
  if (caller.actor === requester) {
    await events.refuse(
      incident,
      g.id,
      caller,
      what,
      'approval_refused',
      'the requester may not decide their own request (two-person rule)',
    );
  }
  if (approvals.some((a) => a.by === caller.actor)) {
    await events.refuse(
      incident,
      g.id,
      caller,
      what,
      'approval_refused',
      `${caller.actor} has already approved it`,
    );
  }
}
