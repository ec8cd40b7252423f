import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jest } from '@jest/globals';
import { createRedisStore } from '../../../src/store/redis.js';
import type { Store } from '../../../src/store/store.js';
import {
  type PostableAlert,
  type RunningAlertmanager,
  startAlertmanager,
} from '../../support/alertmanager.js';
import { type PrivateRedis, startRedisServer, uniquePrefix } from '../../support/redis.js';
import { type AlertsBody, type Served, serve, TOKEN } from './intake-harness.js';

// A real Prometheus Alertmanager (0.25, test/support/alertmanager.ts) sends to our POST /alerts with
// the bearer token, against a real Redis (a private redis-server for this file). Between the two sits a
// relay that forwards every webhook POST byte for byte and notes what we answered, so each test can
// see every notification Alertmanager sent and our answer to it.
//
// What the harness test (test/integration/support/alertmanager-harness.test.ts) pinned about the
// sender: 5xx is retried with backoff within a flush; 4xx is not retried but, not being marked
// notified, the group goes out again at the next group_interval flush; 2xx marks the group notified,
// so the same firing alerts go out again only after repeat_interval.

jest.setTimeout(20_000);

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
}

interface Delivery {
  at: number;
  authorization: string | undefined;
  sent: { status: string; alerts: WebhookAlert[] };
  answered: number;
  answer: AlertsBody;
}

