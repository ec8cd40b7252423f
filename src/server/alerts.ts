import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { ParsedBatch } from '../domain/alert.js';
import { asCodedError } from '../domain/errors.js';
import {
  type AlertRecorderDeps,
  type AlertResult,
  type AlertStatus,
  recordAlerts,
} from '../incidents/record-alerts.js';
import { type ParseOptions, parseAlertBody } from '../intake/parse.js';
import { alertSpans, inSpan } from '../observability/tracing.js';

/** What the /alerts endpoint needs; the HTTP server owns sockets and body limits, this owns meaning. */
export interface AlertsEndpoint {
  recorder: AlertRecorderDeps;
  /** The shared bearer token senders present; undefined refuses every request (fail closed). */
  token: string | undefined;
  parse: Omit<ParseOptions, 'receivedAt'>;
  log: Logger;
  /** After this long no further alert of a request is sent to the store (the rest: not_recorded, 503). */
  storeTimeoutMs: number;
  /** Source workload from a pod name when the cluster can be asked (Falco names pods, not workloads). */
  resolveWorkload?: (namespace: string, pod: string) => Promise<string | undefined>;
  /** Told when alerts were recorded (the server wakes its worker, which runs the queued playbooks). */
  onRecorded?: (results: AlertResult[]) => void;
  now: () => number;
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

async function resolveWorkloads(
  batch: ParsedBatch,
  ep: AlertsEndpoint,
  deadline: number,
): Promise<ParsedBatch> {
  const resolve = ep.resolveWorkload;
  if (!resolve) return batch;
  const lookup = async (namespace: string, pod: string): Promise<string | undefined> => {
    const left = deadline - ep.now();
    if (left <= 0) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), left);
    });
    return Promise.race([resolve(namespace, pod).catch(() => undefined), late]).finally(() =>
      clearTimeout(timer),
    );
  };
  const items = await Promise.all(
    batch.items.map(async (item) => {
      const a = item.alert;
      if (!a?.source.pod) return item;
      const owner = await lookup(a.source.namespace, a.source.pod);
      return owner ? { ...item, alert: { ...a, source: { ...a.source, service: owner } } } : item;
    }),
  );
  return { ...batch, items, alerts: items.flatMap((i) => (i.alert ? [i.alert] : [])) };
}

const countOf = (results: AlertResult[], status: AlertStatus) =>
  results.filter((r) => r.status === status).length;

/**
 * POST /alerts. 401 without the bearer token; 400 when the body is not alerts or every alert in it is
 * invalid; otherwise each alert is recorded on its own, and the answer says per alert what happened
 * (`alerts[]`, in body order): 202 when every valid alert was recorded (invalid ones are listed as
 * `rejected` with their field errors), 503 when some were not, naming exactly which (`not_recorded`:
 * certainly not; `unknown`: sent to the store without an answer — a retry is safe when the alert has a
 * request id, which makes it a duplicate).
 */
export function handleAlerts(ep: AlertsEndpoint, req: AlertsRequest): Promise<EndpointResponse> {
  return inSpan(
    'alerts.intake',
    { attributes: { 'alerts.source': req.source ?? 'unknown' } },
    async (span) => {
      const res = await handleAlertsRequest(ep, req);
      span.setAttribute('http.response.status_code', res.status);
      return res;
    },
  );
}

interface AlertsRequest {
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
  receivedAt: number;
  source?: string;
}

async function handleAlertsRequest(ep: AlertsEndpoint, req: AlertsRequest): Promise<EndpointResponse> {
  const log = ep.log.child({ source: req.source ?? 'unknown' });
  if (!tokenMatches(ep.token, req.authorization)) {
    log.warn(
      { status: 401, reason: req.authorization ? 'wrong bearer token' : 'no bearer token' },
      'alerts refused',
    );
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
    if (!coded.userSafe) log.error({ err }, 'alert parser failed unexpectedly');
    log.warn(
      {
        status: 400,
        code: coded.code,
        reason: coded.message,
        issues: coded.issues.slice(0, 5).map((i) => i.path),
      },
      'alerts refused',
    );
    return { status: 400, body: { error: coded.code, message: coded.message, issues: coded.issues } };
  }
  const deadline = req.receivedAt + ep.storeTimeoutMs;
  const resolved = await resolveWorkloads(batch, ep, deadline);
  const spans = alertSpans(resolved.items);
  const results = await recordAlerts(ep.recorder, resolved, { deadline });
  spans.end(results);
  const failed = results.filter((r) => r.status === 'not_recorded' || r.status === 'unknown');
  const rejected = countOf(results, 'rejected');
  if (rejected > 0) {
    log.warn(
      {
        status: failed.length > 0 ? 503 : 202,
        rejected,
        issues: results.flatMap((r) => r.issues ?? []).slice(0, 5),
      },
      'alerts: some items rejected',
    );
  }
  ep.onRecorded?.(results);
  const body = {
    format: batch.format,
    /** One entry per valid alert, as before: where it went. */
    incidents: results.filter((r) => r.status !== 'rejected').map((r) => ({ id: r.id, status: r.status })),
    alerts: results.map((r) => ({
      index: r.index,
      ...(r.at ? { at: r.at } : {}),
      status: r.status,
      id: r.id,
      ...(r.issues ? { issues: r.issues } : {}),
      ...(r.error ? { error: r.error } : {}),
    })),
    summary: Object.fromEntries(
      (
        [
          'opened',
          'folded',
          'duplicate',
          'resolved',
          'ignored',
          'rejected',
          'not_recorded',
          'unknown',
        ] as const
      )
        .map((s) => [s, countOf(results, s)] as const)
        .filter(([, n]) => n > 0),
    ),
  };
  if (failed.length > 0) {
    log.error(
      {
        status: 503,
        notRecorded: countOf(results, 'not_recorded'),
        unknown: countOf(results, 'unknown'),
        reason: failed[0]?.error,
      },
      'alerts: the store did not record every alert',
    );
    return {
      status: 503,
      body: {
        error: 'store_unavailable',
        message: `${failed.length} of ${results.length - rejected} alert(s) not recorded; see alerts[] and retry those`,
        ...body,
      },
      headers: { 'Retry-After': '5' },
    };
  }
  return { status: 202, body };
}
