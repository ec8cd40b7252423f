// A batch's verdict: the valid alerts and every invalid item with its issues, or the error that
// rejects the whole request (every item invalid, empty, too many, too deep).
import type { AlertOrigin, EgressAlert, ParsedBatch, ParsedItem } from '../domain/alert.js';
import { CodedError, type FieldIssue } from '../domain/errors.js';
import type { ItemPath } from './item-path.js';
import { MAX_JSON_DEPTH } from './untrusted-values.js';

/** Default cap on alerts per request. */
export const DEFAULT_MAX_ALERTS = 1000;

/** The cap in force: a positive integer from the options, else the default (never "no limit"). */
export function maxAlertsOf(opts: { maxAlerts?: number }): number {
  const max = opts.maxAlerts;
  return typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : DEFAULT_MAX_ALERTS;
}

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
