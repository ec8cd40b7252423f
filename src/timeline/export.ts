import { createHash } from 'node:crypto';
import { describeDestination, describeSource } from '../domain/alert.js';
import { formatDuration } from '../domain/duration.js';
import { type Incident, statusLabels } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';

export const timelineFormats = ['md', 'json'] as const;
export type TimelineFormat = (typeof timelineFormats)[number];

/** Markdown special characters are escaped and newlines folded, so every event stays one inert line. */
export function escapeMarkdown(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/([\\`*_[\]<>|#])/g, '\\$1');
}

/** Postmortem-ready Markdown: a summary table, then one line per event with UTC time, T+ offset and actor. */
export function timelineToMarkdown(incident: Incident, events: readonly TimelineEvent[]): string {
  const t0 = Date.parse(incident.firstSeen);
  const rows: [string, string][] = [
    ['Source', describeSource(incident.alert.source)],
    ['Destination', describeDestination(incident.alert.destination)],
    ['Alerts', `${incident.count} (first ${incident.firstSeen}, last ${incident.lastSeen})`],
    ['Contract verdict', `${incident.verdict.kind}: ${incident.verdict.message}`],
    ['Playbook', `${incident.playbook.id} (${incident.mode} mode)`],
    ['Status', statusLabels[incident.status] + (incident.closeReason ? ` (${incident.closeReason})` : '')],
    ['Commander', incident.commander ?? '—'],
    ['Drill', incident.drill ? 'yes: every Kubernetes change was a dry-run' : 'no'],
  ];
  const lines = [
    `# Incident ${incident.id}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${escapeMarkdown(v)} |`),
    '',
    '## Timeline (UTC; T+ from the first alert)',
    '',
    ...collapseFolds(events).map(
      ({ event: e, repeats }) =>
        `- \`${e.at}\` T+${formatDuration(Date.parse(e.at) - t0)} **${escapeMarkdown(e.actor)}** ${e.kind}${repeats > 1 ? ` ×${repeats}` : ''}: ${escapeMarkdown(e.summary)}`,
    ),
    '',
  ];
  return lines.join('\n');
}

/**
 * An alert storm folds hundreds of repeats into one incident; the postmortem shows each run of
 * consecutive folds as one line (the last of the run, with how many it stands for). JSON keeps all.
 */
function collapseFolds(events: readonly TimelineEvent[]): { event: TimelineEvent; repeats: number }[] {
  const out: { event: TimelineEvent; repeats: number }[] = [];
  for (const event of events) {
    const prev = out.at(-1);
    if (event.kind === 'alert.folded' && prev?.event.kind === 'alert.folded') {
      out[out.length - 1] = { event, repeats: prev.repeats + 1 };
    } else {
      out.push({ event, repeats: 1 });
    }
  }
  return out;
}

export interface TimelineJson {
  schema: 'egress-responder/timeline@1';
  incident: Incident;
  events: TimelineEvent[];
  /** sha256 over the canonical JSON of `events`: lets forensics show the export was not altered. */
  eventsSha256: string;
}

export function timelineToJson(incident: Incident, events: readonly TimelineEvent[]): TimelineJson {
  return {
    schema: 'egress-responder/timeline@1',
    incident,
    events: [...events],
    eventsSha256: createHash('sha256').update(JSON.stringify(events)).digest('hex'),
  };
}

export function exportTimeline(
  format: TimelineFormat,
  incident: Incident,
  events: readonly TimelineEvent[],
): string {
  return format === 'md'
    ? timelineToMarkdown(incident, events)
    : `${JSON.stringify(timelineToJson(incident, events), null, 2)}\n`;
}
