import { renderError, renderHelp, renderRefusal } from '../../../../src/slack/blocks/index.js';
import { blockProblems } from '../../../fakes/slack-api/validate.js';

describe('renderHelp', () => {
  it('lists every subcommand with its usage as code, <id> escaped', () => {
    const msg = renderHelp([
      { usage: 'ack <id>', description: 'Take command.' },
      { usage: '/egress help', description: 'This *list*.' },
    ]);
    const json = JSON.stringify(msg);
    expect(json).toContain('`/egress ack &lt;id&gt;` — Take command.');
    expect(json).toContain('`/egress help` — This \u200B*\u200Blist\u200B*\u200B.');
    expect(blockProblems(msg.blocks)).toEqual([]);
  });

  it('packs many subcommands into sections under 3000 characters', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({
      usage: `cmd${i} <id>`,
      description: 'd'.repeat(100),
    }));
    const msg = renderHelp(many);
    expect(blockProblems(msg.blocks)).toEqual([]);
    const json = JSON.stringify(msg);
    expect(json).toContain('cmd0 ');
    expect(json).toContain('cmd199 ');
  });
});

describe('ephemeral answers', () => {
  it('shows the error message as written; the fallback escaped, on one line', () => {
    const msg = renderError('no incident `<!channel>`\nhere');
    expect(msg.blocks).toEqual([
      {
        type: 'rich_text',
        elements: [
          {
            type: 'rich_text_section',
            elements: [{ type: 'text', text: '⚠️ no incident `<!channel>`\nhere' }],
          },
        ],
      },
    ]);
    expect(msg.text).toBe('no incident `&lt;!channel&gt;` here');
  });

  it('says who may do what', () => {
    expect(renderRefusal('approve the grant', 'approver').text).toBe(
      "You can't approve the grant: only approvers can.",
    );
  });
});
