import type { Rng } from './rng.js';

// What the sender does in one run: a seeded plan of POST /alerts requests (single alerts and batches;
// several anomalies; repeats with new request ids; retries with the same request id), sent over a few
// concurrent lanes, and the ledger of what the bot answered.

/** The statuses of `alerts[]` that mean the alert is recorded (src/incidents/record-alerts.ts). */
export const RECORDED = ['opened', 'folded', 'duplicate', 'resolved', 'ignored'] as const;

export interface Anomaly {
  index: number;
  namespace: string;
  destination: string;
  pods: string[];
}

export interface PlannedAlert {
  anomaly: number;
  requestId: string;
  body: Record<string, unknown>;
  /** Sent before with this request id: a sender's retry, never counted twice. */
  retry: boolean;
}

export interface PlannedRequest {
  n: number;
  alerts: PlannedAlert[];
  /** A JSON array (even of one) rather than a single object. */
  batch: boolean;
  /** Wait this long before sending it. */
  gapMs: number;
}

export interface Plan {
  anomalies: Anomaly[];
  requests: PlannedRequest[];
  lanes: number;
}

/** The namespaces anomalies live in; each gets its own pods and allow-policy, so incidents never share them. */
export const NAMESPACES = ['prod', 'prod-eu', 'prod-us'] as const;
const DESTINATIONS = ['exfil.example.net', 'c2.example.org', 'paste.example.com'];

export function podsOf(namespace: string): string[] {
  return [`payments-api-7d9f8b6c5d-${namespace}-a`, `payments-api-7d9f8b6c5d-${namespace}-b`];
}

function alertBody(a: Anomaly, requestId: string, seq: number): Record<string, unknown> {
  const at = new Date(Date.UTC(2026, 10, 25, 14, 0, 0) + seq * 1000).toISOString();
  return {
    ts: at,
    event: 'egress.connect',
    src_service: 'payments-api',
    src_namespace: a.namespace,
    src_identity: `spiffe://cluster.local/ns/${a.namespace}/sa/payments-api`,
    dst_type: 'fqdn',
    dst_name: a.destination,
    dst_port: 443,
    protocol: 'HTTPS',
    decision: 'allow',
    policy_id: 'egress-default-allow',
    request_id: requestId,
  };
}

/** A seeded plan: 1–3 anomalies, 6–16 requests, a third of them batches, a fifth of the alerts retries. */
export function makePlan(r: Rng): Plan {
  const count = r.int(1, NAMESPACES.length);
  const anomalies: Anomaly[] = NAMESPACES.slice(0, count).map((namespace, index) => ({
    index,
    namespace,
    destination: r.pick(DESTINATIONS),
    pods: podsOf(namespace),
  }));
  const sent: PlannedAlert[] = [];
  let seq = 0;
  const fresh = (anomaly: number): PlannedAlert => {
    seq += 1;
    const requestId = `req-${r.seed}-${seq}`;
    return { anomaly, requestId, body: alertBody(anomalies[anomaly]!, requestId, seq), retry: false };
  };
  const requests: PlannedRequest[] = [];
  const total = r.int(6, 16);
  for (let n = 0; n < total; n++) {
    const batch = r.chance(0.35);
    const size = batch ? r.int(1, 5) : 1;
    const alerts: PlannedAlert[] = [];
    for (let i = 0; i < size; i++) {
      // Early on every anomaly gets its first alert; later a fifth of the alerts are retries.
      const unseen = anomalies.find((a) => !sent.some((s) => s.anomaly === a.index));
      const alert =
        unseen && r.chance(0.6)
          ? fresh(unseen.index)
          : sent.length > 0 && r.chance(0.2)
            ? { ...r.pick(sent), retry: true }
            : fresh(r.int(0, anomalies.length - 1));
      alerts.push(alert);
      if (!alert.retry) sent.push(alert);
    }
    requests.push({ n, alerts, batch, gapMs: r.chance(0.3) ? 0 : r.int(1, 25) });
  }
  // Every anomaly gets at least one alert.
  for (const a of anomalies) {
    if (!sent.some((s) => s.anomaly === a.index)) {
      const alert = fresh(a.index);
      sent.push(alert);
      requests.push({ n: requests.length, alerts: [alert], batch: false, gapMs: r.int(0, 10) });
    }
  }
  return { anomalies, requests, lanes: r.int(1, 3) };
}

