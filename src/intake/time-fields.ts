// Senders' times: RFC 3339 (real instants only, years 0000–9999) or epoch seconds/milliseconds, to ISO
// UTC. Nothing here reads the clock: a missing time falls back to the receipt time passed in.
import type { FieldIssue } from '../domain/errors.js';
import { show, withValue } from './untrusted-values.js';

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const MAX_EPOCH_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const TIME_MESSAGE =
  'expected an RFC 3339 time with a zone (2026-11-25T14:03:12Z) or epoch seconds/milliseconds';

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** RFC 3339 text → epoch ms, or undefined when it is not a real instant (Feb 30, 25:00, no zone …). */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const frac = m[7] ?? '';
  let zone = 'Z';
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    zone = `${m[9]}${m[10]}:${m[11]}`;
  }
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac.slice(0, 4)}${zone}`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && inRange(ms) ? ms : undefined;
}

/** Years 0000–9999 only: toISOString() renders others as ±YYYYYY, which is not RFC 3339. */
const MIN_EPOCH_MS = -62167219200000; // 0000-01-01T00:00:00Z

function inRange(ms: number): boolean {
  return ms >= MIN_EPOCH_MS && ms <= MAX_EPOCH_MS;
}

/** Epoch seconds (below 1e11, i.e. before year 5138) or milliseconds → epoch ms. */
export function epochToMs(n: number): number | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  const ms = n < 1e11 ? n * 1000 : n;
  return ms <= MAX_EPOCH_MS ? Math.floor(ms) : undefined;
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * A sender's time (RFC 3339 text, or epoch seconds/ms when `allowNumber`) → ISO UTC with ms.
 * Missing → `fallbackMs` (the receipt time). Invalid → an issue and undefined.
 */
export function checkTime(
  value: unknown,
  path: string,
  fallbackMs: number,
  issues: FieldIssue[],
  opts: { allowNumber: boolean; required?: boolean },
): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (!opts.required) return toIso(fallbackMs);
    issues.push(withValue({ path, message: 'is required (an RFC 3339 time)' }, value));
    return undefined;
  }
  let ms: number | undefined;
  if (typeof value === 'string') ms = parseRfc3339(value);
  else if (typeof value === 'number' && opts.allowNumber) ms = epochToMs(value);
  if (ms !== undefined) return toIso(ms);
  issues.push({
    path,
    message: opts.allowNumber ? TIME_MESSAGE : 'expected an RFC 3339 time with a zone (2026-11-25T14:03:12Z)',
    value: show(value),
  });
  return undefined;
}
