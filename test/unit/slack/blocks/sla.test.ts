import type { TimelineEvent } from '../../../../src/domain/timeline.js';
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
    expect(slaBreachLine(breach({ step: 'triage', commander: 'slack:U0CMD' }), ['S0RESP'])).toBe(
      ':alarm_clock: SLA breached: step "Triage" is waiting for its checklist to be ticked (0 of 2 items done) — <@U0CMD> (commander)',
    );
  });

  it('without a commander mentions the responders group(s) from the config', () => {
    expect(slaMentions(undefined, ['U0AAA', 'S0RESP', 'S0SEC'])).toBe('<!subteam^S0RESP> <!subteam^S0SEC>');
  });

  it('without groups names the first five responders and counts the rest', () => {
    const users = ['U01', 'U02', 'U03', 'U04', 'U05', 'U06', 'U07'];
    expect(slaMentions(undefined, users)).toBe(
      '<@U01> <@U02> <@U03> <@U04> <@U05> and 2 more responders (responders)',
    );
    expect(slaMentions(undefined, ['U01'])).toBe('<@U01> (responders)');
  });

  it('says so when there is nobody to mention', () => {
    expect(slaMentions(undefined, [])).toBe('no commander and no responders configured');
  });

  it('a commander that is not a Slack user is shown escaped, never as a mention or broadcast', () => {
    const line = slaBreachLine(breach({ commander: 'cli:<!channel>' }), []);
    expect(line).not.toContain('<!channel>');
    expect(line).toContain('&lt;!channel&gt;');
  });

  it('never shows a raw status', () => {
    expect(slaBreachLine(breach({ status: 'awaiting_input' }), ['U01'])).not.toContain('awaiting_input');
  });
});
