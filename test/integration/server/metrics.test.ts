import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import { observedCluster } from '../../../src/k8s/observed-cluster.js';
import { trapCluster } from '../../builders/additive-trap.js';
import { aPod } from '../../fakes/kube-api/builders.js';
import { startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { ALERT_TOKEN, type Bot, bootBot, egressAlert, eventually } from '../../support/slack-harness.js';

// GET /metrics as an operator's Prometheus scrapes it: every metric declared with HELP and TYPE from
// the first scrape, `promtool check metrics` clean (Debian's prometheus package; .ci/run installs it),
// and the figures moving with what really happened: alerts by source and outcome, refusals, incidents
// by status, Slack acks and Slack API errors.

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const check = (text: string) =>
  spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });

/** `name{labels} value` lines of the exposition, as a map (labels as written). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

let bot: Bot;
beforeAll(async () => {
  if (promtool.error)
    throw new Error("promtool not found: install Debian's prometheus package (bash .ci/run does)");
  bot = await bootBot();
});
afterAll(() => bot.close());

const scrape = async () => {
  const res = await fetch(`${bot.base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

it('the first scrape lists every metric with HELP and TYPE, and promtool finds nothing wrong', async () => {
  const text = await scrape();
  const result = check(text);
  expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
    status: 0,
    stdout: '',
    stderr: '',
  });
  for (const name of [
    'alerts_total',
    'alert_requests_refused_total',
    'actions_total',
    'incidents',
    'grants_live',
    'grants_ended_total',
    'slack_ack_seconds',
    'slack_api_errors_total',
    'kubernetes_api_errors_total',
    'drills_total',
    'resumes_total',
  ]) {
    expect(text).toContain(`# HELP egress_responder_${name} `);
    expect(text).toContain(`# TYPE egress_responder_${name} `);
  }
  // Counters without labels read 0 before anything happened; process metrics are there.
  expect(samples(text).get('egress_responder_resumes_total')).toBe(0);
  expect(text).toContain('egress_responder_process_resident_memory_bytes');
});

it('counts what happened: alerts by source and outcome, refusals, incidents by status, acks, Slack errors', async () => {
  bot.fake.fail('chat.postMessage', 'channel_not_found');
  const first = await bot.postAlerts({ ...egressAlert(), request_id: 'req-metrics-1' });
  expect(first.status).toBe(202);
  expect((await bot.postAlerts({ ...egressAlert(), request_id: 'req-metrics-1' })).status).toBe(202);
  // One valid and one invalid alert in a batch: the valid one folds, the other is rejected.
  const batch = await bot.postAlerts([egressAlert(), { ...egressAlert(), dst_port: 'http' }]);
  expect(batch.status).toBe(202);
  const unauthorized = await fetch(`${bot.base}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' },
    body: '{}',
  });
  expect(unauthorized.status).toBe(401);
  const notAlerts = await fetch(`${bot.base}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
    body: '{"hello":"world"}',
  });
  expect(notAlerts.status).toBe(400);
  const notAlertsCode = z.object({ error: z.string() }).parse(await notAlerts.json()).error;
  await bot.slash('U0AAA', 'help');
  await bot.slash('U0AAA', 'status');

  const s = await eventually(async () => {
    const m = samples(await scrape());
    return (m.get(
      'egress_responder_slack_api_errors_total{method="chat.postMessage",error="channel_not_found"}',
    ) ?? 0) >= 1
      ? m
      : undefined;
  }, 'the Slack API error to be counted');
  expect(s.get('egress_responder_alerts_total{source="egress-event",outcome="opened"}')).toBe(1);
  expect(s.get('egress_responder_alerts_total{source="egress-event",outcome="duplicate"}')).toBe(1);
  expect(s.get('egress_responder_alerts_total{source="egress-event",outcome="folded"}')).toBe(1);
  expect(s.get('egress_responder_alerts_total{source="egress-event",outcome="rejected"}')).toBe(1);
  expect(s.get('egress_responder_alert_requests_refused_total{reason="unauthorized"}')).toBe(1);
  expect(s.get(`egress_responder_alert_requests_refused_total{reason="${notAlertsCode}"}`)).toBe(1);
  expect(s.get('egress_responder_incidents{status="open"}')).toBe(1);
  expect(s.get('egress_responder_incidents_opened_total{drill="false"}')).toBe(1);
  expect(s.get('egress_responder_slack_ack_seconds_count')).toBeGreaterThanOrEqual(2);
  expect(check(await scrape()).status).toBe(0);
});

it('Kubernetes API errors are counted by verb and code, and the caller still gets the error', async () => {
  const fake = await startFakeKubeApi();
  try {
    fake.put(aPod({ namespace: 'prod', name: 'p-1', labels: { app: 'x' } }));
    fake.deny({ verb: 'patch', resource: 'pods', namespace: 'prod' });
    const seen: string[] = [];
    const cluster = observedCluster(trapCluster(fake), (verb, code) => seen.push(`${verb} ${code}`));
    const ref = { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'p-1' };
    await expect(
      cluster.patch(ref, { metadata: { labels: { q: 'y' } } }, 'merge', { dryRun: false }),
    ).rejects.toMatchObject({
      code: 'k8s_forbidden',
    });
    expect(await cluster.getPod('prod', 'p-1')).toBeDefined();
    expect(await cluster.getPod('prod', 'missing')).toBeUndefined();
    expect(seen).toEqual(['patch k8s_forbidden']);
  } finally {
    await fake.close();
  }
});
