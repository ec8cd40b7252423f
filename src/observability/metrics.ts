import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// The bot's Prometheus metrics, declared once in a table (name, help, labels): /metrics always lists
// every one with its HELP and TYPE, from the first scrape, and `promtool check metrics` passes (a test
// runs it). prom-client does the text format, histograms and the process metrics; each Metrics has
// its own registry, so two apps in one process (tests, a drill next to a server) never share series.

const counters = {
  alerts_total: {
    help: 'Alerts received, by source format and what became of each (opened, folded, duplicate, resolved, ignored, rejected, not_recorded, unknown).',
    labels: ['source', 'outcome'],
  },
  alert_requests_refused_total: {
    help: 'Alert requests refused whole, by reason (unauthorized, too_large, an intake error code).',
    labels: ['reason'],
  },
  actions_total: {
    help: 'Playbook actions that reached an outcome, by action id and outcome (applied, failed, reverted); drills included.',
    labels: ['action', 'outcome', 'drill'],
  },
  incidents_opened_total: { help: 'Incidents opened, real and drill.', labels: ['drill'] },
  drills_total: { help: 'Drill incidents opened (CLI or Slack).', labels: [] },
  resumes_total: {
    help: 'Playbook runs resumed by a worker after the process running them stopped.',
    labels: [],
  },
  grants_ended_total: {
    help: 'Break-glass grants ended, by how (expired, revoked, denied, request_expired, failed).',
    labels: ['how'],
  },
  grant_removal_failures_total: {
    help: 'Failed attempts to remove the objects of an ended break-glass grant (each is retried).',
    labels: [],
  },
  slack_api_errors_total: {
    help: 'Slack Web API calls that failed, by method and error (the API error string, http_<status>, or network).',
    labels: ['method', 'error'],
  },
  slack_requests_refused_total: {
    help: 'Slack requests refused before Bolt (bad signature, replay, clock skew, size), by reason.',
    labels: ['reason'],
  },
  kubernetes_api_errors_total: {
    help: 'Kubernetes API calls that failed after their retries, by verb and error code.',
    labels: ['verb', 'code'],
  },
  http_refused_total: {
    help: 'HTTP requests refused by the server (unknown path, wrong method, timeouts), by status and reason.',
    labels: ['status', 'reason'],
  },
} as const;

const histograms = {
  slack_ack_seconds: {
    help: "Time from a Slack request's arrival to the bot's answer (Slack's deadline is 3 s).",
    labels: [],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
  },
} as const;

const gauges = {
  incidents: { help: 'Active incidents in the store, by status (read at scrape time).', labels: ['status'] },
  grants_live: {
    help: 'Break-glass grants that are pending, approved or active in the store, by status (read at scrape time).',
    labels: ['status'],
  },
} as const;

export type CounterName = keyof typeof counters;
export type HistogramName = keyof typeof histograms;
export type GaugeName = keyof typeof gauges;
type Labels = Record<string, string>;

export interface Metrics {
  inc(name: CounterName, labels?: Labels, by?: number): void;
  observe(name: HistogramName, seconds: number, labels?: Labels): void;
  /** Read a gauge's values at each scrape (e.g. from the store); a failed read leaves the gauge empty. */
  gaugeFrom(name: GaugeName, read: () => Promise<Record<string, number>>): void;
  render(): Promise<string>;
  readonly contentType: string;
}

export const METRIC_PREFIX = 'egress_responder_';

export function createMetrics(opts: { process?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.process ?? true) {
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
    // Gauges that prom-client names `…_total`, which promtool rightly reports (that suffix is for
    // counters); the handle and request counts are not worth a lint failure.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      registry.removeSingleMetric(METRIC_PREFIX + name);
  }
  const counterOf = new Map<string, Counter<string>>();
  for (const [name, d] of Object.entries(counters)) {
    const c = new Counter({
      name: METRIC_PREFIX + name,
      help: d.help,
      labelNames: [...d.labels],
      registers: [registry],
    });
    // A counter without labels shows 0 from the start; labelled ones appear with their first event.
    if (d.labels.length === 0) c.inc(0);
    counterOf.set(name, c);
  }
  const histogramOf = new Map<string, Histogram<string>>();
  for (const [name, d] of Object.entries(histograms)) {
    histogramOf.set(
      name,
      new Histogram({
        name: METRIC_PREFIX + name,
        help: d.help,
        labelNames: [...d.labels],
        buckets: [...d.buckets],
        registers: [registry],
      }),
    );
  }
  const readers = new Map<string, () => Promise<Record<string, number>>>();
  for (const [name, d] of Object.entries(gauges)) {
    const label = d.labels[0];
    new Gauge({
      name: METRIC_PREFIX + name,
      help: d.help,
      labelNames: [...d.labels],
      registers: [registry],
      async collect() {
        this.reset();
        const read = readers.get(name);
        if (!read) return;
        try {
          for (const [value, n] of Object.entries(await read())) this.set({ [label]: value }, n);
        } catch {
          // The store is unreachable: /readyz says so; the gauge is empty rather than wrong.
        }
      },
    });
  }
  // Label values come from alerts and Slack: bounded here so a sender cannot grow the series at will.
  const clean = (labels: Labels) =>
    Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v).slice(0, 80)]));
  return {
    inc(name, labels = {}, by = 1) {
      counterOf.get(name)?.inc(clean(labels), by);
    },
    observe(name, seconds, labels = {}) {
      histogramOf.get(name)?.observe(clean(labels), seconds);
    },
    gaugeFrom(name, read) {
      readers.set(name, read);
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
