import type { LoadedContract } from '../domain/contract.js';
import { findContract } from './evaluate.js';
import type { Workload } from './manifests.js';

// Policy-as-code for CI: every workload a manifest declares has an egress contract, and no contract
// is past its review. Pure: `now` is given, so a run is reproducible.

export type FindingKind = 'missing-contract' | 'review-overdue' | 'review-date-invalid';

export interface Finding {
  kind: FindingKind;
  message: string;
  file: string;
  namespace?: string;
  app?: string;
  workload?: string;
}

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * `missing egress contract for prod/payments-api`, one per workload with the app label (a service
 * in two kinds is named twice). Workloads without the label are outside the rule (see `unlabelled`).
 */
export function coverageFindings(
  workloads: readonly Workload[],
  contracts: readonly LoadedContract[],
): Finding[] {
  return workloads.flatMap((w): Finding[] => {
    if (w.app === undefined) return [];
    if (findContract(contracts, { service: w.app, namespace: w.namespace }) !== undefined) return [];
    const workload = `${w.kind}/${w.name}`;
    return [
      {
        kind: 'missing-contract',
        message: `missing egress contract for ${w.namespace}/${w.app} (${workload}, ${w.file}:${w.line})`,
        file: w.file,
        namespace: w.namespace,
        app: w.app,
        workload,
      },
    ];
  });
}

/** Workloads the rule does not reach, in words, so a missing label is seen rather than silently passed. */
export function unlabelled(workloads: readonly Workload[], appLabel: string): string[] {
  return workloads
    .filter((w) => w.app === undefined)
    .map(
      (w) =>
        `${w.kind}/${w.name} in ${w.namespace} has no ${appLabel} label: not checked (${w.file}:${w.line})`,
    );
}

function parseDay(value: unknown): number | undefined {
  const m = typeof value === 'string' ? DATE.exec(value) : null;
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls 2026-02-31 over into March: such a date is refused.
  return new Date(ms).toISOString().startsWith(value as string) ? ms : undefined;
}

/**
 * A contract whose `metadata.review_interval_days` has passed since `metadata.last_reviewed`
 * (YYYY-MM-DD). A contract without an interval, or without a review date, is not judged.
 */
export function reviewFindings(contracts: readonly LoadedContract[], now: number): Finding[] {
  return contracts.flatMap((c): Finding[] => {
    const meta = c.contract.metadata ?? {};
    const interval = meta.review_interval_days;
    const last = meta.last_reviewed;
    if (interval === undefined || last === undefined) return [];
    const who = `${c.contract.namespace ?? '*'}/${c.contract.service}`;
    const day = parseDay(last);
    if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1 || day === undefined)
      return [
        {
          kind: 'review-date-invalid',
          message: `egress contract for ${who} (${c.file}): metadata.last_reviewed must be a date YYYY-MM-DD and review_interval_days a whole number of days ≥ 1 (got ${JSON.stringify(last)} and ${JSON.stringify(interval)})`,
          file: c.file,
          app: c.contract.service,
        },
      ];
    const due = day + interval * DAY_MS;
    if (now < due) return [];
    const overdue = Math.floor((now - due) / DAY_MS);
    return [
      {
        kind: 'review-overdue',
        message: `egress contract for ${who} (${c.file}) is past its review: last reviewed ${last}, every ${interval} days, due ${new Date(due).toISOString().slice(0, 10)} (${overdue} day(s) ago)`,
        file: c.file,
        ...(c.contract.namespace === undefined ? {} : { namespace: c.contract.namespace }),
        app: c.contract.service,
      },
    ];
  });
}
