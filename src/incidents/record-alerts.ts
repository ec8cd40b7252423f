import { evaluate } from '../contracts/evaluate.js';
import {
  describeDestination,
  describeSource,
  type EgressAlert,
  type ParsedBatch,
  type ParsedItem,
} from '../domain/alert.js';
import type { LoadedContract, Verdict } from '../domain/contract.js';
import { asCodedError, CodedError, type FieldIssue } from '../domain/errors.js';
import type { FoldedHosts, Incident, Mode } from '../domain/incident.js';
import { toJson } from '../domain/json.js';
import { SYSTEM_ACTOR, type TimelineEvent } from '../domain/timeline.js';
import { displayHost, type FqdnFingerprint, fingerprint, registrableDomain } from '../intake/fingerprint.js';
import type { Journal } from '../journal/journal.js';
import { type Clock, isoAt } from '../observability/clock.js';
import { selectPlaybook } from '../playbooks/load.js';
import type { LoadedPlaybook } from '../playbooks/schema.js';
import type { AlertRecord, AlertRecorded, ScheduledItem, Store } from '../store/store.js';
import { EMPTY_PLAYBOOK_ID, modeFor, newIncidentId } from './ids.js';

// The stage between intake and the engine: each parsed alert opens an incident or folds into the
// open one with its fingerprint, atomically (store.recordAlert), and the incident's playbook run is
// queued in the same step (schedule item `advance:<id>`), so it starts from stored state whatever
// happens to this process after the write.

/** What happened to one item of a request body. */
export type AlertStatus =
  | 'opened'
  | 'folded'
  | 'duplicate'
  | 'resolved'
  /** Resolved, but no incident was open for it: nothing to note it on. */
  | 'ignored'
  /** Invalid: see `issues`. Never recorded; a retry will be rejected the same way. */
  | 'rejected'
  /** Certainly not recorded (the store was not reached, or the deadline passed first): retry it. */
  | 'not_recorded'
  /** Sent to the store with no answer: it may have been recorded. A retry is safe when the alert has a request id. */
  | 'unknown';

export interface AlertResult {
  /** Position in the request body. */
  index: number;
  /** Path of the item in the body (`[3]`, `alerts[1]`, `line 4`; empty for a single object). */
  at: string;
  status: AlertStatus;
  /** The incident it went to; null when none. */
  id: string | null;
  issues?: FieldIssue[];
  /** Why it was not recorded (not_recorded / unknown). */
  error?: string;
}

export const recordedStatuses: readonly AlertStatus[] = [
  'opened',
  'folded',
  'duplicate',
  'resolved',
  'ignored',
];

export interface AlertRecorderDeps {
  store: Store;
  journal: Journal;
  clock: Clock;
  contracts: () => readonly LoadedContract[];
  playbooks: () => readonly LoadedPlaybook[];
  /** Per-namespace mode overrides from the config (`modes: { prod: soft }`); keys may be globs. */
  modes: Readonly<Record<string, Mode>>;
  /** How long a sender's request id is remembered for retry detection. */
  retryWindowMs: number;
  /**
   * `intake.fingerprintFqdnBy`: how an FQDN destination that no rule of the source's contract matches
   * is fingerprinted (see foldingOf). Default `registrable-domain`.
   */
  fqdnFingerprint?: FqdnFingerprint;
  newId?: () => string;
}

/**
 * How an alert is fingerprinted, and the host it counts as. An FQDN that a rule of the source's
 * contract matches (exactly or by wildcard: allowed, or a port or protocol violation) keeps its own
 * host, so an allowed host never shares an incident, or a verdict, with unknown hosts of its
 * domain. Any other FQDN (unknown to the contract, or no contract) folds by its registrable domain
 * when configured and it has one (intake/fingerprint.ts says when it has none). IP and service
 * destinations are never changed.
 */
export function foldingOf(
  alert: EgressAlert,
  verdict: Verdict,
  by: FqdnFingerprint = 'registrable-domain',
): { fingerprint: string; host?: string; domain?: string } {
  const d = alert.destination;
  if (d.type !== 'fqdn') return { fingerprint: fingerprint(alert) };
  const host = displayHost(d.name);
  const ruleMatches =
    verdict.kind === 'allowed' || (verdict.kind === 'violation' && verdict.reason !== 'unknown_destination');
  const domain = by === 'registrable-domain' && !ruleMatches ? registrableDomain(d.name) : undefined;
  if (domain === undefined) return { fingerprint: fingerprint(alert), host };
  return { fingerprint: fingerprint(alert, { fqdnBy: 'registrable-domain' }), host, domain };
}

