// The intake entry point: one request body → a ParsedBatch, or one CodedError. The format is
// detected from the body, never from the content type (senders get that wrong). Pure: no I/O, no clock.
import { type AlertOrigin, EgressAlert, type ParsedBatch } from '../domain/alert.js';
import { CodedError, type FieldIssue, showValue } from '../domain/errors.js';
import { looksLikeAlertmanager, parseAlertmanager } from './alertmanager.js';
import { BatchResult, emptyBatch, maxAlertsOf, tooDeep, tooMany } from './batch-result.js';
import { looksLikeEgressEvent, parseEgressEventItem, parseEgressEvents } from './egress-event.js';
import { looksLikeFalco, parseFalcoEvent, parseFalcosidekick } from './falcosidekick.js';
import { type ItemPath, linePath } from './item-path.js';
import type { ParseOptions } from './options.js';
import { isPlainObject, MAX_JSON_DEPTH, nestsDeeperThan } from './untrusted-values.js';

export type { ParseOptions } from './options.js';

const ACCEPTED =
  'expected one of: an egress event (a JSON object, a JSON array or NDJSON of objects with src_service, ' +
  'src_namespace, dst_type, dst_name, dst_port, protocol), a Prometheus Alertmanager webhook (version "4" ' +
  'with receiver, status and alerts[]), or a Falcosidekick event (rule, priority, output_fields)';

function formatUnknown(seen: string, contentType: string | undefined): CodedError {
  return new CodedError('alert_format_unknown', `Unrecognised alert format: ${ACCEPTED}; got ${seen}`, {
    details: { seen, ...(contentType ? { contentType } : {}) },
  });
}

/** What a value is, in a few words, for "got …" (values are depth-checked first). */
function describe(value: unknown): string {
  if (value === null) return 'JSON null';
  if (Array.isArray(value)) return `a JSON array of ${value.length} items`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty JSON object';
    const shown = keys.slice(0, 8).map((k) => showValue(k, 40));
    return `a JSON object with fields ${shown.join(', ')}${keys.length > 8 ? `, … (${keys.length} fields)` : ''}`;
  }
  return `a JSON ${typeof value} (${showValue(value, 60)})`;
}

/** The start of a long text, quoted, with its length: never the whole of a huge body. */
function excerpt(text: string): string {
  const head = JSON.stringify(text.slice(0, 80));
  return text.length > 80 ? `${head}… (${text.length} chars)` : head;
}

/** A JSON.parse message on one line (V8 quotes the input, newlines and all). */
function jsonErrorMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  let out = '';
  for (const ch of raw) out += ch.charCodeAt(0) < 0x20 ? JSON.stringify(ch).slice(1, -1) : ch;
  return out;
}

type Detected = AlertOrigin | 'alertmanager-in-array' | undefined;

function classify(value: unknown): Detected {
  if (looksLikeAlertmanager(value)) return 'alertmanager';
  if (looksLikeFalco(value)) return 'falcosidekick';
  if (looksLikeEgressEvent(value)) return 'egress-event';
  return undefined;
}

/** Items of an array are classified by the first one that looks like anything. */
function classifyItems(items: unknown[]): Detected {
  for (const item of items) {
    const format = classify(item);
    if (format === 'alertmanager') return 'alertmanager-in-array';
    if (format) return format;
  }
  return undefined;
}

function parseJsonValue(value: unknown, contentType: string | undefined, opts: ParseOptions): ParsedBatch {
  const max = maxAlertsOf(opts);
  if (Array.isArray(value)) {
    if (value.length === 0) throw emptyBatch('', undefined, 'alert');
    if (value.length > max) throw tooMany(value.length, max, '');
  }
  if (nestsDeeperThan(value)) throw tooDeep('');
  const format = Array.isArray(value) ? classifyItems(value) : classify(value);
  switch (format) {
    case 'alertmanager':
      return parseAlertmanager(value, opts);
    case 'falcosidekick':
      return parseFalcosidekick(value, opts);
    case 'egress-event':
      return parseEgressEvents(value, opts);
    case 'alertmanager-in-array':
      throw formatUnknown(
        'a JSON array of Alertmanager webhooks (send one webhook object per request)',
        contentType,
      );
    default: {
      const seen = Array.isArray(value)
        ? `${describe(value)}, none of which looks like an alert (first item: ${describe(value[0])})`
        : describe(value);
      throw formatUnknown(seen, contentType);
    }
  }
}

