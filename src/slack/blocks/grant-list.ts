// `/egress grants`: live grants with the time left (to decide, or until they end), and the thread
// lines that announce how a grant ended.
import type { Grant } from '../../domain/grant.js';
import type { TimelineEvent } from '../../domain/timeline.js';
import { oneLine } from './escape.js';
import { actorSegment, idText, mrkdwn, plain, plural } from './format.js';
import {
  describeGrantSpec,
  grantKindLabels,
  grantStatusEmoji,
  grantStatusLabels,
  timeLeft,
  utcText,
} from './grant-text.js';
import { ACTION_IDS } from './ids.js';
import { enforceMessage } from './limits.js';
import { fallbackText, richText, type Segment } from './rich.js';
import type { Block, Button, SlackMessage } from './types.js';

/** What the person asking may do with a grant (the service decides again on the click). */
export interface GrantPermissions {
  revoke: boolean;
  extend: boolean;
}

/**
 * Each grant takes three blocks (its line, who asked and why as typed, buttons): this many fit in a
 * message with the header and two footer lines.
 */
const MAX_SHOWN = 15;

function timing(grant: Grant, now: number): string {
  switch (grant.status) {
    case 'pending':
      return `${timeLeft(grant.requestExpiresAt, now)} to decide`;
    case 'approved':
      return 'being applied';
    case 'active':
      return grant.expiresAt
        ? `${timeLeft(grant.expiresAt, now)} (ends ${utcText(grant.expiresAt)})`
        : 'active';
    default:
      return grant.ended ? `ended ${timeLeft(grant.ended.at, now)}` : grantStatusLabels[grant.status];
  }
}

function buttonsFor(grant: Grant, may: GrantPermissions): Button[] {
  const out: Button[] = [];
  const live = grant.status === 'pending' || grant.status === 'active';
  if (grant.status === 'active' && !grant.extension && may.extend) {
    out.push({ type: 'button', action_id: ACTION_IDS.grantExtend, text: plain('Extend'), value: grant.id });
  }
  if (live && may.revoke) {
    out.push({
      type: 'button',
      action_id: ACTION_IDS.grantRevoke,
      text: plain(grant.status === 'pending' ? 'Withdraw' : 'Revoke'),
      value: grant.id,
      style: 'danger',
    });
  }
  return out;
}

/** The ephemeral answer to `/egress grants [all]`, newest first. */
export function renderGrantList(
  grants: readonly Grant[],
  opts: { now: number; all: boolean; may: (grant: Grant) => GrantPermissions },
): SlackMessage {
  const title = opts.all ? 'Break-glass grants (live and recently ended)' : 'Live break-glass grants';
  const blocks: Block[] = [{ type: 'header', text: plain(title) }];
  if (grants.length === 0) {
    blocks.push({
      type: 'section',
      text: mrkdwn(opts.all ? '_No grants recorded recently._' : '_No pending or active grants._'),
    });
  }
  const shown = grants.slice(0, MAX_SHOWN);
  for (const g of shown) {
    const drill = g.drill ? ' · 🧪 DRILL (dry run)' : '';
    const line =
      `${grantStatusEmoji[g.status]} *${idText(g.id)}* · ${idText(g.incidentId)} · ${grantKindLabels[g.spec.kind]} · *${grantStatusLabels[g.status]}*, ${timing(g, opts.now)}${drill}\n` +
      `${describeGrantSpec(g.spec, g.incidentId)}`;
    blocks.push(
      { type: 'section', text: mrkdwn(line) },
      richText([
        'requested by ',
        actorSegment(g.requester),
        ` · approvals ${g.approvals.length} of ${g.approvalsRequired}${g.extension ? ' · extension waiting for approval' : ''} · ${oneLine(g.reason)}`,
      ]),
    );
    const buttons = buttonsFor(g, opts.may(g));
    if (buttons.length > 0) blocks.push({ type: 'actions', block_id: `grants:${g.id}`, elements: buttons });
  }
  if (grants.length > shown.length) {
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`… ${plural(grants.length - shown.length, 'more grant')} not shown.`)],
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        'Pending grants are approved or denied on their message in the incident thread. `/egress grants all` adds recently ended ones.',
      ),
    ],
  });
  const live = grants.filter(
    (g) => g.status === 'pending' || g.status === 'approved' || g.status === 'active',
  );
  return enforceMessage({
    text: `${plural(live.length, 'live break-glass grant')}${opts.all ? `, ${grants.length - live.length} ended` : ''}`,
    blocks,
  });
}

/** Thread lines for a grant's events that the message alone would not announce. */
const announced: Partial<Record<TimelineEvent['kind'], string>> = {
  'grant.denied': '⛔',
  'grant.request_expired': '⌛',
  'grant.failed': '❌',
  'grant.extended': '⏩',
  'grant.revoked': '⏹️',
  'grant.expired': '🔒',
  'grant.removed': '🧹',
  'grant.removal_failed': '🚨',
};

export function isAnnouncedGrantEvent(kind: TimelineEvent['kind']): boolean {
  return announced[kind] !== undefined;
}

/**
 * How the thread hears about a grant's end (and extensions). A failed removal is loud: it is said
 * every time it is recorded, and also broadcast to the channel by the presenter.
 */
export function renderGrantAnnouncement(
  event: TimelineEvent,
  grant: Pick<Grant, 'id' | 'drill'>,
): SlackMessage {
  const emoji = announced[event.kind] ?? 'ℹ️';
  const drill = grant.drill ? '[DRILL] ' : '';
  // The service's summaries name the grant first; the line names it already.
  const prefix = `Break-glass ${grant.id}: `;
  const summary = event.summary.startsWith(prefix) ? event.summary.slice(prefix.length) : event.summary;
  // The summary carries people's reasons and the API's errors: shown as written.
  const body: Segment[] =
    event.kind === 'grant.removal_failed'
      ? [
          `${emoji} ${drill}`,
          { text: `Break-glass ${grant.id}: removal failed`, bold: true },
          ` — ${oneLine(summary)}\nIts objects may still be in the cluster. Retrying until this thread says they are removed.`,
        ]
      : [
          `${emoji} ${drill}`,
          { text: `Break-glass ${grant.id}`, bold: true },
          `: ${oneLine(summary)}`,
          ...(event.actor !== 'system' ? [' (', actorSegment(event.actor), ')'] : []),
        ];
  return enforceMessage({
    text: fallbackText([`${drill}Break-glass ${grant.id}: ${oneLine(summary)}`]),
    blocks: [richText(body)],
  });
}
