// `/egress drill` with no scenario: a picker of the scenarios, one Start button each (value = the
// scenario id, looked up again when clicked), and the answer once a drill has started.
import type { DrillScenario } from '../../engine/ports.js';
import { oneLine, truncate } from './escape.js';
import { mrkdwn, plain } from './format.js';
import { ACTION_IDS } from './ids.js';
import { enforceMessage } from './limits.js';
import type { Block, SlackMessage } from './types.js';

/** Slack allows 50 blocks a message: a header, a context line, and a section per scenario. */
const MAX_LISTED = 45;

export function renderDrillPicker(scenarios: readonly DrillScenario[]): SlackMessage {
  if (scenarios.length === 0) {
    const text = 'No drill scenarios are configured (the `drills:` directory has none).';
    return enforceMessage({ text, blocks: [{ type: 'section', text: mrkdwn(text) }] });
  }
  const blocks: Block[] = [
    { type: 'header', text: plain('🧪 Tabletop drills') },
    {
      type: 'context',
      elements: [
        mrkdwn(
          'A drill opens a real incident thread marked DRILL and runs the real playbook; every Kubernetes change is a server-side dry-run.',
        ),
      ],
    },
  ];
  for (const s of scenarios.slice(0, MAX_LISTED)) {
    blocks.push({
      type: 'section',
      // plain_text: the scenario's words exactly as its file has them (a section with a button
      // cannot hold rich_text, and mrkdwn has no escape for a backtick).
      text: plain(
        `${oneLine(truncate(s.title, 150))} (${s.id})${s.description ? `\n${truncate(s.description, 400)}` : ''}`,
      ),
      accessory: {
        type: 'button',
        text: plain('Start'),
        action_id: ACTION_IDS.drillStart,
        value: s.id,
      },
    });
  }
  const more = scenarios.length - MAX_LISTED;
  if (more > 0)
    blocks.push({ type: 'context', elements: [mrkdwn(`${more} more: \`/egress drill <scenario>\``)] });
  return enforceMessage({ text: `Tabletop drills: ${scenarios.length} scenario(s)`, blocks });
}

export function drillStartedText(scenario: DrillScenario, incidents: readonly string[]): string {
  return `🧪 Drill ${scenario.id} started: ${incidents.join(', ')} (DRILL: every change is a server-side dry-run; the thread is where it plays out).`;
}

export const DRILL_MARK = '🧪 DRILL';

/** A message of a drill incident's thread, marked DRILL in its text and first block (one function, so no post forgets it). */
export function markDrill<M extends { text: string; blocks?: Block[] }>(message: M, drill: boolean): M {
  if (!drill) return message;
  const text = `${DRILL_MARK} · ${message.text}`;
  if (!message.blocks || message.blocks.length === 0) return { ...message, text };
  const mark: Block = {
    type: 'context',
    elements: [mrkdwn(`${DRILL_MARK} · every change is a server-side dry-run`)],
  };
  return { ...message, text, blocks: [mark, ...message.blocks].slice(0, 50) };
}

/** A file comment of a drill incident, marked the same way. */
export const markDrillComment = (comment: string, drill: boolean) =>
  drill ? `${DRILL_MARK} · ${comment}` : comment;
