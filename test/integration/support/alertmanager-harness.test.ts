import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunningAlertmanager, startAlertmanager } from '../../support/alertmanager.js';

// Proves test/support/alertmanager.ts against a real Alertmanager (Debian's prometheus-alertmanager)
// and pins down the sender behaviour the bot's POST /alerts relies on, with a tiny node:http receiver
// standing in for the bot. No binary → startAlertmanager throws and these tests FAIL (never skip):
// bash .ci/run installs it.
//
// Timings worth knowing (Alertmanager 0.25): the notify pipeline retries a failed webhook with
// exponential backoff (cenkalti/backoff defaults: first retry after 0.5 s ± 50%, then ×1.5 each), but
// only when the receiver answered 5xx (or the request failed). A 4xx is final for that flush. Either
// way a failed notification is not recorded as sent, so the group goes out again at the next
// group_interval flush.

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

interface WebhookPayload {
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  status: string;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

interface Delivery {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: WebhookPayload;
  answered: number;
}

interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Resolves once `n` deliveries have arrived; rejects after `timeoutMs` with what did arrive. */
  waitFor(n: number, timeoutMs?: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

/** A webhook receiver answering `status(n)` to its n-th request (0-based). */
async function startReceiver(status: (n: number) => number = () => 200): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answered = status(deliveries.length);
      deliveries.push({
        at: Date.now(),
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload,
        answered,
      });
      res.writeHead(answered, { 'Content-Type': 'text/plain' }).end(answered < 300 ? 'ok' : 'nope');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    deliveries,
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (deliveries.length < n) {
        if (Date.now() > deadline) {
          throw new Error(
            `expected ${n} webhook deliveries within ${timeoutMs} ms, got ${deliveries.length}:\n` +
              JSON.stringify(deliveries, null, 2),
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return deliveries.slice(0, n);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let am: RunningAlertmanager | undefined;
let receiver: Receiver | undefined;

afterEach(async () => {
  const logs = am?.logs() ?? '';
  await am?.stop();
  await receiver?.close();
  am = undefined;
  receiver = undefined;
  // ALERTMANAGER_TEST_LOGS=1: print what Alertmanager said about each notification.
  if (process.env.ALERTMANAGER_TEST_LOGS) console.log(logs);
});

const minuteAgo = (): string => new Date(Date.now() - 60_000).toISOString();

describe('Alertmanager harness (real prometheus-alertmanager as the sender)', () => {
  it('delivers a pushed group as one webhook POST: version 4, bearer token, labels/annotations/startsAt/fingerprint', async () => {
    receiver = await startReceiver();
    am = await startAlertmanager({
      webhookUrl: receiver.url,
      bearerToken: 'am-test-token',
      groupBy: ['alertname'],
      groupInterval: '1m', // nothing else can arrive during the test
    });
    const startsAt = minuteAgo();
    await am.pushAlerts([
      {
        labels: { alertname: 'EgressSpike', namespace: 'payments', pod: 'api-1' },
        annotations: { summary: 'egress to 203.0.113.9 up 40x' },
        startsAt,
      },
      {
        labels: { alertname: 'EgressSpike', namespace: 'payments', pod: 'api-2' },
        annotations: { summary: 'egress to 203.0.113.9 up 35x' },
        startsAt,
      },
    ]);

    const [d] = await receiver.waitFor(1);
    expect(d?.method).toBe('POST');
    expect(d?.url).toBe('/alerts');
    expect(d?.headers.authorization).toBe('Bearer am-test-token');
    expect(d?.headers['content-type']).toMatch(/^application\/json/);
    expect(d?.headers['user-agent']).toMatch(/^Alertmanager\//);
    const body = d!.body;
    expect(body).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'egress-responder',
      truncatedAlerts: 0,
      groupLabels: { alertname: 'EgressSpike' },
      commonLabels: { alertname: 'EgressSpike', namespace: 'payments' },
    });
    expect(body.groupKey).toContain('alertname="EgressSpike"');
    expect(body.alerts).toHaveLength(2);
    const byPod = new Map(body.alerts.map((a) => [a.labels.pod, a]));
    for (const [pod, summary] of [
      ['api-1', 'egress to 203.0.113.9 up 40x'],
      ['api-2', 'egress to 203.0.113.9 up 35x'],
    ] as const) {
      const alert = byPod.get(pod);
      expect(alert).toMatchObject({
        status: 'firing',
        labels: { alertname: 'EgressSpike', namespace: 'payments', pod },
        annotations: { summary },
        endsAt: '0001-01-01T00:00:00Z', // firing alerts carry Go's zero time, not the API's endsAt
      });
      // Same instant; Go prints RFC 3339 with its own precision.
      expect(Date.parse(alert!.startsAt)).toBe(Date.parse(startsAt));
      expect(alert!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(byPod.get('api-1')!.fingerprint).not.toBe(byPod.get('api-2')!.fingerprint);
  });

  it('retries the same notification when the receiver answers 5xx', async () => {
    receiver = await startReceiver((n) => (n < 2 ? 503 : 200));
    // group_interval 1m: every repeat below is the retry stage, not a later flush.
    am = await startAlertmanager({ webhookUrl: receiver.url, groupInterval: '1m' });
    await am.pushAlerts([{ labels: { alertname: 'EgressSpike', pod: 'api-1' }, startsAt: minuteAgo() }]);

    const ds = await receiver.waitFor(3);
    expect(ds.map((d) => d.answered)).toEqual([503, 503, 200]);
    const fingerprints = ds.map((d) => d.body.alerts.map((a) => a.fingerprint));
    expect(fingerprints[1]).toEqual(fingerprints[0]);
    expect(fingerprints[2]).toEqual(fingerprints[0]);
    expect(new Set(ds.map((d) => d.body.groupKey)).size).toBe(1);
    // Backoff 0.5 s ± 50% then ×1.5: both retries well inside 5 s even on a loaded machine.
    const gaps = ds.slice(1).map((d, i) => d.at - ds[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(150);
    expect(ds[2]!.at - ds[0]!.at).toBeLessThan(5000);
    // After the 200 it stops.
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.deliveries).toHaveLength(3);
  });

  it('does not retry when the receiver answers 4xx (2.5 s watched, past the first two backoff slots)', async () => {
    receiver = await startReceiver(() => 400);
    am = await startAlertmanager({ webhookUrl: receiver.url, groupInterval: '1m' });
    await am.pushAlerts([{ labels: { alertname: 'EgressSpike', pod: 'api-1' }, startsAt: minuteAgo() }]);

    await receiver.waitFor(1);
    // A 5xx retry would come 0.25–0.75 s later and the next by ~1.9 s; 2.5 s of silence is enough.
    await new Promise((r) => setTimeout(r, 2500));
    expect(receiver.deliveries).toHaveLength(1);
    expect(am.logs()).toMatch(/unexpected status code 400/);
  });

  it('after a 4xx the group is not marked notified: the next group_interval flush sends it again', async () => {
    receiver = await startReceiver((n) => (n === 0 ? 400 : 200));
    am = await startAlertmanager({ webhookUrl: receiver.url, groupInterval: '1s' });
    await am.pushAlerts([{ labels: { alertname: 'EgressSpike', pod: 'api-1' }, startsAt: minuteAgo() }]);

    const [first, second] = await receiver.waitFor(2);
    expect(second!.body.alerts.map((a) => a.fingerprint)).toEqual(
      first!.body.alerts.map((a) => a.fingerprint),
    );
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(800); // ~group_interval, not a backoff retry
  });

  it('with send_resolved, an endsAt in the past delivers a resolved notification', async () => {
    receiver = await startReceiver();
    am = await startAlertmanager({ webhookUrl: receiver.url, groupInterval: '1s', sendResolved: true });
    const labels = { alertname: 'EgressSpike', namespace: 'payments', pod: 'api-1' };
    const startsAt = minuteAgo();
    await am.pushAlerts([{ labels, annotations: { summary: 'spike' }, startsAt }]);
    const [firing] = await receiver.waitFor(1);
    expect(firing!.body.status).toBe('firing');

    const endsAt = new Date(Date.now() - 1000).toISOString();
    await am.pushAlerts([{ labels, annotations: { summary: 'spike' }, startsAt, endsAt }]);
    const [, resolved] = await receiver.waitFor(2);
    expect(resolved!.body).toMatchObject({ version: '4', status: 'resolved' });
    expect(resolved!.body.alerts).toHaveLength(1);
    const alert = resolved!.body.alerts[0]!;
    expect(alert).toMatchObject({ status: 'resolved', labels, annotations: { summary: 'spike' } });
    expect(Date.parse(alert.endsAt)).toBe(Date.parse(endsAt));
    expect(Date.parse(alert.startsAt)).toBe(Date.parse(startsAt));
    expect(alert.fingerprint).toBe(firing!.body.alerts[0]!.fingerprint);
  });
});
