// Lines that mix our formatting with untrusted text (summaries, notes, reasons), as a `rich_text`
// block: its `text` elements are literal — Slack never parses them as mrkdwn — so `` `rm -rf` ``,
// `*bold*` and `<!channel>` read back exactly as typed, with no look-alike characters and no
// zero-width guards. Our formatting is a style on an element, our mentions are `user` / `usergroup`
// elements: the only way anything in such a line can notify is that we built it.
import { defuseMentions, escapeEntities, withoutBidi } from './escape.js';
import { LIMITS } from './limits.js';
import type { RichTextBlock, RichTextElement } from './types.js';

/**
 * One piece of a line: a string is literal text (anything, untrusted included); `{text, bold, …}` is
 * literal text with our style; `{emoji}` a Slack emoji name without colons; `{user}` a Slack user id
 * (`U…`/`W…`) and `{group}` a user group id (`S…`), mentioned on purpose; `{date}` an ISO time,
 * shown in each reader's time zone. No links: nothing we show links anywhere yet.
 */
export type Segment =
  | string
  | { text: string; bold?: boolean; italic?: boolean; code?: boolean }
  | { emoji: string }
  | { user: string }
  | { group: string }
  | { date: string; format?: string };

const DATE_FORMAT = '{date_short_pretty} {time_secs}';

/** Literal text loses only bidi controls: they reorder what people read (`exe.txt` as `txt.exe`). */
const literal = withoutBidi;

function element(s: Segment): RichTextElement {
  if (typeof s === 'string') return { type: 'text', text: literal(s) };
  if ('emoji' in s) return { type: 'emoji', name: s.emoji };
  if ('user' in s) return { type: 'user', user_id: s.user };
  if ('group' in s) return { type: 'usergroup', usergroup_id: s.group };
  if ('date' in s) {
    const ms = Date.parse(s.date);
    if (Number.isNaN(ms)) return { type: 'text', text: literal(s.date) };
    const fallback = new Date(ms).toISOString();
    return { type: 'date', timestamp: Math.floor(ms / 1000), format: s.format ?? DATE_FORMAT, fallback };
  }
  const style = {
    ...(s.bold ? { bold: true } : {}),
    ...(s.italic ? { italic: true } : {}),
    ...(s.code ? { code: true } : {}),
  };
  return { type: 'text', text: literal(s.text), ...(Object.keys(style).length > 0 ? { style } : {}) };
}

/** The characters of an element a reader sees (what the block's length budget counts). */
function shown(e: RichTextElement): string {
  return e.type === 'text' ? e.text : '';
}

function mark(removed: number): string {
  return `… (truncated, ${removed} more ${removed === 1 ? 'char' : 'chars'})`;
}

/**
 * Cut the text elements to `max` characters in all, visibly: the element that crosses the budget is
 * cut (whole code points), later text is dropped, and a last element says how many characters were
 * left out. Emoji, mentions and dates before the cut are kept.
 */
function withinBudget(elements: RichTextElement[], max: number): RichTextElement[] {
  const total = elements.reduce((n, e) => n + shown(e).length, 0);
  if (total <= max) return elements;
  const room = max - mark(total).length;
  const out: RichTextElement[] = [];
  let used = 0;
  for (const e of elements) {
    const len = shown(e).length;
    if (used + len <= room) {
      out.push(e);
      used += len;
      continue;
    }
    if (e.type === 'text') {
      let head = '';
      for (const ch of e.text) {
        if (used + head.length + ch.length > room) break;
        head += ch;
      }
      if (head) out.push({ ...e, text: head });
      used += head.length;
    }
    break;
  }
  const removed = [...elements.map(shown).join('')].length - [...out.map(shown).join('')].length;
  out.push({ type: 'text', text: mark(removed), style: { italic: true } });
  return out;
}

/** One line (or paragraph: text may hold `\n`) as a rich_text block, within `max` characters. */
export function richText(segments: readonly Segment[], max: number = LIMITS.richText): RichTextBlock {
  return {
    type: 'rich_text',
    elements: [{ type: 'rich_text_section', elements: withinBudget(segments.map(element), max) }],
  };
}

/**
 * The notification / screen-reader fallback of the same line. Slack reads a message's `text` as
 * mrkdwn, so entities are escaped (every `<…>` inert) and `@here`-style broadcasts get a zero-width
 * joiner; backticks and formatting characters stay as typed (a notification shows them literally).
 * Our mentions are written as Slack's `<@U…>` / `<!subteam^S…>` tokens, emoji as `:name:`, our code
 * style as backticks (only our own strings carry it).
 */
export function fallbackText(segments: readonly Segment[]): string {
  const inert = (text: string) => defuseMentions(escapeEntities(literal(text)));
  return segments
    .map((s) => {
      if (typeof s === 'string') return inert(s);
      // Our code style (a command to copy) stays code in the notification too.
      if ('text' in s) return s.code ? `\`${inert(s.text)}\`` : inert(s.text);
      if ('emoji' in s) return `:${s.emoji}:`;
      if ('user' in s) return `<@${s.user}>`;
      if ('group' in s) return `<!subteam^${s.group}>`;
      return inert(s.date);
    })
    .join('');
}

/** A thread message of one line: the rich_text block and its fallback text. */
export function richMessage(segments: readonly Segment[]): { text: string; blocks: RichTextBlock[] } {
  return { text: fallbackText(segments), blocks: [richText(segments)] };
}
