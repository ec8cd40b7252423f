import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { ParsedBatch } from '../domain/alert.js';
import { asCodedError, CodedError } from '../domain/errors.js';
import type { Engine } from '../engine/engine.js';
import { type IngestOptions, type IngestResult, ingest } from '../engine/ingest.js';
import { type ParseOptions, parseAlertBody } from '../intake/parse.js';

/** What the /alerts endpoint needs; the HTTP server owns sockets and body limits, this owns meaning. */
export interface AlertsEndpoint {
  engine: Engine;
  /** The shared bearer token senders present; undefined refuses every request (fail closed). */
  token: string | undefined;
  parse: Omit<ParseOptions, 'receivedAt'>;
  ingest: IngestOptions;
  log: Logger;
  /** Answer 503 when recording takes longer than this (the store is down or reconnecting). */
  storeTimeoutMs: number;
  /** Source workload from a pod name when the cluster can be asked (Falco names pods, not workloads). */
  resolveWorkload?: (namespace: string, pod: string) => Promise<string | undefined>;
  /** Called with the results once recorded (the server starts the playbook for opened incidents). */
  onRecorded?: (results: IngestResult[]) => void;
}

export interface EndpointResponse {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

function tokenMatches(expected: string | undefined, header: string | undefined): boolean {
  if (!expected || !header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new CodedError('store_unavailable', `the store did not record the alerts within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function resolveWorkloads(batch: ParsedBatch, ep: AlertsEndpoint): Promise<ParsedBatch> {
  const resolve = ep.resolveWorkload;
  if (!resolve) return batch;
  const alerts = await Promise.all(
    batch.alerts.map(async (a) => {
      if (!a.source.pod) return a;
      const owner = await resolve(a.source.namespace, a.source.pod).catch(() => undefined);
      return owner ? { ...a, source: { ...a.source, service: owner } } : a;
    }),
  );
  return { ...batch, alerts };
}

/**
 * POST /alerts: 401 without the bearer token, 400 with every bad field named, 503 (so the sender
 * retries) when the store cannot record in time, 202 with one entry per alert otherwise.
 */
export async function handleAlerts(
  ep: AlertsEndpoint,
  req: {
    authorization: string | undefined;
    contentType: string | undefined;
    body: string;
    receivedAt: number;
  },
): Promise<EndpointResponse> {
  if (!tokenMatches(ep.token, req.authorization)) {
    return {
      status: 401,
      body: { error: 'unauthorized', message: 'send Authorization: Bearer <ALERT_WEBHOOK_TOKEN>' },
      headers: { 'WWW-Authenticate': 'Bearer' },
    };
  }
  let batch: ParsedBatch;
  try {
    batch = parseAlertBody(req.body, req.contentType, { ...ep.parse, receivedAt: req.receivedAt });
  } catch (err) {
    const coded = asCodedError(err);
    if (!coded.userSafe) ep.log.error({ err }, 'alert parser failed unexpectedly');
    return { status: 400, body: { error: coded.code, message: coded.message, issues: coded.issues } };
  }
  try {
    const resolved = await withTimeout(resolveWorkloads(batch, ep), ep.storeTimeoutMs);
    const results = await withTimeout(ingest(ep.engine, resolved, ep.ingest), ep.storeTimeoutMs);
    ep.onRecorded?.(results);
    return {
      status: 202,
      body: { format: batch.format, incidents: results.map((r) => ({ id: r.id, status: r.status })) },
    };
  } catch (err) {
    const coded = asCodedError(err);
    ep.log.error({ err, code: coded.code }, 'could not record alerts');
    if (coded.code === 'store_unavailable' || coded.code === 'lock_busy') {
      return {
        status: 503,
        body: { error: 'store_unavailable', message: 'alerts not recorded; retry later' },
        headers: { 'Retry-After': '5' },
      };
    }
    return { status: 500, body: { error: 'internal', message: 'alerts not recorded; see the server log' } };
  }
}
