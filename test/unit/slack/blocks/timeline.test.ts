import type { TimelineEvent } from '../../../../src/domain/timeline.js';
import { type Block, LIMITS, renderTimelineMessage } from '../../../../src/slack/blocks/index.js';
import { anIncident, aTimelineEvent } from '../../../builders/incident.js';
import { blockProblems } from '../../../fakes/slack-api/validate.js';

const incident = anIncident();

function events(n: number): TimelineEvent[] {
  const start = Date.parse('2026-11-25T14:00:00.000Z');
  return Array.from({ length: n }, (_, i) =>
    aTimelineEvent({
      id: `e${i}`,
      at: new Date(start + i * 1000).toISOString(),
      actor: i % 2 === 0 ? 'system' : 'slack:U0AAA',
      summary: `event ${i}`,
    }),
  );
}

/** What each section or rich_text block reads (our code style as backticks, dates as their fallback). */
const sections = (blocks: Block[]) =>
  blocks.flatMap((b) => {
    if (b.type === 'section') return [b.text?.text ?? ''];
    if (b.type !== 'rich_text') return [];
    const elements = b.elements.flatMap((e) => (e.type === 'rich_text_section' ? e.elements : []));
    return [
      elements
        .map((e) => {
          if (e.type === 'text') return e.style?.code ? `\`${e.text}\`` : e.text;
          if (e.type === 'date') return `[${e.timestamp}|${e.format}]`;
          if (e.type === 'user') return `@${e.user_id}`;
          return '';
        })
        .join(''),
    ];
  });

describe('renderTimelineMessage', () => {
  it('shows the last 40 of 80 events, oldest first, and says how many are not shown', () => {
    const msg = renderTimelineMessage(incident, events(80));
    expect(msg.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    const lines = sections(msg.blocks);
    expect(lines).toHaveLength(40);
    expect(lines[0]).toContain('event 40');
    expect(lines[39]).toContain('event 79');
    expect(JSON.stringify(msg)).toContain(
      '… 40 earlier events not shown (see /egress timeline inc-20261125-0001 md)',
    );
    expect(msg.text).toBe('Timeline of inc-20261125-0001: 80 events, last 40 shown');
    expect(blockProblems(msg.blocks)).toEqual([]);
  });

  it('keeps 80 events asked for at once to ≤ 50 blocks, with the "more not shown" line', () => {
    const msg = renderTimelineMessage(incident, events(80), 80);
    expect(msg.blocks).toHaveLength(LIMITS.messageBlocks);
    const last = msg.blocks.at(-1) as Extract<Block, { type: 'context' }>;
    // header + 80 sections = 81 blocks; 49 kept.
    expect(last.elements[0]).toMatchObject({
      text: '… 32 more blocks not shown (see /egress timeline inc-20261125-0001)',
    });
    expect(blockProblems(msg.blocks)).toEqual([]);
  });

  it('writes time, actor, kind and the summary as recorded (literal text, one line)', () => {
    const msg = renderTimelineMessage(incident, [
      aTimelineEvent({ actor: 'slack:U0BBB', kind: 'note', summary: '<!channel> look at *this*\nnow' }),
      aTimelineEvent({ id: 'x', actor: 'cli:<@U0EVIL>', summary: 'ok' }),
    ]);
    const [first, second] = sections(msg.blocks);
    expect(first).toBe(
      '[1795615392|{date_short} {time_secs}] · @U0BBB · `note` — <!channel> look at *this* now',
    );
    expect(second).toContain(' · cli:<@U0EVIL> · ');
    // The only mention is the one built from the actor id.
    expect(JSON.stringify(msg.blocks).match(/"type":"user"/g)).toHaveLength(1);
  });

  it('orders events by time even when given out of order', () => {
    const [a, b, c] = events(3) as [TimelineEvent, TimelineEvent, TimelineEvent];
    const lines = sections(renderTimelineMessage(incident, [c, a, b]).blocks);
    expect(lines.map((l) => /event \d/.exec(l)?.[0])).toEqual(['event 0', 'event 1', 'event 2']);
  });

  it('says so when there are no events', () => {
    const msg = renderTimelineMessage(incident, []);
    expect(sections(msg.blocks)).toEqual(['_No events recorded yet._']);
  });

  it('cuts a 10 kB summary visibly', () => {
    const msg = renderTimelineMessage(incident, [aTimelineEvent({ summary: 'z'.repeat(10_240) })]);
    const [line] = sections(msg.blocks);
    // The budget counts the text elements (the date element before them is ours and short).
    const texts = JSON.stringify(msg.blocks.at(-1)).match(/"text":"[^"]*"/g) ?? [];
    expect(texts.join('').length - texts.length * '"text":""'.length).toBeLessThanOrEqual(LIMITS.richText);
    expect(line).toMatch(/— z+… \(truncated, \d+ more chars\)$/);
  });
});
