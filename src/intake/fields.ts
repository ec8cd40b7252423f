// Shared, pure helpers for the intake parsers: field validation with precise FieldIssues,
// timestamps, the `extra` bag, safe value rendering and the batch verdict.
// Nothing here reads the clock or does I/O: the receipt time is always passed in.
import type { z } from 'zod';
import type { AlertOrigin, DestinationType, EgressAlert, ParsedBatch, ParsedItem } from '../domain/alert.js';
import { CodedError, type FieldIssue, showValue } from '../domain/errors.js';
import { zodIssues } from '../domain/zod-issues.js';

/** A name (service, namespace, identity, destination) longer than this is not a name. */
export const MAX_NAME_LENGTH = 1024;
/** Each value kept in `extra` is cut to this many characters. */
export const MAX_EXTRA_VALUE_LENGTH = 1024;
/** At most this many entries are kept in `extra` per alert (the first ones, in input order). */
export const MAX_EXTRA_FIELDS = 100;
/** Keys longer than this are not kept in `extra`. */
export const MAX_EXTRA_KEY_LENGTH = 256;
/** Senders' one-line descriptions (Falco output, Alertmanager summary) are cut to this. */
export const MAX_SUMMARY_LENGTH = 2000;
/** JSON nested deeper than this is rejected before anything walks it (no recursion on hostile input). */
export const MAX_JSON_DEPTH = 64;
/** Default cap on alerts per request. */
export const DEFAULT_MAX_ALERTS = 1000;

/** The cap in force: a positive integer from the options, else the default (never "no limit"). */
export function maxAlertsOf(opts: { maxAlerts?: number }): number {
  const max = opts.maxAlerts;
  return typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : DEFAULT_MAX_ALERTS;
}

// ---------------------------------------------------------------------------------------------
// Paths

/**
 * Where one item of a batch sits, and how to name a field inside it:
 * root object → `dst_port`; array item → `[3].dst_port`; NDJSON line → `line 4: dst_port`.
 */
export interface ItemPath {
  /** The item itself ('' for a single root object). */
  readonly self: string;
  /** A field (or dotted sub-path) inside the item. */
  field(sub: string): string;
}

export const rootPath: ItemPath = { self: '', field: (sub) => sub };

export function indexPath(prefix: string, index: number): ItemPath {
  const self = `${prefix}[${index}]`;
  return { self, field: (sub) => `${self}.${sub}` };
}

export function linePath(line: number): ItemPath {
  const self = `line ${line}`;
  return { self, field: (sub) => `${self}: ${sub}` };
}

// ---------------------------------------------------------------------------------------------
// Safe reading and rendering of untrusted values

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

// ---------------------------------------------------------------------------------------------
// Field validators. Each pushes precise issues and returns undefined on failure.

/** Messages name the field's meaning; the path (added by the caller) names where it is. */
export function checkName(
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  if (value === undefined || value === null || (value === '' && !opts.required)) {
    if (opts.required) issues.push(withValue({ path, message: `is required (${what})` }, value));
    return undefined;
  }
  if (typeof value !== 'string') {
    issues.push({ path, message: `expected a string (${what}), got ${kindOf(value)}`, value: show(value) });
    return undefined;
  }
  if (value.length > MAX_NAME_LENGTH) {
    issues.push({
      path,
      message: `is ${value.length} characters long: ${what} is at most ${MAX_NAME_LENGTH} characters`,
      value: show(value),
    });
    return undefined;
  }
  if (value.trim() === '') {
    issues.push({ path, message: `must not be empty (${what})`, value: show(value) });
    return undefined;
  }
  return value;
}

// Kubernetes names. These values end up in label selectors (`app=<service>`), namespaced API paths
// and Slack text: anything that is not a name Kubernetes itself would accept is refused here, so a
// sender can never smuggle a selector (`ledger-db,tier=database`), a path (`..`, `a/b`) or markup in.

