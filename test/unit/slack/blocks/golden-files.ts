// Golden Block Kit JSON: each file under test/fixtures/slack/blocks/ is a message (`{text, blocks}`),
// a list of blocks or a modal view: paste it into Block Kit Builder to see it. A missing file is
// written on first run (not under CI); UPDATE_GOLDEN=1 rewrites them all after an intended change —
// review the diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Block, ModalView, SlackMessage } from '../../../../src/slack/blocks/index.js';
import { blockProblems, viewProblems } from '../../../fakes/slack-api/validate.js';

const GOLDEN_DIR = fileURLToPath(new URL('../../../fixtures/slack/blocks/', import.meta.url));

export function expectGolden(name: string, rendered: SlackMessage | Block[] | ModalView | object): void {
  const file = join(GOLDEN_DIR, `${name}.json`);
  // Zero-width characters (from escaping) written as \u escapes, so reviewers can see them.
  const actual = `${JSON.stringify(rendered, null, 2).replace(/[\u200B-\u200D]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
  if (process.env.UPDATE_GOLDEN === '1' || (!existsSync(file) && !process.env.CI)) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file))
    throw new Error(`missing golden file ${file}: run with UPDATE_GOLDEN=1 and review it`);
  expect(JSON.parse(actual)).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

/** A rich_text block's `text` elements are literal (never parsed): what they hold cannot be a token. */
function withoutLiteralText(key: string, value: unknown): unknown {
  if (key === 'elements' && Array.isArray(value))
    return value.map((e) => (e?.type === 'text' && typeof e.text === 'string' ? { ...e, text: '' } : e));
  return value;
}

/** The only `<…>` sequences Slack would parse are ours: Slack date tokens and mentions of users. */
function expectOurTokensOnly(rendered: unknown): void {
  const json = JSON.stringify(rendered, withoutLiteralText);
  const tokens = json.match(/<[^<>]*>/g) ?? [];
  for (const t of tokens) expect(t).toMatch(/^<(!date\^\d+\^[^|<>]+\|[0-9T:.\-Z]+|@[UW][A-Z0-9]+)>$/);
}

/** What must hold for every message: Slack accepts it, and the only `<…>` are ours. */
export function expectSafe(rendered: SlackMessage | Block[]): void {
  const blocks = Array.isArray(rendered) ? rendered : rendered.blocks;
  expect(blockProblems(blocks)).toEqual([]);
  expectOurTokensOnly(rendered);
}

/** The same for a modal: Slack accepts the view, and the only `<…>` are ours. */
export function expectSafeModal(view: ModalView): void {
  expect(viewProblems(view)).toEqual([]);
  expectOurTokensOnly(view.blocks);
}
