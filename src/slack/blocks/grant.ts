// A break-glass grant's message in its incident's thread: posted when it is requested and edited in
// place as it moves (approvals, applied and verified, extended, ended). Its buttons carry only the
// grant id; the listener reads everything else from the store.
import type { GrantPreview } from '../../breakglass/ports.js';
import type { Grant } from '../../domain/grant.js';
import { oneLine } from './escape.js';
import {
  actorSegment,
  actorText,
  idText,
  mrkdwn,
  plain,
  plural,
  shortDuration,
  slackDate,
} from './format.js';
import {
  describeGrantSpec,
  endsText,
  grantKindLabels,
  grantStatusEmoji,
  grantStatusLabels,
  reasonAndTicket,
  utcText,
  warningLines,
  yamlSections,
} from './grant-text.js';
import { ACTION_IDS } from './ids.js';
import { enforceMessage } from './limits.js';
import { richText, type Segment } from './rich.js';
import type { Block, Button, SlackMessage } from './types.js';

const objectsHeading: Record<Grant['status'], string> = {
  pending: '*What approval creates*, exactly:',
  approved: '*What approval creates*, exactly:',
  active: '*What this grant created* (as applied):',
  denied: '*What approval would have created*:',
  request_expired: '*What approval would have created*:',
  revoked: '*What this grant created* (removed when it ended):',
  expired: '*What this grant created* (removed when it ended):',
  failed: '*What this grant would have created* (anything applied is removed):',
};

/** At most this many sections of YAML in a message (the rest is cut visibly). */
const YAML_BLOCKS = 8;

function approvalsText(grant: Grant): string {
  const who = grant.approvals.map((a) => `${actorText(a.by)} at ${slackDate(a.at)}`).join(', ');
  return `${grant.approvals.length} of ${grant.approvalsRequired}${who ? `: ${who}` : ''}`;
}

function endsField(grant: Grant): string {
  if (grant.ended) return `*Ended*\n${utcText(grant.ended.at)}`;
  if (grant.expiresAt) return `*Ends*\n${utcText(grant.expiresAt)}\n${slackDate(grant.expiresAt)}`;
  if (grant.status !== 'pending' && grant.status !== 'approved') return '*Ends*\nnever started';
  const pending = grant.status === 'pending' ? `\n(request expires ${utcText(grant.requestExpiresAt)})` : '';
  return `*Ends*\n${shortDuration(grant.durationMs)} after approval${pending}`;
}

function button(
  actionId: string,
  text: string,
  grant: Grant,
  style?: 'primary' | 'danger',
  confirm?: { title: string; text: string; confirm: string },
): Button {
  return {
    type: 'button',
    action_id: actionId,
    text: plain(text),
    value: grant.id,
    ...(style ? { style } : {}),
    ...(confirm
      ? {
          confirm: {
            title: plain(confirm.title),
            text: mrkdwn(confirm.text),
            confirm: plain(confirm.confirm),
            deny: plain('Cancel'),
          },
        }
      : {}),
  };
}

/** The buttons a grant offers in its state: decide while pending (or while an extension waits), end or extend while active. */
export function grantButtons(grant: Grant): Button[] {
  const dry = grant.drill ? ' (dry run)' : '';
  const what = describeGrantSpec(grant.spec, grant.incidentId);
  if (grant.status === 'pending') {
    return [
      button(ACTION_IDS.grantApprove, `Approve${dry}`, grant, 'primary', {
        title: 'Approve this grant?',
        text: `Approve ${idText(grant.id)}: ${what}, for ${shortDuration(grant.durationMs)} from approval.`,
        confirm: 'Approve',
      }),
      button(ACTION_IDS.grantDeny, 'Deny', grant, 'danger'),
    ];
  }
  if (grant.status !== 'active') return [];
  if (grant.extension) {
    return [
      button(ACTION_IDS.grantApprove, `Approve extension${dry}`, grant, 'primary', {
        title: 'Approve the extension?',
        text: `${idText(grant.id)} lasts ${shortDuration(grant.extension.durationMs)} longer: ${what}.`,
        confirm: 'Approve',
      }),
      button(ACTION_IDS.grantDeny, 'Deny extension', grant),
      button(ACTION_IDS.grantRevoke, 'Revoke', grant, 'danger'),
    ];
  }
  return [
    button(ACTION_IDS.grantExtend, 'Extend', grant),
    button(ACTION_IDS.grantRevoke, 'Revoke', grant, 'danger'),
  ];
}

const bold = (text: string): Segment => ({ text, bold: true });

