// Making user-derived text inert in Slack mrkdwn, and cutting text visibly without breaking it.
//
// Alert fields, summaries, notes and reasons can carry anything: `<!channel>`, `<@U123>`,
// `<https://evil|click me>`, `*bold*`, `@here`. Slack has no escape character for mrkdwn, so:
// - `&`, `<`, `>` become entities (Slack's own rule): every `<…>` control sequence is then inert;
// - the formatting characters `*`, `_`, `~` get a zero-width space on each side. Whether Slack
//   takes the zero-width space as a word boundary or as a letter, the character is then neither
//   an opening nor a closing delimiter (a delimiter needs a non-space on its inner side, and Slack
//   does not format inside words);
// - a backtick is replaced by U+02CB (ˋ, a modifier grave accent): a code span does not care about
//   word boundaries, so a look-alike is the only reliable way;
// - `@channel`, `@here`, `@everyone` get a zero-width joiner after the `@`, so they can never
//   notify (even if someone turns on `link_names`).
// Price: the zero-width characters are invisible but survive copy and paste, so a copied
// `payments_api` carries two of them. Our own identifiers (incident ids, action ids, usage) never
// go through this: they use inlineCode(). Where untrusted text sits next to our formatting in a
// message, it goes into a rich_text block (rich.ts) instead, shown exactly as typed.

const ZWSP = '\u200B';
const ZWJ = '\u200D';

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** `&`, `<`, `>` → entities. Enough inside ``` code blocks; not enough for running text. */
export function escapeEntities(text: string): string {
  return text.replace(/[&<>]/g, (c) => ENTITY[c] ?? c);
}

/** `@channel`, `@here`, `@everyone` with a zero-width joiner after the `@`: they never notify. */
export function defuseMentions(text: string): string {
  return text.replace(/@(channel|here|everyone)\b/gi, `@${ZWJ}$1`);
}

/** Make arbitrary text inert in a mrkdwn field: no mentions, no links, no formatting. Keeps newlines. */
export function escapeMrkdwn(text: string): string {
  return defuseMentions(
    escapeEntities(withoutBidi(text))
      .replace(/[*_~]/g, (c) => `${ZWSP}${c}${ZWSP}`)
      .replace(/`/g, '\u02CB'),
  );
}

/**
 * What a single-line field loses: control characters, line and paragraph separators (they would fake
 * extra lines of the message) and bidirectional controls (RLO and friends reorder what people read:
 * `exe.txt` shown as `txt.exe`).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we replace
const NOT_ONE_LINE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]+/g;

/** Bidirectional overrides and isolates: never shown, in any field (they reorder what people read). */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** Text without bidi controls (a field that may keep its line breaks: rich_text, mrkdwn). */
export function withoutBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/** A value for one line: breaks, controls and bidi overrides become single spaces. */
export function oneLine(text: string): string {
  return text.replace(NOT_ONE_LINE, ' ').trim();
}

/**
 * escapeMrkdwn for a value shown on one line (a service name, a reason): line breaks, tabs, other
 * control characters and bidi controls become single spaces, so a field can neither fake extra
 * lines of the message nor reorder what people read.
 */
export function escapeInline(text: string): string {
  return escapeMrkdwn(oneLine(text));
}

/**
 * Text for the inside of a ``` code block (a preview): entities escaped, mentions defused, and a
 * run of three backticks broken so the text cannot close the block. Formatting characters stay as
 * they are (Slack does not format inside code blocks), so YAML is shown exactly.
 */
export function escapeCode(text: string): string {
  return defuseMentions(escapeEntities(text)).replace(/``+/g, (run) => run.split('').join(ZWSP));
}

/**
 * Inline code for OUR identifiers (command usage): `` `…` ``. Only our own strings, which hold no
 * backtick; untrusted text goes to rich_text (rich.ts) instead.
 */
export function inlineCode(text: string): string {
  return `\`${defuseMentions(escapeEntities(text))}\``;
}

/** Plain text fields (headers, buttons) for our own strings: Slack does not parse them, but keep them single-line. */
export function plainLine(text: string): string {
  return oneLine(text);
}

// -------------------------------------------------------------------------------------------------
// Truncation

/**
 * Units that must never be split: an entity, a formatting character with its zero-width guards, a
 * defused mention's `@` + joiner, a `<…>` sequence (only we emit those: dates and mentions), one
 * code point (the `u` flag keeps surrogate pairs whole) with a following variation selector or joiner.
 */
const UNIT =
  /&(?:amp|lt|gt|quot|#\d{1,7});|\u200B[*_~]\u200B|@\u200D|<[^<>\n]{1,300}>|[\s\S][\uFE0F\u200D]?/gu;

const FENCE = '```';
const CLOSE_FENCE = '\n```';

function suffix(removed: number, long: boolean): string {
  return long ? `… (truncated, ${removed} more ${removed === 1 ? 'char' : 'chars'})` : '…';
}

/**
 * Cut `text` to at most `max` UTF-16 code units (what Slack counts, conservatively), visibly:
 * `… (truncated, N more chars)` where N counts the characters left out (an entity or an escaped
 * character counts as one). In short fields (buttons, options, titles), where that would eat more
 * than half the room, the mark is a bare `…`. Never splits a surrogate pair, an entity such as
 * `&amp;`, an escaped formatting character or a `<…>` token; a ``` code block cut in the middle is
 * closed again.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  const parts = text.match(UNIT) ?? [];
  // The longest possible mark (everything removed) decides the form and the room it takes.
  const long = suffix(parts.length, true).length * 2 <= max;
  const room = max - suffix(parts.length, long).length - (text.includes(FENCE) ? CLOSE_FENCE.length : 0);
  let used = 0;
  let kept = 0;
  while (kept < parts.length) {
    const len = (parts[kept] as string).length;
    if (used + len > room) break;
    used += len;
    kept++;
  }
  let head = parts.slice(0, kept).join('');
  if ((head.split(FENCE).length - 1) % 2 === 1) head += CLOSE_FENCE;
  return `${head}${suffix(parts.length - kept, long)}`;
}
