// The thread line of an SLA breach: what the step waits for, and the people who can unblock it.
import type { TimelineEvent } from '../../domain/timeline.js';
import { escapeMrkdwn } from './escape.js';
import { actorText } from './format.js';

const GROUP = /^S[A-Z0-9]{2,}$/;
const USER = /^[UW][A-Z0-9]{2,}$/;
/** More individual mentions than this is a broadcast: then the line says how many were left out. */
const MAX_USERS = 5;

/**
 * Who an SLA reminder mentions: the incident commander when there is one (recorded on the event);
 * else the responders from the config — their user groups (`<!subteam^S…>`) when any are listed,
 * otherwise the first few responders by name.
 */
export function slaMentions(commander: string | undefined, responders: readonly string[]): string {
  if (commander) return `${actorText(commander)} (commander)`;
  const groups = responders.filter((r) => GROUP.test(r));
  if (groups.length > 0) return groups.map((g) => `<!subteam^${g}>`).join(' ');
  const users = responders.filter((r) => USER.test(r));
  if (users.length === 0) return 'no commander and no responders configured';
  const named = users.slice(0, MAX_USERS).map((u) => `<@${u}>`);
  const more = users.length - named.length;
  return `${named.join(' ')}${more > 0 ? ` and ${more} more responder${more === 1 ? '' : 's'}` : ''} (responders)`;
}

export function slaBreachLine(event: TimelineEvent, responders: readonly string[]): string {
  const commander = typeof event.details.commander === 'string' ? event.details.commander : undefined;
  return `:alarm_clock: ${escapeMrkdwn(event.summary)} — ${slaMentions(commander, responders)}`;
}
