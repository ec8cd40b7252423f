// One thread message per playbook step: its status, each action's latest result, the checklist,
// the preview and the buttons the step is waiting for. Re-rendered (chat.update) as the step moves.
import type { ActionState, ActionStatus, Incident, StepState, StepStatus } from '../../domain/incident.js';
import { settledStepStatuses } from '../../domain/incident.js';
import type { Step } from '../../playbooks/schema.js';
import { escapeCode, oneLine, truncate } from './escape.js';
import { actorText, mrkdwn, plain, plural, shortDuration, slackDate } from './format.js';
import { ACTION_IDS, checklistValue, stepValue } from './ids.js';
import { enforceLimits, enforceMessage, LIMITS } from './limits.js';
import { fallbackText, richText, type Segment } from './rich.js';
import type { Block, Checkboxes, PlainTextElement, RichTextBlock, SlackMessage } from './types.js';

export const stepStatusEmoji: Record<StepStatus, string> = {
  pending: '⚪',
  running: '⏳',
  awaiting_input: '🟡',
  awaiting_confirmation: '🟡',
  awaiting_approval: '🟡',
  completed: '✅',
  skipped: '⏭️',
  failed: '❌',
};

export const stepStatusLabels: Record<StepStatus, string> = {
  pending: 'pending',
  running: 'running',
  awaiting_input: 'awaiting input (checklist)',
  awaiting_confirmation: 'awaiting confirmation',
  awaiting_approval: 'awaiting approval',
  completed: 'completed',
  skipped: 'skipped',
  failed: 'failed',
};

const actionEmoji: Record<ActionStatus, string> = {
  pending: '⚪',
  planned: '📝',
  applying: '⏳',
  applied: '✅',
  verified: '✅',
  skipped: '⏭️',
  failed: '❌',
  reverted: '↩️',
};

/** A plan, outcome or verification as stored on an ActionState (JSON). */
function field(json: unknown, key: string): unknown {
  return json !== null && typeof json === 'object' && !Array.isArray(json)
    ? (json as Record<string, unknown>)[key]
    : undefined;
}