/** One DNS-1123 label's characters: lower-case alphanumerics and '-', starting and ending alphanumeric. */
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label (namespaces): at most 63 characters. */
export function isDnsLabel(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

/** A DNS-1123 subdomain (pod and most object names): dot-separated labels, at most `max` characters. */
export function isDnsSubdomain(name: string, max = 253): boolean {
  return name.length <= max && name.split('.').every((label) => DNS_LABEL.test(label));
}

/** A workload name that is also a valid label value (the selector `app=<service>`): a subdomain of at most 63. */
export function isServiceName(name: string): boolean {
  return isDnsSubdomain(name, 63);
}

export const NAMESPACE_MESSAGE =
  "expected a Kubernetes namespace (a DNS-1123 label: lower-case letters, digits and '-', at most 63)";
export const SERVICE_MESSAGE =
  "expected a Kubernetes object name usable as a label value (lower-case letters, digits, '-' and '.', " +
  'starting and ending with a letter or digit, at most 63)';
export const POD_MESSAGE =
  "expected a Kubernetes pod name (a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', " +
  'starting and ending with a letter or digit, at most 253)';

/** checkName, then the Kubernetes name rule `valid`; the issue names the rule and shows the value. */
function checkKubeName(
  valid: (name: string) => boolean,
  expected: string,
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  const name = checkName(value, path, what, issues, opts);
  if (name === undefined || valid(name)) return name;
  issues.push({ path, message: expected, value: show(name) });
  return undefined;
}

/** A namespace: a DNS-1123 label (`constructor` is one; `..`, `a/b`, `Prod`, `-x` are not). */
export function checkNamespace(
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  return checkKubeName(isDnsLabel, NAMESPACE_MESSAGE, value, path, what, issues, opts);
}

/** A service (workload) name usable as a label value: never a selector, a path or markup. */
export function checkServiceName(
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  return checkKubeName(isServiceName, SERVICE_MESSAGE, value, path, what, issues, opts);
}

/** A pod name: a DNS-1123 subdomain of at most 253 characters. */
export function checkPodName(
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  return checkKubeName((n) => isDnsSubdomain(n), POD_MESSAGE, value, path, what, issues, opts);
}

const PORT_MESSAGE = 'expected a port number from 0 to 65535 (a number or a string of digits)';

export function checkPort(value: unknown, path: string, issues: FieldIssue[]): number | undefined {
  if (value === undefined || value === null || value === '') {
    issues.push(withValue({ path, message: 'is required (the destination port, 0–65535)' }, value));
    return undefined;
  }
  let port = Number.NaN;
  if (typeof value === 'number') port = value;
  else if (typeof value === 'string' && /^\d{1,5}$/.test(value)) port = Number(value);
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  issues.push({ path, message: PORT_MESSAGE, value: show(value) });
  return undefined;
}

const DESTINATION_TYPES: readonly DestinationType[] = ['service', 'fqdn', 'ip'];

export function checkDestinationType(
  value: unknown,
  path: string,
  issues: FieldIssue[],
): DestinationType | undefined {
  if (value === undefined || value === null || value === '') {
    issues.push(
      withValue({ path, message: 'is required (the destination type: service, fqdn or ip)' }, value),
    );
    return undefined;
  }
  const lower = typeof value === 'string' ? value.toLowerCase() : undefined;
  const found = DESTINATION_TYPES.find((t) => t === lower);
  if (found) return found;
  issues.push({ path, message: 'expected one of service, fqdn, ip', value: show(value) });
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Timestamps

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

// ---------------------------------------------------------------------------------------------
// extra

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

// ---------------------------------------------------------------------------------------------
// zod → FieldIssues under an item path

export function schemaIssues(error: z.ZodError, input: unknown, at: ItemPath): FieldIssue[] {
  // zodIssues formats `a.b[2]`; graft it onto the item's path.
  return zodIssues(error, input).map((issue) => ({
    ...issue,
    path: issue.path === '' ? at.self : at.field(issue.path),
  }));
}

function withValue(issue: FieldIssue, value: unknown): FieldIssue {
  return value === undefined ? issue : { ...issue, value: show(value) };
}

// ---------------------------------------------------------------------------------------------
// Batch verdict

const NOUN: Record<AlertOrigin, string> = {
  'egress-event': 'egress events',
  alertmanager: 'Alertmanager alerts',
  falcosidekick: 'Falco events',
};

/**
 * Accumulates a batch item by item. `finish` keeps the valid alerts and names every invalid item
 * with its issues, so one bad alert never costs the good ones in its body; only a batch in which
 * every item is invalid is an error.
 */
export class BatchResult {
  readonly #items: ParsedItem[] = [];
  readonly #alerts: EgressAlert[] = [];
  readonly #issues: FieldIssue[] = [];

  constructor(readonly format: AlertOrigin) {}

  /** Record one item's outcome: its alert, or the issues found in it. */
  item(alert: EgressAlert | undefined, itemIssues: FieldIssue[], at: ItemPath): void {
    const index = this.#items.length;
    if (itemIssues.length > 0 || alert === undefined) {
      const issues = itemIssues.length > 0 ? itemIssues : [{ path: at.self, message: 'is not an alert' }];
      this.#issues.push(...issues);
      this.#items.push({ index, at: at.self, issues });
    } else {
      this.#alerts.push(alert);
      this.#items.push({ index, at: at.self, alert });
    }
  }

  finish(): ParsedBatch {
    const total = this.#items.length;
    if (total > 0 && this.#alerts.length === 0) {
      throw new CodedError(
        'alert_invalid',
        `Rejected: ${total === 1 ? `the ${NOUN[this.format].replace(/s$/, '')} is` : `all ${total} ${NOUN[this.format]} are`} invalid, nothing was recorded`,
        { issues: this.#issues, details: { format: this.format, total, invalid: total } },
      );
    }
    return { format: this.format, alerts: this.#alerts, items: this.#items };
  }
}

export function invalidBatch(
  format: AlertOrigin | undefined,
  message: string,
  issues: FieldIssue[],
): CodedError {
  return new CodedError('alert_invalid', message, { issues, details: format ? { format } : {} });
}

export function tooMany(count: number, max: number, path: string, format?: AlertOrigin): CodedError {
  return invalidBatch(format, `Too many alerts in one request: ${count}, the limit is ${max}`, [
    { path, message: `carries ${count} alerts; at most ${max} are accepted per request (split the batch)` },
  ]);
}

export function emptyBatch(path: string, format: AlertOrigin | undefined, what: string): CodedError {
  return invalidBatch(format, 'Rejected: the batch is empty, there is nothing to record', [
    { path, message: `is empty: expected at least one ${what}` },
  ]);
}

export function tooDeep(path: string, format?: AlertOrigin): CodedError {
  return invalidBatch(format, `Rejected: JSON nested deeper than ${MAX_JSON_DEPTH} levels is not an alert`, [
    { path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` },
  ]);
}