/** What the bot said about one alert of a request. */
export interface Answered {
  requestId: string;
  anomaly: number;
  status: string;
  incident: string | null;
}

export interface LedgerEntry {
  request: PlannedRequest;
  /** Sent after the restart (a retry of one never answered, or of alerts a 503 did not record). */
  resend: boolean;
  /** HTTP status; undefined when no answer came (the bot died with it in flight). */
  http?: number;
  error?: string;
  alerts: Answered[];
}

export class Ledger {
  readonly entries: LedgerEntry[] = [];

  /** Alerts the bot acknowledged as recorded. */
  recorded(): Answered[] {
    return this.entries.flatMap((e) =>
      e.alerts.filter((a) => (RECORDED as readonly string[]).includes(a.status)),
    );
  }

  /** Anomalies with at least one alert sent (a kill early in intake may leave some never sent). */
  inPlay(): Set<number> {
    return new Set(this.entries.flatMap((e) => e.request.alerts.map((a) => a.anomaly)));
  }

  /** Alerts with no word that they were recorded: their request got no answer, or a 503 said so. */
  unacknowledged(): PlannedAlert[] {
    const done = new Set(this.recorded().map((a) => a.requestId));
    const out = new Map<string, PlannedAlert>();
    for (const e of this.entries)
      for (const a of e.request.alerts) if (!done.has(a.requestId)) out.set(a.requestId, a);
    return [...out.values()];
  }
}

export interface Sender {
  base: string;
  token: string;
  ledger: Ledger;
  /** Stop taking new requests (the bot is being killed). */
  stopped: () => boolean;
  /** Told when request `n` is on its way. */
  onDispatch?: (n: number) => void;
}

export async function post(s: Sender, req: PlannedRequest, resend: boolean): Promise<LedgerEntry> {
  const entry: LedgerEntry = { request: req, resend, alerts: [] };
  s.ledger.entries.push(entry);
  const payload = req.batch ? req.alerts.map((a) => a.body) : req.alerts[0]!.body;
  try {
    const res = await fetch(`${s.base}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    entry.http = res.status;
    const body = JSON.parse(text) as { alerts?: { index: number; status: string; id: string | null }[] };
    for (const a of body.alerts ?? []) {
      const planned = req.alerts[a.index];
      if (!planned) throw new Error(`answer names alert ${a.index} of a ${req.alerts.length}-alert request`);
      entry.alerts.push({
        requestId: planned.requestId,
        anomaly: planned.anomaly,
        status: a.status,
        incident: a.id,
      });
    }
  } catch (err) {
    entry.error = (err as Error).message;
    // An answer cut off half-way is no answer: nothing in it counts.
    if (entry.http !== undefined && entry.alerts.length === 0) entry.http = undefined;
  }
  return entry;
}

/** Send the plan over `lanes` concurrent lanes, in order, until done or stopped. */
export async function sendPlan(s: Sender, plan: Plan): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (;;) {
      if (s.stopped()) return;
      const req = plan.requests[next++];
      if (!req) return;
      if (req.gapMs > 0) await new Promise((r) => setTimeout(r, req.gapMs));
      if (s.stopped()) return;
      s.onDispatch?.(req.n);
      await post(s, req, false);
    }
  };
  await Promise.all(Array.from({ length: plan.lanes }, lane));
}

/**
 * A fixed plan for a targeted case: `requests` lists, per request, the anomaly of each alert (all
 * fresh alerts, sent as a batch when there are several), over one lane with no gaps.
 */
export function fixedPlan(tag: string, anomalies: number, requests: number[][]): Plan {
  const list: Anomaly[] = NAMESPACES.slice(0, anomalies).map((namespace, index) => ({
    index,
    namespace,
    destination: DESTINATIONS[index % DESTINATIONS.length]!,
    pods: podsOf(namespace),
  }));
  let seq = 0;
  return {
    anomalies: list,
    lanes: 1,
    requests: requests.map((alerts, n) => ({
      n,
      batch: alerts.length > 1,
      gapMs: 0,
      alerts: alerts.map((anomaly) => {
        seq += 1;
        const requestId = `req-${tag}-${seq}`;
        return { anomaly, requestId, body: alertBody(list[anomaly]!, requestId, seq), retry: false };
      }),
    })),
  };
}
