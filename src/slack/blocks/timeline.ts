// The last N timeline events of an incident, as a compact list in the thread (or an ephemeral
// answer). The full record is `/egress timeline <id> md|json`.
import type { Incident } from '../../domain/incident.js';
import type { TimelineEvent } from '../../domain/timeline.js';
import { oneLine } from './escape.js';
import { actorSegment, idText, mrkdwn, plain, plural } from './format.js';
import { enforceMessage } from './limits.js';
import { richText, type Segment } from './rich.js';
import type { Block, SlackMessage } from './types.js';

/** One event on one line: local time, actor, kind, and the summary as it was recorded. */
export function timelineLine(e: TimelineEvent): Segment[] {
  return [
    { date: e.at, format: '{date_short} {time_secs}' },
    ' · ',
    actorSegment(e.actor),
    ' · ',
    { text: e.kind, code: true },
    ` — ${oneLine(e.summary)}`,
  ];
}

/** The last `max` events (oldest first), one section each, within Block Kit limits. */
export function renderTimelineMessage(
  incident: Pick<Incident, 'id'>,
  events: readonly TimelineEvent[],
  max = 40,
): SlackMessage {
  const sorted = events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => Date.parse(a.e.at) - Date.parse(b.e.at) || a.i - b.i)
    .map(({ e }) => e);
  const shown = max > 0 ? sorted.slice(-max) : [];
  const hidden = sorted.length - shown.length;
  const id = idText(incident.id);
  const blocks: Block[] = [{ type: 'header', text: plain(`Timeline · ${incident.id}`) }];
  if (sorted.length === 0) {
    blocks.push({ type: 'section', text: mrkdwn('_No events recorded yet._') });
  } else if (hidden > 0) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `… ${plural(hidden, 'earlier event')} not shown (see /egress timeline ${id} md); the last ${shown.length} follow.`,
        ),
      ],
    });
  }
  for (const e of shown) blocks.push(richText(timelineLine(e)));
  const text = `Timeline of ${id}: ${plural(sorted.length, 'event')}${hidden > 0 ? `, last ${shown.length} shown` : ''}`;
  return enforceMessage({ text, blocks }, { incidentId: incident.id });
}
