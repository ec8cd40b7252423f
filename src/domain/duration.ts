import { z } from 'zod';

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const part = /(\d+)(ms|s|m|h|d)/gy;

/** Longer than any SLA, wait or retry window means anything: past it, `now + d` stops being a date. */
export const MAX_DURATION_MS = 366 * 86_400_000;

/** Parse `90s`, `15m`, `1h30m`, `2d` into milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  part.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(trimmed); m !== null; m = part.exec(trimmed)) {
    total += Number(m[1]) * unitMs[m[2] as keyof typeof unitMs];
    consumed = part.lastIndex;
  }
  return consumed === trimmed.length && total > 0 ? total : undefined;
}

export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const msPart = rest - s * 1000;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${sign}${pad(h)}:${pad(m)}:${pad(s)}.${pad(msPart, 3)}`;
}

/** A duration field in YAML: `15m` → 900000. */
export const DurationText = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 90s, 15m, 1h30m or 2d' });
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration of at most 366d' });
    return z.NEVER;
  }
  return ms;
});
