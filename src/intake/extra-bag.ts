// The `extra` bag: sender fields kept for forensics, bounded in count, key and value length.
import { truncate } from './untrusted-values.js';

/** Each value kept in `extra` is cut to this many characters. */
export const MAX_EXTRA_VALUE_LENGTH = 1024;
/** At most this many entries are kept in `extra` per alert (the first ones, in input order). */
export const MAX_EXTRA_FIELDS = 100;
/** Keys longer than this are not kept in `extra`. */
export const MAX_EXTRA_KEY_LENGTH = 256;

/** Collects sender fields kept for forensics: scalars only, as strings, each cut to 1024 chars. */
export class ExtraBag {
  private readonly entries: Array<[string, string]> = [];
  private readonly seen = new Set<string>();

  /** Keep `value` under `key` if it is a string, number or boolean; anything else is ignored. */
  add(key: string, value: unknown): void {
    if (this.entries.length >= MAX_EXTRA_FIELDS || key === '' || key.length > MAX_EXTRA_KEY_LENGTH) return;
    if (this.seen.has(key)) return;
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
    else return;
    this.seen.add(key);
    this.entries.push([key, truncate(text, MAX_EXTRA_VALUE_LENGTH)]);
  }

  /** Object.fromEntries defines own properties, so a `__proto__` key stays a plain key. */
  toRecord(): Record<string, string> {
    return Object.fromEntries(this.entries);
  }
}
