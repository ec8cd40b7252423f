import {
  BlockLimitError,
  enforceLimits,
  enforceMessage,
  LIMITS,
} from '../../../../src/slack/blocks/limits.js';
import type { Block } from '../../../../src/slack/blocks/types.js';
import { blockProblems } from '../../../fakes/slack-api/validate.js';

const md = (text: string) => ({ type: 'mrkdwn' as const, text });
const pt = (text: string) => ({ type: 'plain_text' as const, text });
const TRUNCATED = /… \(truncated, \d+ more chars\)$/;

function section(text: string): Block {
  return { type: 'section', text: md(text) };
}

describe('enforceLimits: text', () => {
  it('cuts section text, header text and fields visibly to their limits', () => {
    const blocks: Block[] = [
      { type: 'header', text: pt('h'.repeat(500)) },
      section('s'.repeat(10_000)),
      { type: 'section', fields: [md('f'.repeat(5000)), md('ok')] },
    ];
    const out = enforceLimits(blocks);
    expect(blockProblems(out)).toEqual([]);
    const [header, sec, fields] = out as [
      Extract<Block, { type: 'header' }>,
      Extract<Block, { type: 'section' }>,
      Extract<Block, { type: 'section' }>,
    ];
    expect(header.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    expect(header.text.text).toMatch(TRUNCATED);
    expect(sec.text?.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(sec.text?.text).toMatch(TRUNCATED);
    expect(fields.fields?.[0]?.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
    expect(fields.fields?.[1]?.text).toBe('ok');
  });

  it('cuts button text, confirm dialogs and checkbox options; keeps ids and values', () => {
    const out = enforceLimits([
      {
        type: 'actions',
        block_id: 'b1',
        elements: [
          {
            type: 'button',
            action_id: 'a1',
            value: 'v'.repeat(LIMITS.buttonValue),
            text: pt('Take command of this incident right now please, before it gets any worse'.repeat(2)),
            confirm: { title: pt('t'.repeat(200)), text: md('x'.repeat(1000)), confirm: pt('c'.repeat(50)) },
          },
          {
            type: 'checkboxes',
            action_id: 'a2',
            options: [{ text: md('o'.repeat(200)), value: 'i|s|x' }],
            initial_options: [{ text: md('o'.repeat(200)), value: 'i|s|x' }],
          },
        ],
      },
    ]);
    expect(blockProblems(out)).toEqual([]);
    const actions = out[0] as Extract<Block, { type: 'actions' }>;
    const button = actions.elements[0] as { value: string; text: { text: string } };
    expect(button.value).toBe('v'.repeat(LIMITS.buttonValue));
    expect(button.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
    expect(button.text.text).toMatch(/…/);
  });

  it('replaces empty text, which Slack rejects', () => {
    expect(enforceLimits([section('')])).toEqual([section(' ')]);
  });

  it('folds more than 10 fields or context elements into a "more" entry', () => {
    const out = enforceLimits([
      { type: 'section', fields: Array.from({ length: 14 }, (_, i) => md(`f${i}`)) },
      { type: 'context', elements: Array.from({ length: 12 }, (_, i) => md(`c${i}`)) },
    ]);
    expect(blockProblems(out)).toEqual([]);
    const fields = (out[0] as Extract<Block, { type: 'section' }>).fields ?? [];
    expect(fields).toHaveLength(10);
    expect(fields[9]?.text).toBe('… 5 more not shown');
    const elements = (out[1] as Extract<Block, { type: 'context' }>).elements;
    expect(elements).toHaveLength(10);
    expect(elements[9]).toEqual(md('… 3 more not shown'));
  });

  it('does not modify its input', () => {
    const blocks = [section('s'.repeat(4000))];
    const copy = structuredClone(blocks);
    enforceLimits(blocks);
    expect(blocks).toEqual(copy);
  });
});

describe('enforceLimits: block count', () => {
  it('keeps 49 blocks and says how many more are not shown, naming the incident', () => {
    const blocks = Array.from({ length: 80 }, (_, i) => section(`block ${i}`));
    const out = enforceLimits(blocks, { incidentId: 'inc-20261125-0001' });
    expect(out).toHaveLength(LIMITS.messageBlocks);
    expect(out.slice(0, 49)).toEqual(blocks.slice(0, 49));
    expect(out[49]).toEqual({
      type: 'context',
      elements: [md('… 31 more blocks not shown (see /egress timeline inc-20261125-0001)')],
    });
    expect(blockProblems(out)).toEqual([]);
  });

  it('leaves exactly 50 blocks alone, and allows 100 in a modal', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => section(`b${i}`));
    expect(enforceLimits(fifty)).toEqual(fifty);
    const many = Array.from({ length: 120 }, (_, i) => section(`b${i}`));
    const modal = enforceLimits(many, { surface: 'modal' });
    expect(modal).toHaveLength(100);
    expect(blockProblems(modal, 'modal')).toEqual([]);
    const last = modal[99] as Extract<Block, { type: 'context' }>;
    expect(last.elements[0]).toEqual(md('… 21 more blocks not shown'));
  });
});

describe('enforceLimits: identifiers are never cut', () => {
  it('throws for an over-long block_id, action_id, button value or option value', () => {
    const long = 'x'.repeat(256);
    expect(() => enforceLimits([{ type: 'divider', block_id: long }])).toThrow(BlockLimitError);
    expect(() =>
      enforceLimits([{ type: 'actions', elements: [{ type: 'button', action_id: long, text: pt('b') }] }]),
    ).toThrow(/action_id is 256 characters/);
    expect(() =>
      enforceLimits([
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'a', value: 'v'.repeat(2001), text: pt('b') }],
        },
      ]),
    ).toThrow(/button value/);
    expect(() =>
      enforceLimits([
        {
          type: 'actions',
          elements: [
            { type: 'checkboxes', action_id: 'a', options: [{ text: md('o'), value: 'v'.repeat(151) }] },
          ],
        },
      ]),
    ).toThrow(/option value/);
  });

  it('throws for more than 10 checkbox options (the renderer splits them)', () => {
    const options = Array.from({ length: 11 }, (_, i) => ({ text: md(`o${i}`), value: `v${i}` }));
    expect(() =>
      enforceLimits([{ type: 'actions', elements: [{ type: 'checkboxes', action_id: 'a', options }] }]),
    ).toThrow(BlockLimitError);
  });
});

describe('enforceMessage', () => {
  it('cuts the fallback text as well', () => {
    const msg = enforceMessage({ text: 't'.repeat(50_000), blocks: [] });
    expect(msg.text.length).toBeLessThanOrEqual(LIMITS.messageText);
    expect(msg.text).toMatch(TRUNCATED);
  });
});
