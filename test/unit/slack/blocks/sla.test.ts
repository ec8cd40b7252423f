import type { TimelineEvent } from '../../../../src/domain/timeline.js';
import { fallbackText, richText } from '../../../../src/slack/blocks/rich.js';
import { slaBreachLine, slaMentions } from '../../../../src/slack/blocks/sla.js';

const breach = (details: TimelineEvent['details']): TimelineEvent => ({
  id: 'inc-1:triage:sla',
  incidentId: 'inc-1',
  at: '2026-12-03T09:00:00.000Z',
  kind: 'sla.breached',
  actor: 'system',
  summary: 'SLA breached: step "Triage" is waiting for its checklist to be ticked (0 of 2 items done)',
  details,
});

describe('SLA breach line', () => {
  it('names the step, what it waits for, and mentions the commander', () => {
    const line = slaBreachLine(breach({ step: 'triage', commander: 'slack:U0CMD' }), ['S0RESP']);
    expect(richText(line).elements[0]).toEqual({
      type: 'rich_text_section',
      elements: [
        { type: 'emoji', name: 'alarm_clock' },
        {
          type: 'text',
          text: ' SLA breached: step "Triage" is waiting for its checklist to be ticked (0 of 2 items done) — ',
        },
        { type: 'user', user_id: 'U0CMD' },
        { type: 'text', text: ' (commander)' },
      ],
    });
    expect(fallbackText(line)).toBe(
      ':alarm_clock: SLA breached: step "Triage" is waiting for its checklist to be ticked (0 of 2 items done) — <@U0CMD> (commander)',
    );
  });

  it('without a commander mentions the responders group(s) from the config', () => {
    expect(slaMentions(undefined, ['U0AAA', 'S0RESP', 'S0SEC'])).toEqual([
      { group: 'S0RESP' },
      ' ',
      { group: 'S0SEC' },
    ]);
  });

  it('without groups names the first five responders and counts the rest', () => {
    const users = ['U01', 'U02', 'U03', 'U04', 'U05', 'U06', 'U07'];
    expect(fallbackText(slaMentions(undefined, users))).toBe(
      '<@U01> <@U02> <@U03> <@U04> <@U05> and 2 more responders (responders)',
    );
    expect(slaMentions(undefined, ['U01'])).toEqual([{ user: 'U01' }, ' (responders)']);
  });

  it('says so when there is nobody to mention', () => {
    expect(slaMentions(undefined, [])).toEqual(['no commander and no responders configured']);
  });

  it('a commander that is not a Slack user is literal text, never a mention or broadcast', () => {
    const line = slaBreachLine(breach({ commander: 'cli:<!channel>' }), []);
    expect(line.slice(-2)).toEqual(['cli:<!channel>', ' (commander)']);
    expect(fallbackText(line)).toContain('cli:&lt;!channel&gt; (commander)');
  });

  it('never shows a raw status', () => {
    expect(fallbackText(slaBreachLine(breach({ status: 'awaiting_input' }), ['U01']))).not.toContain(
      'awaiting_input',
    );
  });
});