/** NDJSON: one object per line, blank lines ignored, bad lines reported by line number. */
function parseNdjson(lines: string[], opts: ParseOptions): ParsedBatch | undefined {
  const max = maxAlertsOf(opts);
  const entries: Array<{ line: number; text: string }> = [];
  lines.forEach((text, i) => {
    if (text.trim() !== '') entries.push({ line: i + 1, text });
  });
  if (entries.length > max) throw tooMany(entries.length, max, '');

  const parsed: Array<{ at: ItemPath; value: unknown; error?: FieldIssue }> = entries.map(
    ({ line, text }) => {
      const at = linePath(line);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        return {
          at,
          value: undefined,
          error: {
            path: at.self,
            message: `is not valid JSON (${jsonErrorMessage(err)})`,
            value: excerpt(text),
          },
        };
      }
      if (nestsDeeperThan(value)) {
        return {
          at,
          value: undefined,
          error: { path: at.self, message: `nests deeper than ${MAX_JSON_DEPTH} levels` },
        };
      }
      if (!isPlainObject(value)) {
        return {
          at,
          value,
          error: {
            path: at.self,
            message: 'expected a JSON object (one event per line)',
            value: showValue(value),
          },
        };
      }
      return { at, value };
    },
  );

  let format: AlertOrigin | undefined;
  for (const p of parsed) {
    const f = p.error ? undefined : classify(p.value);
    if (f === 'egress-event' || f === 'falcosidekick') {
      format = f;
      break;
    }
  }
  if (format === undefined) return undefined; // not NDJSON of alerts: the caller reports the body as unknown

  const batch = new BatchResult(format);
  for (const p of parsed) {
    if (p.error) {
      batch.item(undefined, [p.error], p.at);
      continue;
    }
    const issues: FieldIssue[] = [];
    const alert: EgressAlert | undefined =
      format === 'egress-event'
        ? parseEgressEventItem(p.value, p.at, opts, issues)
        : parseFalcoEvent(p.value, p.at, opts, issues);
    batch.item(alert, issues, p.at);
  }
  return batch.finish();
}

function parseBody(body: string, contentType: string | undefined, opts: ParseOptions): ParsedBatch {
  if (typeof body !== 'string') throw formatUnknown(`a body that is not text (${typeof body})`, contentType);
  if (!Number.isFinite(opts.receivedAt)) {
    throw new CodedError('internal', 'parseAlertBody: receivedAt must be epoch milliseconds', {
      userSafe: false,
    });
  }
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  if (text.trim() === '') throw formatUnknown('an empty body', contentType);

  let value: unknown;
  let jsonError: string | undefined;
  try {
    value = JSON.parse(text);
  } catch (err) {
    jsonError = jsonErrorMessage(err);
  }
  if (jsonError === undefined) return parseJsonValue(value, contentType, opts);

  const lines = text.split(/\r?\n/);
  if (lines.filter((l) => l.trim() !== '').length >= 2) {
    const batch = parseNdjson(lines, opts);
    if (batch) return batch;
  }
  const ct = contentType ? `, sent as ${showValue(contentType, 60)}` : '';
  throw formatUnknown(`text that is not JSON (${jsonError})${ct}: ${excerpt(text)}`, contentType);
}

/** Every alert the parsers build must satisfy the domain schema; a miss is our bug, reported as such. */
function assertValid(batch: ParsedBatch): void {
  batch.alerts.forEach((alert, i) => {
    const res = EgressAlert.safeParse(alert);
    if (!res.success) {
      throw new CodedError('internal', `parser produced an invalid alert at [${i}]: ${res.error.message}`, {
        userSafe: false,
      });
    }
  });
}

/**
 * Parse one request body into a batch of EgressAlerts. Throws only CodedError:
 * `alert_format_unknown` (not one of the three formats) or `alert_invalid` (every bad field, across
 * every item: the batch is rejected whole).
 */
export function parseAlertBody(
  body: string,
  contentType: string | undefined,
  opts: ParseOptions,
): ParsedBatch {
  try {
    const batch = parseBody(body, contentType, opts);
    assertValid(batch);
    return batch;
  } catch (err) {
    if (err instanceof CodedError) throw err;
    // A bug, not the sender's fault; still never anything but a CodedError.
    throw new CodedError(
      'internal',
      `alert parsing failed: ${err instanceof Error ? err.message : String(err)}`,
      {
        userSafe: false,
        cause: err,
      },
    );
  }
}
