// Format 1: our own egress event schema, as one object or a JSON array (NDJSON is split into
// lines by parse.ts, which then calls parseEgressEventItem per line).
import type { EgressAlert, ParsedBatch } from '../domain/alert.js';
import type { FieldIssue } from '../domain/errors.js';
import { BatchResult, emptyBatch, maxAlertsOf, tooDeep, tooMany } from './batch-result.js';
import { EGRESS_FIELDS, type EgressField, readCoreFields } from './egress-fields.js';
import { ExtraBag } from './extra-bag.js';
import { checkName } from './field-checks.js';
import { type ItemPath, indexPath, rootPath } from './item-path.js';
import type { ParseOptions } from './options.js';
import { checkTime } from './time-fields.js';
import { isPlainObject, kindOf, nestsDeeperThan, own, show } from './untrusted-values.js';

/** Keys of the egress event schema; any other key is kept in `extra`. */
export const EGRESS_EVENT_KEYS: ReadonlySet<string> = new Set<string>(['ts', 'event', ...EGRESS_FIELDS]);

/** Keys whose presence says "this object is an egress event" (used by format detection). */
export const EGRESS_EVENT_MARKERS = [
  'src_service',
  'src_namespace',
  'src_identity',
  'dst_type',
  'dst_name',
  'dst_namespace',
  'dst_port',
] as const;

export function looksLikeEgressEvent(value: unknown): boolean {
  return isPlainObject(value) && EGRESS_EVENT_MARKERS.some((k) => Object.hasOwn(value, k));
}

/**
 * Parse one egress event at `at`. Issues go to `issues`; returns undefined when there were any.
 * The caller has already checked nesting depth.
 */
export function parseEgressEventItem(
  value: unknown,
  at: ItemPath,
  opts: ParseOptions,
  issues: FieldIssue[],
): EgressAlert | undefined {
  if (!isPlainObject(value)) {
    issues.push({
      path: at.self,
      message: `expected a JSON object (one egress event), got ${kindOf(value)}`,
      value: show(value),
    });
    return undefined;
  }
  const before = issues.length;
  const core = readCoreFields(
    { get: (f: EgressField) => own(value, f), path: (f: EgressField) => at.field(f) },
    issues,
  );
  const ts = checkTime(own(value, 'ts'), at.field('ts'), opts.receivedAt, issues, { allowNumber: true });
  const event = checkName(own(value, 'event'), at.field('event'), 'the event name', issues, {
    required: false,
  });
  if (issues.length > before || core === undefined || ts === undefined) return undefined;

  const extra = new ExtraBag();
  for (const [key, v] of Object.entries(value)) if (!EGRESS_EVENT_KEYS.has(key)) extra.add(key, v);

  return {
    origin: 'egress-event',
    state: 'firing',
    ...(event ? { event } : {}),
    ...core,
    count: 1,
    firstSeen: ts,
    lastSeen: ts,
    extra: extra.toRecord(),
  };
}

/** One egress event object, or a JSON array of them. Invalid items are named; the valid ones are kept. */
export function parseEgressEvents(value: unknown, opts: ParseOptions): ParsedBatch {
  const max = maxAlertsOf(opts);
  if (Array.isArray(value) && value.length > max) throw tooMany(value.length, max, '', 'egress-event');
  if (nestsDeeperThan(value)) throw tooDeep('', 'egress-event');
  const batch = new BatchResult('egress-event');
  const items: Array<[unknown, ItemPath]> = Array.isArray(value)
    ? value.map((v, i) => [v, indexPath('', i)])
    : [[value, rootPath]];
  if (items.length === 0) throw emptyBatch('', 'egress-event', 'egress event');
  for (const [item, at] of items) {
    const issues: FieldIssue[] = [];
    batch.item(parseEgressEventItem(item, at, opts, issues), issues, at);
  }
  return batch.finish();
}
