import { renderReleaseRequest } from '../../../../src/slack/blocks/index.js';
import { blockProblems } from '../../../fakes/slack-api/validate.js';

describe('release request', () => {
  it("shows the step's title as the playbook has it, and mentions only the requester", () => {
    const msg = renderReleaseRequest('inc-1', 'Contain `payments` <!here>', 'slack:U0REQ');
    expect(msg.blocks[0]).toEqual({
      type: 'rich_text',
      elements: [
        {
          type: 'rich_text_section',
          elements: [
            { type: 'text', text: '🔓 ' },
            { type: 'text', text: 'Release requested', style: { bold: true } },
            { type: 'text', text: ' for Contain `payments` <!here> of inc-1 by ' },
            { type: 'user', user_id: 'U0REQ' },
            {
              type: 'text',
              text: '.\nAn approver other than the requester decides; approval undoes exactly what this incident applied.',
            },
          ],
        },
      ],
    });
    expect(msg.text).toBe('Release of Contain `payments` &lt;!here&gt; requested for inc-1');
    expect(blockProblems(msg.blocks)).toEqual([]);
  });
});