export interface RecordOptions {
  /** Epoch ms after which no further alert is sent to the store (those left are `not_recorded`). */
  deadline?: number;
  /** Drill incidents are marked so, and everything they do is a dry-run. */
  drill?: boolean;
  /**
   * The drill run the alerts belong to: a drill's fingerprints and request ids live in their own
   * namespace (`drill:<run>:…`), so a drill never folds into a real incident of the same anomaly, a
   * real alert never folds into a drill (where nothing would be contained), and a scenario played
   * twice is two drills, not a duplicate. Required with `drill` in a shared store.
   */
  drillRun?: string;
  /**
   * The scenario a drill was started from: kept on the incident (its complications apply to it) and
   * on the incident.opened event, for its scorecard.
   */
  drillScenario?: string;
  /** Alerts in flight to the store at once. Default 8. */
  concurrency?: number;
}

/** Record every valid item of a batch; invalid items are reported `rejected` with their issues. */
export async function recordAlerts(
  deps: AlertRecorderDeps,
  batch: ParsedBatch,
  opts: RecordOptions = {},
): Promise<AlertResult[]> {
  const results: AlertResult[] = new Array(batch.items.length);
  const queue = [...batch.items];
  // Once the store has failed an alert of this request (down, or too slow to answer within its
  // command timeout), the alerts not yet sent are not sent: each would wait out the same timeout,
  // and the sender learns sooner which to retry. Those sent stay as the store answered them.
  let storeFailed: string | undefined;
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const result: AlertResult & { storeFailed?: boolean } =
        storeFailed !== undefined && item.alert
          ? notSent(item, `not sent: the store failed an earlier alert of this request (${storeFailed})`)
          : await recordItem(deps, item, opts);
      if (storeFailed === undefined && result.storeFailed) storeFailed = result.error;
      const { storeFailed: _, ...answer } = result;
      results[item.index] = answer;
    }
  };
  const lanes = Math.max(1, Math.min(opts.concurrency ?? 8, batch.items.length));
  await Promise.all(Array.from({ length: lanes }, worker));
  return results;
}

/** An alert certainly not sent to the store, and why. */
function notSent(item: ParsedItem, why: string): AlertResult {
  return { index: item.index, at: item.at, status: 'not_recorded', id: null, error: why };
}

async function recordItem(
  deps: AlertRecorderDeps,
  item: ParsedItem,
  opts: RecordOptions,
): Promise<AlertResult & { storeFailed?: boolean }> {
  const base = { index: item.index, at: item.at };
  if (!item.alert) return { ...base, status: 'rejected', id: null, issues: item.issues };
  if (opts.deadline !== undefined && deps.clock.now() > opts.deadline) {
    return notSent(item, 'the request ran out of time before this alert');
  }
  try {
    const recorded = await recordOne(deps, item.alert, opts);
    if (recorded.outcome === 'ignored') return { ...base, status: 'ignored', id: null };
    if (recorded.outcome === 'duplicate')
      return { ...base, status: 'duplicate', id: recorded.incident?.id ?? null };
    if (recorded.outcome === 'folded') await deps.journal.changed(recorded.incident);
    await deps.journal.announce(recorded.events, recorded.incident);
    return { ...base, status: recorded.outcome, id: recorded.incident.id };
  } catch (err) {
    const coded = asCodedError(err);
    // The store says whether the command left this process: if not, it certainly did not run.
    const sent = coded.code !== 'store_unavailable' || coded.details.sent !== false;
    return {
      ...base,
      status: sent ? 'unknown' : 'not_recorded',
      id: null,
      error: coded.message,
      storeFailed: coded.code === 'store_unavailable',
    };
  }
}