interface Relay {
  url: string;
  deliveries: Delivery[];
  waitFor(n: number, timeoutMs?: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

async function startRelay(target: string): Promise<Relay> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
      fetch(`${target}${req.url ?? '/alerts'}`, { method: 'POST', headers, body })
        .then(async (r) => {
          const text = await r.text();
          deliveries.push({
            at: Date.now(),
            authorization: req.headers.authorization,
            sent: JSON.parse(body.toString('utf8')) as Delivery['sent'],
            answered: r.status,
            answer: JSON.parse(text) as AlertsBody,
          });
          res.writeHead(r.status, { 'Content-Type': 'application/json' }).end(text);
        })
        .catch(() => res.writeHead(502).end());
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
            `expected ${n} notifications within ${timeoutMs} ms, got ${deliveries.length}:\n${JSON.stringify(deliveries, null, 2)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return deliveries.slice(0, n);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let redis: PrivateRedis;
let store: Store | undefined;
let ours: Served | undefined;
let relay: Relay | undefined;
let am: RunningAlertmanager | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  const logs = am?.logs() ?? '';
  await am?.stop();
  await relay?.close();
  await ours?.close();
  await store?.close();
  am = relay = ours = store = undefined;
  if (process.env.ALERTMANAGER_TEST_LOGS) console.log(logs);
});

afterAll(async () => {
  await redis?.kill();
});

/** Our server on a fresh prefix, the relay in front of it, and an Alertmanager sending to the relay. */
async function setUp(route: { groupInterval: string; repeatInterval?: string }) {
  store = createRedisStore({ url: redis.url, keyPrefix: uniquePrefix('alertmanager-sender') });
  ours = await serve(store);
  relay = await startRelay(ours.base);
  am = await startAlertmanager({
    webhookUrl: relay.url,
    bearerToken: TOKEN,
    groupBy: ['alertname'],
    groupWait: '300ms',
    ...route,
  });
  return { store, relay, am };
}

const egressLabels = (dst: string): Record<string, string> => ({
  alertname: 'EgressOutsideContract',
  severity: 'critical',
  src_service: 'payments-api',
  src_namespace: 'prod',
  dst_type: 'fqdn',
  dst_name: dst,
  dst_port: '443',
  protocol: 'https',
});

// Just now: Alertmanager flushes a group at once (no group_wait) when its first alert started more than
// group_wait ago, and the alerts pushed with it could then miss that first notification.
const justNow = () => new Date().toISOString();

/** Our answer to each alert of a notification, by the alert's dst_name. */
function answersByName(d: Delivery): Map<string, AlertsBody['alerts'][number]> {
  return new Map(d.answer.alerts.map((a) => [d.sent.alerts[a.index]!.labels.dst_name!, a]));
}

describe('a real Alertmanager sending to POST /alerts', () => {
  it('a group with one valid alert and one without dst_port: the valid one is recorded, we answer 202, and Alertmanager does not send the group again', async () => {
    const { store, relay, am } = await setUp({ groupInterval: '500ms' });
    const startsAt = justNow();
    const { dst_port: _, ...noPort } = egressLabels('am-noport.exfil.example.net');
    const alerts: PostableAlert[] = [
      {
        labels: egressLabels('am-valid.exfil.example.net'),
        annotations: { summary: 'payments-api → am-valid.exfil.example.net:443 outside its contract' },
        startsAt,
      },
      { labels: noPort, startsAt },
    ];
    await am.pushAlerts(alerts);

    const [d] = await relay.waitFor(1);
    expect(d!.authorization).toBe(`Bearer ${TOKEN}`);
    expect(d!.sent.alerts).toHaveLength(2);
    expect(d!.answered).toBe(202);
    expect(d!.answer.format).toBe('alertmanager');
    expect(d!.answer.summary).toEqual({ opened: 1, rejected: 1 });
    const byName = answersByName(d!);
    const valid = byName.get('am-valid.exfil.example.net')!;
    const rejected = byName.get('am-noport.exfil.example.net')!;
    expect(valid.status).toBe('opened');
    expect(rejected).toMatchObject({ status: 'rejected', id: null });
    expect(rejected.issues!.map((i) => i.path)).toEqual([`alerts[${rejected.index}].labels.dst_port`]);

    const incident = await store.incidents.get(valid.id!);
    const sentValid = d!.sent.alerts[valid.index]!;
    expect(incident).toMatchObject({
      status: 'open',
      count: 1,
      alert: {
        origin: 'alertmanager',
        state: 'firing',
        event: 'EgressOutsideContract',
        source: { service: 'payments-api', namespace: 'prod' },
        destination: { type: 'fqdn', name: 'am-valid.exfil.example.net', port: 443, protocol: 'https' },
        requestId: `alertmanager:${sentValid.fingerprint}:${sentValid.startsAt}`,
        summary: 'payments-api → am-valid.exfil.example.net:443 outside its contract',
      },
    });
    expect(Date.parse(incident!.firstSeen)).toBe(Date.parse(startsAt));
    expect(await store.incidents.list()).toHaveLength(1);

    // A 4xx would be sent again at the next flush (~500 ms, harness test), a 5xx retried within
    // 0.25–0.75 s: 2 s (four group_interval flushes) of silence says the 202 marked the group notified.
    await new Promise((r) => setTimeout(r, 2000));
    expect(relay.deliveries).toHaveLength(1);
    const logs = am.logs();
    expect(logs).toMatch(/msg="Notify success"/);
    expect(logs).not.toMatch(/Notify for alerts failed|Notify attempt failed|unexpected status code/);
  });

  it('a resolved notification marks the incident resolved: resolvedAt set, alert.resolved on its timeline', async () => {
    const { store, relay, am } = await setUp({ groupInterval: '500ms' });
    const labels = egressLabels('am-resolve.exfil.example.net');
    const startsAt = new Date(Date.now() - 5000).toISOString(); // one alert: an immediate flush is fine
    await am.pushAlerts([{ labels, startsAt }]);
    const [firing] = await relay.waitFor(1);
    expect(firing!.answered).toBe(202);
    const id = firing!.answer.alerts[0]!.id!;
    expect(firing!.answer.alerts[0]!.status).toBe('opened');
    expect((await store.incidents.get(id))?.resolvedAt).toBeUndefined();

    const endsAt = new Date(Date.now() - 1000).toISOString();
    await am.pushAlerts([{ labels, startsAt, endsAt }]);
    const [, resolved] = await relay.waitFor(2);
    expect(resolved!.sent.status).toBe('resolved');
    expect(resolved!.answered).toBe(202);
    expect(resolved!.answer.alerts.map((a) => [a.status, a.id])).toEqual([['resolved', id]]);

    const incident = await store.incidents.get(id);
    expect(incident?.resolvedAt).toBeDefined();
    expect(Date.parse(incident!.resolvedAt!)).toBe(Date.parse(endsAt));
    expect(incident!.count).toBe(1); // a resolution is not a repeat
    const events = await store.timeline.read(id);
    const resolvedEvents = events.filter((e) => e.kind === 'alert.resolved');
    expect(resolvedEvents).toHaveLength(1);
    expect(resolvedEvents[0]!.details).toMatchObject({ origin: 'alertmanager' });
  });

  it("Alertmanager's repeated notifications of the same firing alerts are duplicates (request id = fingerprint + startsAt): the count does not grow", async () => {
    const { store, relay, am } = await setUp({ groupInterval: '500ms', repeatInterval: '500ms' });
    const startsAt = justNow();
    await am.pushAlerts([
      { labels: egressLabels('exfil.am-repeat-1.net'), startsAt },
      { labels: egressLabels('exfil.am-repeat-2.net'), startsAt },
    ]);
    const ds = await relay.waitFor(3, 15_000);
    // The same alerts each time: same fingerprints, same startsAt.
    const keys = ds.map((d) => d.sent.alerts.map((a) => `${a.fingerprint}@${a.startsAt}`).sort());
    expect(keys[1]).toEqual(keys[0]);
    expect(keys[2]).toEqual(keys[0]);
    expect(ds.map((d) => d.answered)).toEqual([202, 202, 202]);
    expect(ds[0]!.answer.summary).toEqual({ opened: 2 });
    expect(ds[1]!.answer.summary).toEqual({ duplicate: 2 });
    expect(ds[2]!.answer.summary).toEqual({ duplicate: 2 });
    const ids = [...answersByName(ds[0]!).values()].map((a) => a.id).sort();
    for (const d of ds.slice(1)) expect([...answersByName(d).values()].map((a) => a.id).sort()).toEqual(ids);

    const incidents = await store.incidents.list();
    expect(incidents).toHaveLength(2);
    for (const incident of incidents) {
      expect(incident.count).toBe(1);
      const events = await store.timeline.read(incident.id);
      expect(events.filter((e) => e.kind === 'alert.folded')).toHaveLength(0);
    }
  });
});
