import { fallbackText, richMessage, richText } from '../../../../src/slack/blocks/rich.js';

const section = (...elements: unknown[]) => ({
  type: 'rich_text',
  elements: [{ type: 'rich_text_section', elements }],
});

describe('rich_text lines', () => {
  it('keeps backticks as typed, in the block and in the fallback', () => {
    const typed = 'ran `rm -rf /tmp/x` then ```sh\nls```';
    expect(richText([{ emoji: 'mega' }, ' ', typed])).toEqual(
      section({ type: 'emoji', name: 'mega' }, { type: 'text', text: ' ' }, { type: 'text', text: typed }),
    );
    expect(fallbackText([{ emoji: 'mega' }, ' ', typed])).toBe(`:mega: ${typed}`);
    expect(JSON.stringify(richMessage([typed]))).not.toContain('\u02CB');
  });

  it('shows mrkdwn formatting characters literally; only our segments carry a style', () => {
    expect(richText([{ text: 'Alert:', bold: true }, ' *bold* _it_ ~s~'])).toEqual(
      section(
        { type: 'text', text: 'Alert:', style: { bold: true } },
        { type: 'text', text: ' *bold* _it_ ~s~' },
      ),
    );
    expect(richText([{ text: 'inc-1', code: true }, { text: 'x', italic: true }, { text: 'plain' }])).toEqual(
      section(
        { type: 'text', text: 'inc-1', style: { code: true } },
        { type: 'text', text: 'x', style: { italic: true } },
        { type: 'text', text: 'plain' },
      ),
    );
    expect(
      fallbackText([{ text: 'Alert:', bold: true }, ' run ', { text: '/egress close inc-1', code: true }]),
    ).toBe('Alert: run `/egress close inc-1`');
  });

  it('a broadcast or link typed in the text stays text; the fallback makes it inert', () => {
    const hostile = '<!channel> @here <https://evil.example|click me> <@U0EVIL>';
    expect(richText([hostile])).toEqual(section({ type: 'text', text: hostile }));
    expect(fallbackText([hostile])).toBe(
      '&lt;!channel&gt; @\u200Dhere &lt;https://evil.example|click me&gt; &lt;@U0EVIL&gt;',
    );
  });

  it('mentions and groups are only those we build, as elements', () => {
    const segments = [{ user: 'U0CMD' }, ' ', { group: 'S0RESP' }, ' (on call)'];
    expect(richText(segments)).toEqual(
      section(
        { type: 'user', user_id: 'U0CMD' },
        { type: 'text', text: ' ' },
        { type: 'usergroup', usergroup_id: 'S0RESP' },
        { type: 'text', text: ' (on call)' },
      ),
    );
    expect(fallbackText(segments)).toBe('<@U0CMD> <!subteam^S0RESP> (on call)');
  });

  it("shows our times as date elements (each reader's time zone), an unparseable one as text", () => {
    const segments = [{ date: '2026-11-25T14:03:12.123Z' }, ' · ', { date: 'soon <!here>' }];
    expect(richText(segments)).toEqual(
      section(
        {
          type: 'date',
          timestamp: 1795615392,
          format: '{date_short_pretty} {time_secs}',
          fallback: '2026-11-25T14:03:12.123Z',
        },
        { type: 'text', text: ' · ' },
        { type: 'text', text: 'soon <!here>' },
      ),
    );
    expect(fallbackText(segments)).toBe('2026-11-25T14:03:12.123Z · soon &lt;!here&gt;');
  });

  it('drops bidi controls, so nothing reorders what people read', () => {
    const rlo = 'invoice\u202Etxt.exe\u2066x\u2069';
    expect(richText([rlo])).toEqual(section({ type: 'text', text: 'invoicetxt.exex' }));
    expect(fallbackText([{ text: rlo, bold: true }])).toBe('invoicetxt.exex');
  });

  it('cuts long text visibly within the budget, never splitting a code point', () => {
    // 53 UTF-16 units (52 code points); the mark takes 28 of the 40, so 12 are shown: "Note: aaaaa",
    // the emoji's surrogate pair would cross the budget and is not split.
    const long = `aaaaa😀${'b'.repeat(35)}`;
    const block = richText([{ emoji: 'memo' }, { text: 'Note: ', bold: true }, long, ' tail'], 40);
    expect(block).toEqual(
      section(
        { type: 'emoji', name: 'memo' },
        { type: 'text', text: 'Note: ', style: { bold: true } },
        { type: 'text', text: 'aaaaa' },
        { type: 'text', text: '… (truncated, 41 more chars)', style: { italic: true } },
      ),
    );
    expect(richText(['x'.repeat(3000)]).elements).toEqual([
      { type: 'rich_text_section', elements: [{ type: 'text', text: 'x'.repeat(3000) }] },
    ]);
    const cut = richText(['x'.repeat(3001)]);
    const shown = cut.elements[0]?.type === 'rich_text_section' ? cut.elements[0].elements : [];
    expect(shown.map((e) => (e.type === 'text' ? e.text : '')).join('').length).toBeLessThanOrEqual(3000);
  });
});
