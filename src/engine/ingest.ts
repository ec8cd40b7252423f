import { randomBytes } from 'node:crypto';
import type { Json } from '../actions/define.js';
import { evaluate } from '../contracts/evaluate.js';
import { describeDestination, describeSource, type EgressAlert, type ParsedBatch } from '../domain/alert.js';
import { CodedError } from '../domain/errors.js';
import { matchesAny } from '../domain/glob.js';
import type { Incident, Mode } from '../domain/incident.js';
import { fingerprint } from '../intake/fingerprint.js';
import { isoAt } from '../observability/clock.js';
import { selectPlaybook } from '../playbooks/load.js';
import { EMPTY_PLAYBOOK_ID, type Engine } from './engine.js';

export type IngestStatus = 'opened' | 'folded' | 'duplicate' | 'resolved' | 'ignored';

export interface IngestResult {
  /** The incident the alert went to; null for a resolved alert with no open incident. */
  id: string | null;
  status: IngestStatus;
  fingerprint: string;
}

export interface IngestOptions {
  /** Per-namespace mode overrides from the config (`modes: { prod: soft }`); keys may be globs. */
  modes: Record<string, Mode>;
  /** How long a sender's request id is remembered for retry detection. */
  retryWindowMs: number;
  drill?: boolean;
  newId?: () => string;
}

/**
 * EGR-251125-7KQ2MX: date for people, six base32 characters (about 10^9 a day) for uniqueness; the
 * rare collision is retried with a fresh id when the incident is created.
 */
export function newIncidentId(now: number): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const date = isoAt(now).slice(2, 10).replaceAll('-', '');
  const suffix = [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
  return `EGR-${date}-${suffix}`;
}

export function modeFor(namespace: string, playbookMode: Mode, overrides: Record<string, Mode>): Mode {
  if (overrides[namespace]) return overrides[namespace];
  const glob = Object.keys(overrides).find((k) => k.includes('*') && matchesAny([k], namespace));
  return glob ? overrides[glob]! : playbookMode;
}

/**
 * Record a parsed batch: each firing alert opens an incident or folds into the open one with the
 * same fingerprint; resolved alerts are recorded on their incident; a sender's retry (same request id)
 * is not counted twice. Alerts are taken in order; a store failure stops the batch with an error the
 * HTTP layer turns into 503 (so the sender retries), and the failed alert's retry claim is released.
 */
export async function ingest(
  engine: Engine,
  batch: ParsedBatch,
  opts: IngestOptions,
): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  for (const alert of batch.alerts) results.push(await ingestOne(engine, alert, opts));
  return results;
}

async function ingestOne(engine: Engine, alert: EgressAlert, opts: IngestOptions): Promise<IngestResult> {
  const { store, clock } = engine.deps;
  const fp = fingerprint(alert);
  const retryKey = alert.requestId ? `request:${alert.origin}:${alert.requestId}` : undefined;
  if (retryKey && !(await store.dedupe.claim(retryKey, opts.retryWindowMs))) {
    const open = await store.incidents.byFingerprint(fp);
    return { id: open?.id ?? null, status: 'duplicate', fingerprint: fp };
  }
  try {
    if (alert.state === 'resolved') {
      const open = await store.incidents.byFingerprint(fp);
      if (!open) return { id: null, status: 'ignored', fingerprint: fp };
      await engine.record(open, 'alert.resolved', `Sender reports the alert resolved (${alert.origin})`, {
        alert: alert as unknown as Json,
      });
      return { id: open.id, status: 'resolved', fingerprint: fp };
    }

    const verdict = evaluate(engine.deps.contracts(), alert);
    const loaded = selectPlaybook(engine.deps.playbooks(), {
      origin: alert.origin,
      namespace: alert.source.namespace,
      destinationType: alert.destination.type,
      verdict: verdict.kind,
    });
    const now = clock.now();
    const candidate: Incident = {
      id: (opts.newId ?? (() => newIncidentId(now)))(),
      version: 0,
      fingerprint: fp,
      status: 'open',
      alert,
      count: alert.count,
      firstSeen: alert.firstSeen,
      lastSeen: alert.lastSeen,
      verdict,
      playbook: loaded ? { id: loaded.playbook.id, file: loaded.file } : { id: EMPTY_PLAYBOOK_ID, file: '' },
      mode: modeFor(alert.source.namespace, loaded?.playbook.mode ?? 'observe', opts.modes),
      drill: opts.drill ?? false,
      steps: [],
      createdAt: isoAt(now),
      updatedAt: isoAt(now),
    };
    const { created, incident } = await createWithFreshId(store, candidate, () =>
      (opts.newId ?? (() => newIncidentId(now)))(),
    );
    if (created) {
      await engine.record(
        incident,
        'alert.received',
        `Alert from ${alert.origin}: ${describeSource(alert.source)} → ${describeDestination(alert.destination)}`,
        { alert: alert as unknown as Json },
        { id: `${incident.id}:alert:first` },
      );
      await engine.record(
        incident,
        'incident.opened',
        `Incident opened: ${verdict.message.replace(/\.$/, '')}. Playbook ${incident.playbook.id} in ${incident.mode} mode${loaded ? '' : ' (no playbook matched this alert)'}`,
        { verdict: verdict as unknown as Json, playbook: incident.playbook, mode: incident.mode },
        { id: `${incident.id}:opened` },
      );
      return { id: incident.id, status: 'opened', fingerprint: fp };
    }
    const folded = await engine.mutate(
      incident.id,
      (d) => {
        d.count += alert.count;
        if (alert.lastSeen > d.lastSeen) d.lastSeen = alert.lastSeen;
        if (alert.firstSeen < d.firstSeen) d.firstSeen = alert.firstSeen;
      },
      incident,
    );
    await engine.record(
      folded,
      'alert.folded',
      `Repeat alert folded in (${folded.count} alerts, last seen ${folded.lastSeen})`,
      {
        count: folded.count,
        requestId: alert.requestId ?? null,
        origin: alert.origin,
      },
    );
    return { id: folded.id, status: 'folded', fingerprint: fp };
  } catch (err) {
    if (retryKey) await store.dedupe.release(retryKey).catch(() => undefined);
    if (err instanceof CodedError) throw err;
    throw new CodedError('internal', `could not record alert: ${String(err)}`, {
      userSafe: false,
      cause: err,
    });
  }
}

/** A new incident whose id is already taken (a collision, not the same anomaly) gets a fresh id. */
async function createWithFreshId(
  store: Engine['deps']['store'],
  candidate: Incident,
  newId: () => string,
): Promise<{ created: boolean; incident: Incident }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.incidents.createOrGetByFingerprint(candidate);
    } catch (err) {
      if (!(err instanceof CodedError && err.code === 'store_conflict') || attempt >= 5) throw err;
      candidate = { ...candidate, id: newId() };
    }
  }
}
