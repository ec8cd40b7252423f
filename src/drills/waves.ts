import { z } from 'zod';
import type { EgressAlert, ParsedBatch } from '../domain/alert.js';
import { DurationText } from '../domain/duration.js';
import { CodedError, type FieldIssue } from '../domain/errors.js';
import { type ParseOptions, parseAlertBody } from '../intake/parse.js';

// A scenario's alerts come in waves: the first at drill time 0 (the scenario's `alert`, `repeats` and
// `repeat`), then each `later` entry `after` some time, optionally while a given step of the first
// incident waits for people. Every payload goes through the real intake parser.

/** The alert payload exactly as a sender would POST it (one object or a JSON array of them). */
export const AlertPayload = z.union([
  z.record(z.string(), z.unknown()),
  z.array(z.record(z.string(), z.unknown())).min(1),
]);

const PLACEHOLDER = '{n}';

/** Copies of the wave's alerts, copy n (1…count) to the host `host` with `{n}` replaced: a DNS tunnel. */
export const Repeat = z.strictObject({
  count: z.number().int().min(1).max(10_000),
  host: z
    .string()
    .min(1)
    .max(253)
    .refine((h) => h.includes(PLACEHOLDER), {
      error: 'must contain {n} (replaced by 1…count, so each copy names its own host)',
    }),
});
export type Repeat = z.infer<typeof Repeat>;

/** The longest a follow-up may wait: past it dedupe windows and SLAs would stop meaning anything. */
const MAX_AFTER_MS = 3_600_000;

export const FollowUp = z.strictObject({
  /** Drill time from the first alert when this wave arrives (`30s`, `2m`); at most 1h. */
  after: DurationText.refine((ms) => ms <= MAX_AFTER_MS, { error: 'a follow-up arrives within 1h' }),
  /** Deliver it while this step of the first incident waits for people (default: the first that waits). */
  during: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'expected a step id' })
    .optional(),
  /** What the wave is, printed when it arrives. */
  note: z.string().min(1).optional(),
  /** Default: the scenario's alert again (a repeat; request ids made unique). */
  alert: AlertPayload.optional(),
  repeats: z.number().int().min(0).max(10_000).default(0),
  repeat: Repeat.optional(),
});
export type FollowUp = z.infer<typeof FollowUp>;

export interface Wave {
  /** `alert` or `later[2]`: where it is written. */
  at: string;
  afterMs: number;
  during?: string;
  note?: string;
  payload: unknown;
  /** The scenario's alert sent again: its request ids need a suffix, or they would be duplicates. */
  again: boolean;
  repeats: number;
  repeat?: Repeat;
}

export function wavesOf(s: {
  alert: unknown;
  repeats: number;
  repeat?: Repeat | undefined;
  later: readonly FollowUp[];
}): Wave[] {
  const first: Wave = {
    at: 'alert',
    afterMs: 0,
    payload: s.alert,
    again: false,
    repeats: s.repeats,
    ...(s.repeat ? { repeat: s.repeat } : {}),
  };
  const later = s.later.map(
    (f, i): Wave => ({
      at: `later[${i}]`,
      afterMs: f.after,
      ...(f.during ? { during: f.during } : {}),
      ...(f.note ? { note: f.note } : {}),
      payload: f.alert ?? s.alert,
      again: f.alert === undefined,
      repeats: f.repeats,
      ...(f.repeat ? { repeat: f.repeat } : {}),
    }),
  );
  // Stable: waves with the same `after` keep their written order.
  return [first, ...later.sort((a, b) => a.afterMs - b.afterMs)];
}

/** The payload through the real parser; every invalid item is an issue at its place in the scenario. */
export function parseWave(
  wave: Wave,
  opts: ParseOptions,
): { alerts: EgressAlert[]; format?: ParsedBatch['format']; issues: FieldIssue[] } {
  const path = (p: string) =>
    `${wave.at === 'alert' ? 'alert' : `${wave.at}.alert`}${p.startsWith('[') || p === '' ? p : `.${p}`}`;
  let batch: ParsedBatch;
  try {
    batch = parseAlertBody(JSON.stringify(wave.payload), 'application/json', opts);
  } catch (err) {
    if (!(err instanceof CodedError)) throw err;
    const issues = err.issues.length > 0 ? err.issues : [{ path: '', message: err.message }];
    return { alerts: [], issues: issues.map((i) => ({ ...i, path: path(i.path) })) };
  }
  const issues = batch.items.flatMap((item) =>
    (item.issues ?? []).map((i) => ({ ...i, path: path(i.path) })),
  );
  if (wave.repeat && batch.alerts.some((a) => a.destination.type !== 'fqdn')) {
    issues.push({
      path: `${wave.at === 'alert' ? '' : `${wave.at}.`}repeat.host`,
      message: 'replaces the destination name, so every alert of its wave must have an fqdn destination',
    });
  }
  return { alerts: batch.alerts, format: batch.format, issues };
}

const suffixed = (alert: EgressAlert, suffix: string): EgressAlert =>
  alert.requestId ? { ...alert, requestId: `${alert.requestId}-${suffix}` } : alert;

/**
 * The wave's alerts as batches to record, in order, each alert seen at `stamp`: the alerts, then
 * `repeats` copies of them, then the `repeat` copies (one batch: a detector flushing what it saw).
 */
export function batchesOf(
  wave: Wave,
  alerts: readonly EgressAlert[],
  stamp: string,
  format: ParsedBatch['format'],
): ParsedBatch[] {
  const batch = (list: EgressAlert[]): ParsedBatch => ({
    format,
    alerts: list,
    items: list.map((alert, index) => ({ index, at: `[${index}]`, alert })),
  });
  const base = alerts.map((a) => {
    const seen = { ...a, firstSeen: stamp, lastSeen: stamp };
    return wave.again ? suffixed(seen, wave.at.replace(/[[\]]/g, '')) : seen;
  });
  const out = [batch(base)];
  for (let i = 1; i <= wave.repeats; i++) out.push(batch(base.map((a) => suffixed(a, `repeat-${i}`))));
  if (wave.repeat) {
    const { count, host } = wave.repeat;
    const copies: EgressAlert[] = [];
    for (let n = 1; n <= count; n++) {
      const name = host.split(PLACEHOLDER).join(String(n));
      for (const a of base)
        copies.push(suffixed({ ...a, destination: { ...a.destination, name } }, `host-${n}`));
    }
    out.push(batch(copies));
  }
  return out;
}
