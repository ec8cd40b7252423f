// Reading and rendering untrusted JSON values safely: own properties only, kinds and values shown
// for messages, depth checked without recursion, strings cut without splitting a character.
import { type FieldIssue, showValue } from '../domain/errors.js';

/** JSON nested deeper than this is rejected before anything walks it (no recursion on hostile input). */
export const MAX_JSON_DEPTH = 64;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own property only: `labels.constructor` must never find Object.prototype.constructor. */
export function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** `showValue` for anything: values are depth-checked before they get here, so this cannot recurse far. */
export function show(value: unknown): string {
  return showValue(value);
}

/** A one-phrase description of a JSON value's kind, for messages: `a number`, `an array`, `null`. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/**
 * True when a parsed JSON value nests deeper than `limit` (arrays/objects). Iterative: a body of a
 * million `[` must not blow the stack here, nor later in JSON.stringify (which recurses).
 */
export function nestsDeeperThan(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= limit) return true;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) if (typeof c === 'object' && c !== null) stack.push([c, depth + 1]);
  }
  return false;
}

/** Cut a string to at most `max` UTF-16 units without splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

/** The issue, showing the value it is about when there is one. */
export function withValue(issue: FieldIssue, value: unknown): FieldIssue {
  return value === undefined ? issue : { ...issue, value: show(value) };
}
