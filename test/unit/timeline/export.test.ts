import { exportTimeline, timelineToJson, timelineToMarkdown } from '../../../src/timeline/export.js';
import { anAlert } from '../../builders/alert.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';

describe('timeline export', () => {
  const incident = anIncident({
    id: 'EGR-1',
    alert: anAlert({ source: { service: '<!channel> svc' } }),
    firstSeen: '2026-11-25T14:03:12.123Z',
  });
  const events = [
    aTimelineEvent({
      id: 'a',
      at: '2026-11-25T14:03:12.123Z',
      kind: 'incident.opened',
      summary: 'Incident opened',
    }),
    aTimelineEvent({
      id: 'b',
      at: '2026-11-25T15:04:13.200Z',
      kind: 'note',
      actor: 'slack:U1',
      summary: 'line one\nline *two* | <@U2>',
    }),
  ];

  it('writes one line per event with UTC time, T+ offset from the first alert, actor and escaped text', () => {
    const md = timelineToMarkdown(incident, events);
    const lines = md.split('\n').filter((l) => l.startsWith('- `'));
    expect(lines).toEqual([
      '- `2026-11-25T14:03:12.123Z` T+00:00:00.000 **system** incident.opened: Incident opened',
      '- `2026-11-25T15:04:13.200Z` T+01:01:01.077 **slack:U1** note: line one line \\*two\\* \\| \\<@U2\\>',
    ]);
    expect(md).toContain('| Source | \\<!channel\\> svc.prod');
    expect(md.startsWith('# Incident EGR-1\n')).toBe(true);
  });

  it('exports JSON with the incident, every event and a digest of the events', () => {
    const json = JSON.parse(exportTimeline('json', incident, events));
    expect(json.schema).toBe('egress-responder/timeline@1');
    expect(json.incident.id).toBe('EGR-1');
    expect(json.events.map((e: { id: string }) => e.id)).toEqual(['a', 'b']);
    expect(json.eventsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(timelineToJson(incident, events.slice(0, 1)).eventsSha256).not.toBe(json.eventsSha256);
  });
});

describe('timeline export of an alert storm', () => {
  it('shows a run of folded repeats as one line with its size; JSON keeps every event', () => {
    const incident = anIncident({ id: 'EGR-2' });
    const folds = Array.from({ length: 50 }, (_, i) =>
      aTimelineEvent({
        id: `f${i}`,
        kind: 'alert.folded',
        at: `2026-11-25T14:03:${String(13 + (i % 40)).padStart(2, '0')}.000Z`,
        summary: `Repeat alert folded in (${i + 2} alerts)`,
      }),
    );
    const events = [aTimelineEvent({ id: 'o', kind: 'incident.opened', summary: 'opened' }), ...folds];
    const lines = timelineToMarkdown(incident, events)
      .split('\n')
      .filter((l) => l.startsWith('- `'));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('alert.folded ×50: Repeat alert folded in (51 alerts)');
    expect(timelineToJson(incident, events).events).toHaveLength(51);
  });
});
