// Format 2: the Prometheus Alertmanager webhook (payload version "4"). Each alert's labels carry
// the egress fields (renamed through AlertmanagerLabelMapping when the rules use other names).
import { z } from 'zod';
import type { EgressAlert, ParsedBatch } from '../domain/alert.js';
import { AlertmanagerLabelMapping } from '../domain/alertmanager-labels.js';
import type { FieldIssue } from '../domain/errors.js';
import { BatchResult, emptyBatch, invalidBatch, maxAlertsOf, tooDeep, tooMany } from './batch-result.js';
import { type EgressField, readCoreFields } from './egress-fields.js';
import { ExtraBag } from './extra-bag.js';
import { checkName, MAX_SUMMARY_LENGTH } from './field-checks.js';
import { type ItemPath, indexPath, rootPath, schemaIssues } from './item-path.js';
import type { ParseOptions } from './options.js';
import { checkTime, parseRfc3339, toIso } from './time-fields.js';
import { isPlainObject, nestsDeeperThan, own, show, truncate } from './untrusted-values.js';

/** The label that carries `field` under `mapping` (identity when unmapped). */
export function labelFor(field: EgressField, mapping: AlertmanagerLabelMapping | undefined): string {
  const mapped = mapping ? own(mapping, field) : undefined;
  return typeof mapped === 'string' && mapped !== '' ? mapped : field;
}

/** Go's zero time: Alertmanager sends it as endsAt when the end is unknown. */
const ZERO_TIME_PREFIX = '0001-01-01T00:00:00';

const StringMap = z.record(
  z.string(),
  z.string({ error: 'expected a string (label and annotation values are strings)' }),
  { error: 'expected an object of name → string value' },
);

const Envelope = z.looseObject(
  {
    version: z.literal('4', { error: 'expected "4": this bot reads Alertmanager webhook payload version 4' }),
    alerts: z.array(z.unknown(), { error: 'expected an array of alerts' }),
  },
  { error: 'expected an Alertmanager webhook object' },
);

const AlertItem = z.looseObject(
  {
    status: z.enum(['firing', 'resolved'], { error: 'expected "firing" or "resolved"' }),
    labels: StringMap,
    annotations: StringMap.optional(),
    startsAt: z.string({ error: 'expected an RFC 3339 time (when the alert started)' }),
    endsAt: z.string({ error: 'expected an RFC 3339 time' }).optional(),
    generatorURL: z.string({ error: 'expected a URL string' }).optional(),
    fingerprint: z.string({ error: 'expected a string' }).optional(),
  },
  { error: 'expected an object (one Alertmanager alert)' },
);

/** Detection: an object with alerts[] and at least one of the webhook's envelope fields. */
export function looksLikeAlertmanager(value: unknown): boolean {
  return (
    isPlainObject(value) &&
    Array.isArray(own(value, 'alerts')) &&
    ['version', 'receiver', 'status', 'groupKey'].some((k) => Object.hasOwn(value, k))
  );
}