/** Reasons and errors are people's and the API's words: shown as written, on one line each. */
function extensionLines(grant: Grant): Segment[] | undefined {
  const x = grant.extension;
  if (!x || grant.status !== 'active') return undefined;
  const until = grant.expiresAt
    ? ` (would end ${utcText(new Date(Date.parse(grant.expiresAt) + x.durationMs).toISOString())})`
    : '';
  const requester = actorSegment(x.requester);
  return [
    '⏩ ',
    bold('Extension requested'),
    ' by ',
    requester,
    `: ${shortDuration(x.durationMs)} more${until}\n`,
    bold('Reason:'),
    ` ${oneLine(x.reason)}\n`,
    bold('Approvals:'),
    ` ${x.approvals.length} of ${grant.approvalsRequired} — `,
    requester,
    ` cannot approve it; the request expires ${utcText(x.requestExpiresAt)}`,
  ];
}

function endLines(grant: Grant): Segment[] | undefined {
  const lines: Segment[][] = [];
  if (grant.denial) {
    const { by, at, reason } = grant.denial;
    lines.push([bold('Denied'), ' by ', actorSegment(by), ' at ', { date: at }, `: ${oneLine(reason)}`]);
  } else if (grant.ended) {
    const { by, at, reason } = grant.ended;
    const label = grantStatusLabels[grant.status];
    const who: Segment[] = by === 'system' ? [] : [' by ', actorSegment(by)];
    const why = reason === grant.status || reason === label ? '' : `: ${oneLine(reason)}`;
    lines.push([
      bold(`${label.charAt(0).toUpperCase()}${label.slice(1)}`),
      ...who,
      ' at ',
      { date: at },
      why,
    ]);
  }
  const r = grant.removal;
  if (r?.removedAt) lines.push([`🧹 Its objects were removed at ${utcText(r.removedAt)}.`]);
  else if (r?.lastError) {
    lines.push([
      '🚨 ',
      bold('Removal failed'),
      ` (${plural(r.attempts, 'attempt')}): ${oneLine(r.lastError)} — retried until it succeeds.`,
    ]);
  }
  return lines.length > 0 ? lines.flatMap((l, i) => (i === 0 ? l : ['\n', ...l])) : undefined;
}

/** The grant's message in the incident thread. `preview` is the reader's rendering of the stored grant. */
export function renderGrantMessage(
  grant: Grant,
  preview: Pick<GrantPreview, 'yaml' | 'warnings'>,
): SlackMessage {
  const drill = grant.drill ? 'DRILL · ' : '';
  const status = `${grantStatusEmoji[grant.status]} ${grantStatusLabels[grant.status]}`;
  const blocks: Block[] = [
    {
      type: 'header',
      text: plain(`🔐 ${drill}Break-glass ${grant.id} · ${grantKindLabels[grant.spec.kind]}`),
    },
  ];
  if (grant.drill) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn('🧪 *DRILL* — dry run: every cluster write is a server-side dry run; nothing is created.'),
      ],
    });
  }
  blocks.push(
    {
      type: 'section',
      text: mrkdwn(
        `*Status:* ${status}   ·   *Incident:* ${idText(grant.incidentId)}\n${describeGrantSpec(grant.spec, grant.incidentId)}`,
      ),
    },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Requested by*\n${actorText(grant.requester)} at ${slackDate(grant.requestedAt)}`),
        mrkdwn(`*Duration*\n${shortDuration(grant.durationMs)}`),
        mrkdwn(endsField(grant)),
        mrkdwn(`*Approvals*\n${approvalsText(grant)}`),
      ],
    },
    reasonAndTicket(grant.reason, grant.ticket),
  );
  if (grant.status === 'pending') {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `${actorText(grant.requester)} asked for this and cannot approve it: it needs ${plural(grant.approvalsRequired, 'approval')} from approvers other than the requester.`,
        ),
      ],
    });
  }
  blocks.push({
    type: 'section',
    text: mrkdwn(objectsHeading[grant.status]),
  });
  blocks.push(...yamlSections(preview.yaml, YAML_BLOCKS));
  if (preview.warnings.length > 0) {
    blocks.push(warningLines(preview.warnings.slice(0, 10)));
  }
  if (grant.verification) {
    blocks.push(richText([`🔍 ${oneLine(grant.verification)}`]));
  }
  const extension = extensionLines(grant);
  if (extension) blocks.push(richText(extension));
  const ended = endLines(grant);
  if (ended) blocks.push(richText(ended));
  const buttons = grantButtons(grant);
  if (buttons.length > 0) {
    // The version in block_id: Slack clients then redraw the buttons on every edit.
    blocks.push({ type: 'actions', block_id: `grant:${grant.id}:${grant.version}`, elements: buttons });
  }
  const text = `${grant.drill ? '[DRILL] ' : ''}Break-glass ${grant.id} for ${idText(grant.incidentId)} (${grantStatusLabels[grant.status]}, ${endsText(grant)}): ${describeGrantSpec(grant.spec, grant.incidentId)}`;
  return enforceMessage({ text, blocks }, { incidentId: grant.incidentId });
}