function str(json: unknown, key: string): string | undefined {
  const v = field(json, key);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The latest thing worth saying about an action: error, outcome, plan, or the reason it was skipped. */
export function actionSummary(a: ActionState): string | undefined {
  if (a.status === 'failed' && a.error) return a.error.message;
  const outcome = str(a.outcome, 'summary');
  const reason = a.reason ?? str(a.outcome, 'reason');
  if (outcome) return reason && !outcome.includes(reason) ? `${outcome} (${reason})` : outcome;
  const plan = str(a.plan, 'summary');
  if (plan) return reason ? `${plan} (${reason})` : plan;
  return reason;
}

/** An action's line; its summary (a plan, an outcome, an API error) is shown as written. */
function actionLine(a: ActionState): Segment[] {
  const summary = actionSummary(a);
  return [
    `${actionEmoji[a.status]} `,
    { text: a.uses, code: true },
    `${a.key === a.uses ? '' : ` (${a.key})`} — ${a.status}`,
    ...(a.dryRun ? [' ', { text: '(dry run)', italic: true }] : []),
    `${a.attempts > 1 ? ` · attempt ${a.attempts}` : ''}${summary ? `: ${oneLine(summary)}` : ''}`,
  ];
}

export interface PlanSummary {
  uses: string;
  summary: string;
  /** Shown in a code block: YAML, pod lists … */
  preview?: string;
}

const FENCE_ROOM = '```\n\n```'.length;

/** What containment would change, before anything is applied. Previews are shown as code blocks. */
export function renderPreview(planSummaries: readonly PlanSummary[]): Block[] {
  const blocks: Block[] = [
    { type: 'section', text: mrkdwn('🔎 *Preview* — nothing below has been applied yet.') },
  ];
  for (const p of planSummaries) {
    blocks.push(richText([{ text: p.uses, code: true }, ` ${oneLine(p.summary)}`]));
    if (p.preview && p.preview.trim() !== '') {
      const body = truncate(escapeCode(p.preview.replace(/\s+$/, '')), LIMITS.sectionText - FENCE_ROOM);
      blocks.push({ type: 'section', text: mrkdwn(`\`\`\`\n${body}\n\`\`\``) });
    }
  }
  return enforceLimits(blocks);
}

/** One verification line (`Verification: contained`): ✅ when it passed, ⚠️ when it did not. */
export function renderVerification(line: string, ok?: boolean): RichTextBlock {
  const emoji = ok === undefined ? '🔍' : ok ? '✅' : '⚠️';
  return richText([`${emoji} ${oneLine(line)}`]);
}

function planSummaries(actions: readonly ActionState[]): PlanSummary[] {
  const out: PlanSummary[] = [];
  for (const a of actions) {
    if (a.status !== 'planned' && a.status !== 'pending') continue;
    const summary = str(a.plan, 'summary');
    if (!summary) continue;
    const preview = str(a.plan, 'preview');
    out.push({ uses: a.uses, summary, ...(preview ? { preview } : {}) });
  }
  return out;
}

function metaLine(stepDef: Step, state: StepState): string | undefined {
  const parts: string[] = [];
  if (state.startedAt) parts.push(`started ${slackDate(state.startedAt)}`);
  if (state.endedAt) parts.push(`ended ${slackDate(state.endedAt)}`);
  if (stepDef.sla !== undefined) parts.push(`SLA ${shortDuration(stepDef.sla)}`);
  if (state.requestedBy) parts.push(`requested by ${actorText(state.requestedBy)}`);
  if (state.confirmedBy)
    parts.push(`confirmed by ${actorText(state.confirmedBy.by)} at ${slackDate(state.confirmedBy.at)}`);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/**
 * A checklist item's words exactly as the playbook has them, as plain_text: Slack parses nothing in
 * it (no mentions, links, formatting or code spans), so a backtick is shown as a backtick, with no
 * look-alike and no zero-width guards. Emoji codes stay as typed.
 */
const exactly = (text: string): PlainTextElement => ({ type: 'plain_text', text, emoji: false });

/** `3. the item's words`, on one line so an item cannot fake further items. */
const numbered = (n: number, text: string) => `${n}. ${oneLine(text)}`;

function checklistBlocks(incident: Incident, stepDef: Step, state: StepState): Block[] {
  const items = stepDef.checklist;
  if (items.length === 0) return [];
  const ticked = items.filter((i) => state.checklist[i.id]);
  const blocks: Block[] = [
    {
      type: 'section',
      text: mrkdwn(`*Checklist* (${ticked.length} of ${plural(items.length, 'item')} ticked)`),
    },
  ];
  if (settledStepStatuses.includes(state.status)) {
    // Settled: a static list; ticking no longer changes anything.
    const lines = items.map((i, n) => `${state.checklist[i.id] ? '☑️' : '⬜'} ${numbered(n + 1, i.text)}`);
    blocks.push({ type: 'section', text: exactly(lines.join('\n')) });
  } else {
    // Checkboxes take 10 options each; one actions block per 10 (action_id is unique per block).
    for (let start = 0; start < items.length; start += LIMITS.checkboxOptions) {
      const chunk = items.slice(start, start + LIMITS.checkboxOptions);
      // An option shows 75 characters: when an item is longer, the chunk's items are listed in full
      // above its checkboxes (a section takes 3000), and the option carries the item's number.
      const long = chunk.some((i, n) => numbered(start + n + 1, i.text).length > LIMITS.optionText);
      if (long)
        blocks.push({
          type: 'section',
          text: exactly(chunk.map((i, n) => numbered(start + n + 1, i.text)).join('\n')),
        });
      const options = chunk.map((i, n) => ({
        text: exactly(numbered(start + n + 1, i.text)),
        value: checklistValue(incident.id, stepDef.id, i.id),
      }));
      const initial = options.filter((_, n) => state.checklist[(chunk[n] as { id: string }).id]);
      const element: Checkboxes = {
        type: 'checkboxes',
        action_id: ACTION_IDS.tick,
        options,
        ...(initial.length > 0 ? { initial_options: initial } : {}),
      };
      // The tick count is part of block_id: Slack clients keep a checkbox's local state across
      // chat.update unless the block_id changes.
      blocks.push({
        type: 'actions',
        block_id: `checklist:${stepDef.id}:${start / LIMITS.checkboxOptions}:${ticked.length}`,
        elements: [element],
      });
    }
  }
  if (ticked.length > 0) {
    // Items by number (their words are above, exactly); who and when need mrkdwn (mention, date).
    const lines = items.flatMap((i, n) => {
      const mark = state.checklist[i.id];
      return mark ? [`✓ item ${n + 1} ticked by ${actorText(mark.by)} at ${slackDate(mark.at)}`] : [];
    });
    blocks.push({ type: 'context', elements: [mrkdwn(lines.join('\n'))] });
  }
  return blocks;
}

function approvalBlocks(incident: Incident, stepDef: Step, state: StepState): Block[] {
  const needed = stepDef.approval?.count ?? 1;
  const from = stepDef.approval?.from ?? 'approvers';
  const who = Array.isArray(from) ? from.map((u) => actorText(`slack:${u}`)).join(', ') : `the ${from}`;
  const granted = state.approvals.filter((a) => a.decision === 'approve');
  const lines = [
    `🔐 *Approval needed:* ${plural(needed, 'approval')} from ${who} (${granted.length} so far).`,
  ];
  if (stepDef.approval && !stepDef.approval.allow_requester && state.requestedBy) {
    lines.push(`${actorText(state.requestedBy)} asked for this step and cannot approve it.`);
  }
  for (const a of state.approvals) {
    lines.push(
      `${a.decision === 'approve' ? '👍 approved' : '👎 denied'} by ${actorText(a.by)} at ${slackDate(a.at)}`,
    );
  }
  const value = stepValue(incident.id, stepDef.id);
  return [
    { type: 'section', text: mrkdwn(lines.join('\n')) },
    {
      type: 'actions',
      block_id: `approval:${stepDef.id}:${state.approvals.length}`,
      elements: [
        {
          type: 'button',
          action_id: ACTION_IDS.approve,
          text: plain('Approve'),
          value,
          style: 'primary',
          confirm: {
            title: plain('Approve this step?'),
            text: plain(`Approve step ${oneLine(stepDef.title)} of incident ${incident.id}.`),
            confirm: plain('Approve'),
            deny: plain('Cancel'),
          },
        },
        { type: 'button', action_id: ACTION_IDS.deny, text: plain('Deny'), value, style: 'danger' },
      ],
    },
  ];
}

function confirmBlocks(incident: Incident, stepDef: Step, state: StepState): Block[] {
  const pending = state.actions.filter((a) => a.status === 'planned' || a.status === 'pending');
  const dry = incident.drill || pending.some((a) => a.dryRun);
  // plain_text: the step's title is shown as the playbook has it.
  const what = `${plural(pending.length, 'planned action')} of step ${oneLine(stepDef.title)}`;
  return [
    {
      type: 'actions',
      block_id: `confirm:${stepDef.id}`,
      elements: [
        {
          type: 'button',
          action_id: ACTION_IDS.confirm,
          text: plain(dry ? 'Confirm (dry run)' : 'Confirm'),
          value: stepValue(incident.id, stepDef.id),
          style: 'primary',
          confirm: {
            title: plain('Apply these changes?'),
            text: plain(
              dry
                ? `Run the ${what} as a server-side dry run (nothing changes in the cluster).`
                : `Apply the ${what} to the cluster now, exactly as previewed.`,
            ),
            confirm: plain(dry ? 'Run dry run' : 'Apply'),
            deny: plain('Cancel'),
            style: 'primary',
          },
        },
      ],
    },
  ];
}

/**
 * How a step reads: its status, except a completed step that only planned (no cluster, observe mode)
 * never shows ✅ completed; and what a completed step achieved per layer follows its label.
 */
export function stepHeadline(state: StepState): { emoji: string; label: string } {
  if (state.status === 'completed' && state.result?.state === 'planned_only')
    return { emoji: '📝', label: state.result.line };
  const label = stepStatusLabels[state.status];
  return {
    emoji: stepStatusEmoji[state.status],
    label: state.status === 'completed' && state.result ? `${label} — ${state.result.line}` : label,
  };
}

/** The thread message of one step. */
export function renderStep(incident: Incident, stepDef: Step, state: StepState): SlackMessage {
  const status = state.status;
  const { emoji, label } = stepHeadline(state);
  const failedWhy = (status === 'skipped' || status === 'failed') && state.reason ? state.reason : undefined;
  const head: Segment[] = [
    `${emoji} `,
    { text: oneLine(stepDef.title), bold: true },
    ` — ${oneLine(label)}`,
    ...(failedWhy ? ['\n', { text: 'Reason:', bold: true }, ` ${oneLine(failedWhy)}`] : []),
  ];
  const blocks: Block[] = [richText(head)];
  // The playbook's own words, as written (it may quote commands in backticks).
  if (stepDef.description) blocks.push(richText([{ text: stepDef.description, italic: true }]));
  const context: string[] = [];
  const meta = metaLine(stepDef, state);
  if (meta) context.push(meta);
  if (context.length > 0) blocks.push({ type: 'context', elements: context.map(mrkdwn) });

  for (const a of state.actions) blocks.push(richText(actionLine(a)));
  for (const a of state.actions) {
    const line = str(a.verification, 'line');
    if (line) {
      const ok = field(a.verification, 'ok');
      blocks.push(renderVerification(line, typeof ok === 'boolean' ? ok : undefined));
    }
  }

  blocks.push(...checklistBlocks(incident, stepDef, state));

  const waiting = status === 'awaiting_confirmation' || status === 'awaiting_approval';
  if (waiting) {
    const plans = planSummaries(state.actions);
    if (plans.length > 0) blocks.push(...renderPreview(plans));
  }
  if (status === 'awaiting_approval') blocks.push(...approvalBlocks(incident, stepDef, state));
  if (status === 'awaiting_confirmation') blocks.push(...confirmBlocks(incident, stepDef, state));

  if (stepDef.notes.length > 0 && (waiting || settledStepStatuses.includes(status))) {
    blocks.push(richText([stepDef.notes.map((n) => `ℹ️ ${n}`).join('\n')]));
  }
  if (state.slaNotifiedAt) {
    const sla = stepDef.sla !== undefined ? `SLA of ${shortDuration(stepDef.sla)}` : 'SLA';
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`⏰ ${sla} exceeded — reminder sent ${slackDate(state.slaNotifiedAt)}`)],
    });
  }

  const text = fallbackText([
    `${emoji} ${oneLine(stepDef.title)}: ${oneLine(label)}${failedWhy ? ` (${oneLine(failedWhy)})` : ''}`,
  ]);
  return enforceMessage({ text, blocks }, { incidentId: incident.id });
}
