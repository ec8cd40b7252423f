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
    ...events.map(
      (e) =>
        `- \`${e.at}\` T+${formatDuration(Date.parse(e.at) - t0)} **${escapeMarkdown(e.actor)}** ${e.kind}: ${escapeMarkdown(e.summary)}`,
    ),
    '',
  ];
  return lines.join('\n');
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
