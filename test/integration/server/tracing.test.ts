// OpenTelemetry traces from a real `serve` process: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans for
// the intake request, each alert, each playbook step and each action apply reach a local OTLP/HTTP
// receiver with the alert's egress attributes and a link to the sender's trace; without it, nothing
// is sent and the SDK is never even loaded (a resolve hook records what the process loads).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/config/paths.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../../fakes/otlp-receiver.js';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';
import { freePort } from '../../support/redis.js';
import { builtPackage } from '../crash/build.js';

const TOKEN = 'test-alert-token';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

let fake: FakeSlackApi;
let root: string;
beforeAll(async () => {
  fake = await startFakeSlackApi();
  root = (await builtPackage(packageRoot)).root;
}, 180_000);
afterAll(() => fake.close());

interface Serve {
  base: string;
  loadsFile: string;
  output: () => string;
  stop(): Promise<number | null>;
}

async function serve(env: Record<string, string>): Promise<Serve> {
  const dir = await mkdtemp(join(tmpdir(), 'tracing-'));
  const config = join(dir, 'config.yaml');
  await writeFile(config, 'slack:\n  incidentChannel: C0INCIDENT\n  responders: [U0AAA]\n');
  const port = await freePort();
  const loadsFile = join(dir, 'loads.txt');
  const proc = spawn(
    process.execPath,
    [
      '--import',
      join(packageRoot, 'test/support/record-loads.mjs'),
      join(root, 'bin/egress-responder.js'),
      'serve',
      '--config',
      config,
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_SIGNING_SECRET: 'test-signing-secret',
        ALERT_WEBHOOK_TOKEN: TOKEN,
        SLACK_API_URL: fake.url,
        RECORD_LOADS_FILE: loadsFile,
        RECORD_LOADS_MATCH: '@opentelemetry/',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 20_000);
    const onData = (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes(`listening on :${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', () => reject(new Error(`serve exited:\n${out}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    loadsFile,
    output: () => out,
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

const alert = {
  src_service: 'payments-api',
  src_namespace: 'prod',
  src_identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
  dst_type: 'service',
  dst_name: 'ledger-db',
  dst_namespace: 'finance',
  dst_port: 5432,
  protocol: 'tcp',
  policy_id: 'egress-contract/payments-api',
  trace_id: TRACE,
};

const post = (base: string, body: unknown) =>
  fetch(`${base}/alerts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const egress = {
  'egress.dst.service': 'ledger-db',
  'egress.dst.namespace': 'finance',
  'egress.protocol': 'tcp',
  'egress.policy_id': 'egress-contract/payments-api',
  'src.identity': 'spiffe://cluster.local/ns/prod/sa/payments-api',
};

describe('traces', () => {
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(() => receiver.close());

  it('with OTEL_EXPORTER_OTLP_ENDPOINT: intake, alert, step and action spans with the egress attributes and the sender trace linked', async () => {
    const bot = await serve({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' });
    try {
      const res = await post(bot.base, [
        alert,
        { ...alert, trace_id: 'not-a-trace-id', dst_name: 'other-db' },
      ]);
      expect(res.status).toBe(202);
      const { incidents } = (await res.json()) as { incidents: { id: string }[] };
      const named = (n: string) => receiver.spans.filter((s) => s.name === n);
      await until(
        'step and action spans',
        () => named('playbook.step').length > 0 && named('action.apply').length > 0,
      );

      const [intake] = named('alerts.intake');
      expect(intake?.attributes['http.response.status_code']).toBe(202);
      expect(intake?.resource['service.name']).toBe('egress-responder');
      const records = named('alert.record');
      expect(records).toHaveLength(2);
      const first = records.find((s) => s.attributes['alert.index'] === 0) as ReceivedSpan;
      expect(first.parentSpanId).toBe(intake?.spanId);
      expect(first.traceId).toBe(intake?.traceId);
      expect(first.attributes).toMatchObject({
        ...egress,
        'alert.status': 'opened',
        'incident.id': incidents[0]?.id,
      });
      expect(first.links).toEqual([
        { traceId: TRACE, spanId: '0000000000000000', attributes: { 'link.reason': 'alert.trace_id' } },
      ]);
      // An id that is not a W3C trace id is kept as an attribute, never linked.
      const second = records.find((s) => s.attributes['alert.index'] === 1) as ReceivedSpan;
      expect(second.links).toEqual([]);
      expect(second.attributes['egress.trace_id']).toBe('not-a-trace-id');

      const step = named('playbook.step').find(
        (s) => s.attributes['incident.id'] === incidents[0]?.id,
      ) as ReceivedSpan;
      expect(step.attributes).toMatchObject({ ...egress, 'playbook.step': expect.any(String) });
      expect(step.links.map((l) => l.traceId)).toEqual([TRACE]);
      const apply = named('action.apply').find(
        (s) => s.attributes['incident.id'] === incidents[0]?.id,
      ) as ReceivedSpan;
      expect(apply.attributes).toMatchObject({
        ...egress,
        'playbook.phase': 'apply',
        'playbook.action': expect.any(String),
      });
      const plan = named('action.plan').find(
        (s) => s.attributes['incident.id'] === incidents[0]?.id,
      ) as ReceivedSpan;
      expect(plan.attributes).toMatchObject({ ...egress, 'playbook.phase': 'plan' });
      // An action's span sits inside its step's span.
      const steps = new Set(named('playbook.step').map((s) => s.spanId));
      expect(
        named('action.apply').every((s) => s.parentSpanId !== undefined && steps.has(s.parentSpanId)),
      ).toBe(true);
      expect(readFileSync(bot.loadsFile, 'utf8')).toContain('@opentelemetry/sdk-trace-node');
    } finally {
      expect(await bot.stop()).toBe(0);
    }
  }, 60_000);

  it('without it: nothing is exported and the SDK is never loaded', async () => {
    const bot = await serve({});
    try {
      expect((await post(bot.base, alert)).status).toBe(202);
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      expect(await bot.stop()).toBe(0);
    }
    expect(receiver.requests).toBe(0);
    const loaded = existsSync(bot.loadsFile) ? readFileSync(bot.loadsFile, 'utf8') : '';
    // The API (a no-op without an SDK) is loaded by the code that makes spans; nothing else is.
    expect(loaded).toContain('@opentelemetry/api');
    expect(loaded).not.toMatch(/@opentelemetry\/(sdk-|exporter-|resources|otlp-)/);
  }, 60_000);
});
