// Small building blocks shared by the renderers: text objects, Slack date tokens, our users'
// mentions. The only `<…>` sequences we emit on purpose are built here.
import { escapeEntities, escapeInline, oneLine } from './escape.js';
import type { Segment } from './rich.js';
import type { MrkdwnElement, PlainTextElement } from './types.js';

/**
 * A mrkdwn text object. `verbatim: true` stops Slack from auto-linking bare URLs, channel names and
 * `@here` in the text; the `<…>` tokens we build below still work.
 */
export function mrkdwn(text: string): MrkdwnElement {
  return { type: 'mrkdwn', text, verbatim: true };
}

/** A plain_text object for OUR strings (Slack does not parse plain text, but shows it as is). */
export function plain(text: string): PlainTextElement {
  return { type: 'plain_text', text, emoji: true };
}

/**
 * A Slack date token, shown in each reader's time zone:
 * `<!date^1764079392^{date_short_pretty} {time_secs}|2026-11-25T14:03:12.123Z>`.
 * Not a parseable time → the text itself, escaped.
 */
export function slackDate(iso: string, format = '{date_short_pretty} {time_secs}'): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeInline(iso);
  const fallback = new Date(ms).toISOString();
  return `<!date^${Math.floor(ms / 1000)}^${format}|${fallback}>`;
}

const SLACK_USER = /^slack:([UW][A-Z0-9]{2,30})$/;

/**
 * How an actor reads: `slack:U123` → `<@U123>` (the only mentions we emit: our own users, from ids
 * the Slack layer wrote), anything else (`system`, `cli:alice`, `drill`) → escaped text.
 */
export function actorText(actor: string): string {
  const m = SLACK_USER.exec(actor);
  return m ? `<@${m[1]}>` : escapeInline(actor);
}

/** actorText for a rich_text line: `slack:U123` → a user element, anything else → its literal text. */
export function actorSegment(actor: string): Segment {
  const m = SLACK_USER.exec(actor);
  return m?.[1] ? { user: m[1] } : oneLine(actor);
}

/** `1 alert`, `51 alerts`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `90s`, `15m`, `1h30m`, `2d`. */
export function shortDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  let rest = Math.max(0, Math.round(ms));
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out === '' ? `${rest}ms` : out;
}

/** An id of ours inside mrkdwn (incident id, step id): entities only, it never contains formatting. */
export function idText(id: string): string {
  return escapeEntities(id);
}