function parseAlert(
  value: unknown,
  at: ItemPath,
  opts: ParseOptions,
  issues: FieldIssue[],
): EgressAlert | undefined {
  const before = issues.length;
  const checked = AlertItem.safeParse(value);
  const shapeIssues = checked.success ? [] : schemaIssues(checked.error, value, at);
  issues.push(...shapeIssues);
  if (!isPlainObject(value)) return undefined;

  const bad = (field: string) =>
    shapeIssues.some((i) => i.path === at.field(field) || i.path.startsWith(`${at.field(field)}.`));
  const mapping = opts.alertmanagerLabels;
  const labels = own(value, 'labels');
  const labelsOk = isPlainObject(labels) && !bad('labels');
  const annotations = own(value, 'annotations');
  const annotationsOk = isPlainObject(annotations) && !bad('annotations');

  // Labels: the egress fields through the mapping, then alertname.
  const core = labelsOk
    ? readCoreFields(
        {
          get: (f) => own(labels, labelFor(f, mapping)),
          path: (f) => at.field(`labels.${labelFor(f, mapping)}`),
        },
        issues,
      )
    : undefined;
  const event = labelsOk
    ? checkName(own(labels, 'alertname'), at.field('labels.alertname'), 'the alert name', issues, {
        required: false,
      })
    : undefined;

  // Times: firstSeen = startsAt; lastSeen = receipt (firing) or endsAt (resolved, when set).
  const startsAtRaw = own(value, 'startsAt');
  const firstSeen =
    typeof startsAtRaw === 'string'
      ? checkTime(startsAtRaw, at.field('startsAt'), opts.receivedAt, issues, {
          allowNumber: false,
          required: true,
        })
      : undefined;
  const status = own(value, 'status');
  let lastMs = opts.receivedAt;
  const endsAt = own(value, 'endsAt');
  if (
    status === 'resolved' &&
    typeof endsAt === 'string' &&
    endsAt !== '' &&
    !endsAt.startsWith(ZERO_TIME_PREFIX)
  ) {
    const ms = parseRfc3339(endsAt);
    if (ms === undefined) {
      issues.push({
        path: at.field('endsAt'),
        message: 'expected an RFC 3339 time with a zone (2026-11-25T14:03:12Z)',
        value: show(endsAt),
      });
    } else {
      lastMs = ms;
    }
  }
  const fingerprint = own(value, 'fingerprint');
  const fp = checkName(fingerprint, at.field('fingerprint'), 'the alert fingerprint', issues, {
    required: false,
  });

  if (issues.length > before || core === undefined || firstSeen === undefined) return undefined;
  const state = status === 'resolved' ? 'resolved' : 'firing';
  // Never report a last sighting before the first (a sender clock ahead of ours).
  const lastSeen = toIso(Math.max(lastMs, Date.parse(firstSeen)));

  // Summary and extra: every other label and annotation, plus generatorURL.
  const annotationMap = annotationsOk ? (annotations as Record<string, string>) : {};
  const summaryKey = ['summary', 'description'].find((k) => {
    const v = own(annotationMap, k);
    return typeof v === 'string' && v.trim() !== '';
  });
  const consumed = new Set<string>(['alertname']);
  for (const f of Object.keys(AlertmanagerLabelMapping.shape) as EgressField[])
    consumed.add(labelFor(f, mapping));
  const extra = new ExtraBag();
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (!consumed.has(k)) extra.add(`label.${k}`, v);
  }
  for (const [k, v] of Object.entries(annotationMap)) if (k !== summaryKey) extra.add(`annotation.${k}`, v);
  extra.add('generatorURL', own(value, 'generatorURL'));

  // Alertmanager re-sends the same alerts every group_interval: same fingerprint + startsAt = a retry.
  // A resolved notification is a new report about that alert, so it gets its own id.
  const requestId =
    fp !== undefined
      ? `alertmanager:${fp}:${startsAtRaw as string}${state === 'resolved' ? ':resolved' : ''}`
      : core.requestId;
  const summary = summaryKey
    ? truncate(own(annotationMap, summaryKey) as string, MAX_SUMMARY_LENGTH)
    : undefined;

  const { requestId: _labelRequestId, ...rest } = core;
  return {
    origin: 'alertmanager',
    state,
    ...(event ? { event } : {}),
    ...rest,
    ...(requestId ? { requestId } : {}),
    count: 1,
    firstSeen,
    lastSeen,
    ...(summary ? { summary } : {}),
    extra: extra.toRecord(),
  };
}

/** A whole Alertmanager webhook body (already JSON-parsed). Invalid alerts are named; the valid ones are kept. */
export function parseAlertmanager(value: unknown, opts: ParseOptions): ParsedBatch {
  if (nestsDeeperThan(value)) throw tooDeep('', 'alertmanager');
  const envelope = Envelope.safeParse(value);
  if (!envelope.success) {
    throw invalidBatch(
      'alertmanager',
      'Rejected: not a valid Alertmanager webhook (payload version 4)',
      schemaIssues(envelope.error, value, rootPath),
    );
  }
  const alerts = envelope.data.alerts;
  const max = maxAlertsOf(opts);
  if (alerts.length > max) throw tooMany(alerts.length, max, 'alerts', 'alertmanager');
  if (alerts.length === 0) throw emptyBatch('alerts', 'alertmanager', 'alert');
  const batch = new BatchResult('alertmanager');
  alerts.forEach((alert, i) => {
    const issues: FieldIssue[] = [];
    const at = indexPath('alerts', i);
    batch.item(parseAlert(alert, at, opts, issues), issues, at);
  });
  return batch.finish();
}
