import { ACTION_IDS, markDrill, renderDrillPicker, richMessage } from '../../../../src/slack/blocks/index.js';
import { blockProblems } from '../../../fakes/slack-api/validate.js';

describe('drill picker', () => {
  it("shows a scenario's title and description exactly as its file has them", () => {
    const msg = renderDrillPicker([
      { id: 'dns-tunnel', title: 'DNS `tunnel` *drill*', description: 'Run `dig x` <!here>\nthen contain' },
    ]);
    expect(msg.blocks[2]).toEqual({
      type: 'section',
      text: {
        type: 'plain_text',
        text: 'DNS `tunnel` *drill* (dns-tunnel)\nRun `dig x` <!here>\nthen contain',
        emoji: true,
      },
      accessory: {
        type: 'button',
        text: { type: 'plain_text', text: 'Start', emoji: true },
        action_id: ACTION_IDS.drillStart,
        value: 'dns-tunnel',
      },
    });
    expect(JSON.stringify(msg)).not.toContain('\u02CB');
    expect(blockProblems(msg.blocks)).toEqual([]);
  });
});

describe('markDrill', () => {
  it('marks a rich_text thread line in its text and its first block', () => {
    const line = richMessage([{ emoji: 'mega' }, ' run `x`']);
    const marked = markDrill(line, true);
    expect(marked.text).toBe('🧪 DRILL · :mega: run `x`');
    expect(marked.blocks[0]).toEqual({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: '🧪 DRILL · every change is a server-side dry-run', verbatim: true },
      ],
    });
    expect(marked.blocks[1]).toEqual(line.blocks[0]);
    expect(markDrill(line, false)).toBe(line);
  });
});
