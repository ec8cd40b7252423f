// Short answers visible to one person (chat.postEphemeral or respond()).
import type { Role } from '../../domain/access.js';
import { escapeInline, escapeMrkdwn } from './escape.js';
import { mrkdwn } from './format.js';
import { enforceMessage } from './limits.js';
import type { SlackMessage } from './types.js';

function one(emoji: string, body: string, text: string): SlackMessage {
  return enforceMessage({ text, blocks: [{ type: 'section', text: mrkdwn(`${emoji} ${body}`) }] });
}

/** A user-safe error (the caller decides what is safe to show). */
export function renderError(message: string): SlackMessage {
  return one('⚠️', escapeMrkdwn(message), escapeInline(message));
}

/** Informational answer, e.g. "not yet available". */
export function renderNotice(message: string): SlackMessage {
  return one('ℹ️', escapeMrkdwn(message), escapeInline(message));
}

const roleNames: Record<Role, string> = { responder: 'responders', approver: 'approvers', viewer: 'viewers' };

/** Someone without the role tried something: `You can't contain the incident: only responders can.` */
export function renderRefusal(what: string, role: Role): SlackMessage {
  const who = roleNames[role];
  const body = `You can't ${escapeInline(what)}: only ${who} can. Ask one of the ${who} listed in the egress-responder config.`;
  return one('🚫', body, `You can't ${escapeInline(what)}: only ${who} can.`);
}
