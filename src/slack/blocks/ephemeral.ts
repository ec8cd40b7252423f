// Short answers visible to one person (chat.postEphemeral or respond()).
import type { Role } from '../../domain/access.js';
import { oneLine } from './escape.js';
import { enforceMessage } from './limits.js';
import { fallbackText, richText } from './rich.js';
import type { SlackMessage } from './types.js';

/** Errors and notices can quote what someone typed: shown as written (rich_text). */
function one(emoji: string, body: string, text: string): SlackMessage {
  return enforceMessage({ text: fallbackText([oneLine(text)]), blocks: [richText([`${emoji} ${body}`])] });
}

/** A user-safe error (the caller decides what is safe to show). */
export function renderError(message: string): SlackMessage {
  return one('⚠️', message, message);
}

/** Informational answer, e.g. "not yet available". */
export function renderNotice(message: string): SlackMessage {
  return one('ℹ️', message, message);
}

const roleNames: Record<Role, string> = { responder: 'responders', approver: 'approvers', viewer: 'viewers' };

/** Someone without the role tried something: `You can't contain the incident: only responders can.` */
export function renderRefusal(what: string, role: Role): SlackMessage {
  const who = roleNames[role];
  const body = `You can't ${oneLine(what)}: only ${who} can. Ask one of the ${who} listed in the egress-responder config.`;
  return one('🚫', body, `You can't ${oneLine(what)}: only ${who} can.`);
}
