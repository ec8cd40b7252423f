import { renderRefusalModal } from '../../../../src/slack/blocks/index.js';

// A refusal in a break-glass modal quotes what was typed: shown as written, nothing formatted or linked.

describe('renderRefusalModal', () => {
  it('shows the message as written in a rich_text block: backticks, asterisks and <!channel> literal', () => {
    const message = 'namespace `kube-system` is not one the bot may touch *ever* <!channel>';
    const view = renderRefusalModal('Not requested', message);
    expect(view.title).toMatchObject({ type: 'plain_text', text: 'Not requested' });
    expect(view.blocks).toEqual([
      {
        type: 'rich_text',
        elements: [
          {
            type: 'rich_text_section',
            elements: [
              { type: 'text', text: '⚠️ ' },
              { type: 'text', text: message },
            ],
          },
        ],
      },
    ]);
    expect(JSON.stringify(view)).not.toContain('\u02CB');
  });
});
