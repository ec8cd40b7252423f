// The thread line of an SLA breach: what the step waits for, and the people who can unblock it.
import type { TimelineEvent } from '../../domain/timeline.js';
import { actorSegment } from './format.js';
import type { Segment } from './rich.js';

const GROUP = /^S[A-Z0-9]{2,}$/;
const USER = /^[UW][A-Z0-9]{2,}$/;
/** More individual mentions than this is a broadcast: then the line says how many were left out. */
const MAX_USERS = 5;

/** Segments with a space between each. */
function spaced(segments: readonly Segment[]): Segment[] {
  return segments.flatMap((s, i) => (i === 0 ? [s] : [' ', s]));
}

/**
 * Who an SLA reminder mentions: the incident commander when there is one (recorded on the event);
 * else the responders from the config — their user groups when any are listed, otherwise the first
 * few responders by name.
 */
export function slaMentions(commander: string | undefined, responders: readonly string[]): Segment[] {
  if (commander) return [actorSegment(commander), ' (commander)'];
  const groups = responders.filter((r) => GROUP.test(r));
  if (groups.length > 0) return spaced(groups.map((g) => ({ group: g })));
  const users = responders.filter((r) => USER.test(r));
  if (users.length === 0) return ['no commander and no responders configured'];
  const named = spaced(users.slice(0, MAX_USERS).map((u) => ({ user: u })));
  const more = users.length - Math.min(users.length, MAX_USERS);
  return [...named, `${more > 0 ? ` and ${more} more responder${more === 1 ? '' : 's'}` : ''} (responders)`];
}

export function slaBreachLine(event: TimelineEvent, responders: readonly string[]): Segment[] {
  const commander = typeof event.details.commander === 'string' ? event.details.commander : undefined;
  return [{ emoji: 'alarm_clock' }, ` ${event.summary} — `, ...slaMentions(commander, responders)];
}