async function recordOne(
  deps: AlertRecorderDeps,
  alert: EgressAlert,
  opts: RecordOptions,
): Promise<AlertRecorded> {
  const verdict = evaluate(deps.contracts(), alert);
  const folding = foldingOf(alert, verdict, deps.fqdnFingerprint);
  const space = opts.drill ? `drill:${opts.drillRun ?? 'local'}:` : '';
  const fp = `${space}${folding.fingerprint}`;
  const claim = alert.requestId
    ? { key: `request:${space}${alert.origin}:${alert.requestId}`, ttlMs: deps.retryWindowMs }
    : undefined;
  const now = deps.clock.now();
  const template = (
    kind: TimelineEvent['kind'],
    summary: string,
    details: TimelineEvent['details'],
  ): TimelineEvent => ({
    id: 'template',
    at: isoAt(now),
    incidentId: 'template',
    kind,
    actor: SYSTEM_ACTOR,
    summary,
    details,
  });
  if (alert.state === 'resolved') {
    return deps.store.incidents.recordAlert({
      fingerprint: fp,
      ...(claim ? { claim } : {}),
      state: 'resolved',
      resolved: {
        at: alert.lastSeen,
        event: template('alert.resolved', `Sender reports the alert resolved (${alert.origin})`, {
          origin: alert.origin,
          requestId: alert.requestId ?? null,
          resolvedAt: alert.lastSeen,
        }),
      },
    });
  }
  const fold: Extract<AlertRecord, { state: 'firing' }>['fold'] = {
    count: alert.count,
    firstSeen: alert.firstSeen,
    lastSeen: alert.lastSeen,
    event: template(
      'alert.folded',
      folding.domain
        ? `Alert to ${folding.host} folded in ({count} alerts, last seen {lastSeen})`
        : 'Repeat alert folded in ({count} alerts, last seen {lastSeen})',
      {
        requestId: alert.requestId ?? null,
        origin: alert.origin,
        ...(folding.host ? { host: folding.host } : {}),
      },
    ),
    ...(folding.host ? { host: folding.host } : {}),
  };
  const newId = deps.newId ?? (() => newIncidentId(now));
  for (let attempt = 1; ; attempt++) {
    // Built only if the store finds no active incident to fold into (a fresh id each attempt).
    const open = () =>
      opening(deps, alert, verdict, folding, newId(), now, opts.drill ?? false, fp, opts.drillScenario);
    try {
      return await deps.store.incidents.recordAlert({
        fingerprint: fp,
        ...(claim ? { claim } : {}),
        state: 'firing',
        open,
        fold,
      });
    } catch (err) {
      // Another anomaly already has this id (a collision, not the same anomaly): a fresh id.
      if (!(err instanceof CodedError && err.code === 'store_conflict') || attempt >= 5) throw err;
    }
  }
}

/** The incident an alert would open, with its first events and its queued playbook run. */
function opening(
  deps: AlertRecorderDeps,
  alert: EgressAlert,
  verdict: Verdict,
  folding: ReturnType<typeof foldingOf>,
  id: string,
  now: number,
  drill: boolean,
  fp: string,
  drillScenario?: string,
): { incident: Incident; events: TimelineEvent[]; schedule: ScheduledItem[] } {
  const hosts: FoldedHosts | undefined = folding.host
    ? {
        ...(folding.domain ? { domain: folding.domain } : {}),
        count: 1,
        capped: false,
        sample: [folding.host],
      }
    : undefined;
  const loaded = selectPlaybook(deps.playbooks(), {
    origin: alert.origin,
    namespace: alert.source.namespace,
    destinationType: alert.destination.type,
    verdict: verdict.kind,
  });
  const at = isoAt(now);
  const incident: Incident = {
    id,
    version: 0,
    fingerprint: fp,
    status: 'open',
    alert,
    count: alert.count,
    firstSeen: alert.firstSeen,
    lastSeen: alert.lastSeen,
    ...(hosts ? { hosts } : {}),
    verdict,
    playbook: loaded ? { id: loaded.playbook.id, file: loaded.file } : { id: EMPTY_PLAYBOOK_ID, file: '' },
    mode: modeFor(alert.source.namespace, loaded?.playbook.mode ?? 'observe', deps.modes),
    drill,
    ...(drill && drillScenario ? { drillScenario } : {}),
    steps: [],
    createdAt: at,
    updatedAt: at,
  };
  const event = (
    key: string,
    kind: TimelineEvent['kind'],
    summary: string,
    details: TimelineEvent['details'],
  ) => ({
    id: `${id}:${key}`,
    at,
    incidentId: id,
    kind,
    actor: SYSTEM_ACTOR,
    summary,
    details,
  });
  return {
    incident,
    events: [
      event(
        'alert:first',
        'alert.received',
        `Alert from ${alert.origin}: ${describeSource(alert.source)} → ${describeDestination(alert.destination)}`,
        { alert: toJson(alert) },
      ),
      event(
        'opened',
        'incident.opened',
        `Incident opened: ${verdict.message.replace(/\.$/, '')}. Playbook ${incident.playbook.id} in ${incident.mode} mode${loaded ? '' : ' (no playbook matched this alert)'}${drill ? ' (DRILL)' : ''}${folding.domain ? `. Alerts to other hosts of ${folding.domain} the contract does not name fold into it` : ''}`,
        {
          verdict: toJson(verdict),
          playbook: incident.playbook,
          mode: incident.mode,
          drill,
          ...(drill && drillScenario ? { scenario: drillScenario } : {}),
          ...(folding.domain ? { foldedBy: folding.domain } : {}),
        },
      ),
    ],
    schedule: [advanceItem(id, now)],
  };
}

/** The queued playbook run of an incident: due now, taken by whichever replica's worker is free. */
export function advanceItem(incidentId: string, dueAt: number): ScheduledItem {
  return { id: `advance:${incidentId}`, dueAt, data: { kind: 'advance', incidentId } };
}
