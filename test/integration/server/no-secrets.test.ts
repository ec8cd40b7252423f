// No secret ever reaches a log line: a real `serve` process at debug level, given known secret values,
// is driven through its error paths (refused alerts, a forged Slack request, Slack API failures, a
// Redis that does not answer) and every byte it writes is searched for each secret.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/config/paths.js';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';
import { freePort } from '../../support/redis.js';
import { builtPackage } from '../crash/build.js';

const SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-4242-SECRETBOTTOKEN-do-not-log',
  SLACK_SIGNING_SECRET: 'signing-SECRET-9f8e7d6c5b4a',
  ALERT_WEBHOOK_TOKEN: 'alert-bearer-SECRET-0a1b2c3d',
  REDIS_PASSWORD: 'redis-pw-SECRET-77aa88bb',
};

let fake: FakeSlackApi;
let root: string;
beforeAll(async () => {
  fake = await startFakeSlackApi({ tokens: [SECRETS.SLACK_BOT_TOKEN] });
  root = (await builtPackage(packageRoot)).root;
}, 180_000);
afterAll(() => fake.close());

/** `serve` with the secrets; resolves with everything it wrote once it exits (or is stopped after `drive`). */
async function run(extraEnv: Record<string, string>, drive?: (base: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'no-secrets-'));
  const config = join(dir, 'config.yaml');
  await writeFile(config, 'slack:\n  incidentChannel: C0INCIDENT\n  responders: [U0AAA]\n');
  const port = await freePort();
  const proc = spawn(process.execPath, [join(root, 'bin/egress-responder.js'), 'serve', '--config', config], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      LOG_LEVEL: 'debug',
      SLACK_API_URL: fake.url,
      SLACK_BOT_TOKEN: SECRETS.SLACK_BOT_TOKEN,
      SLACK_SIGNING_SECRET: SECRETS.SLACK_SIGNING_SECRET,
      ALERT_WEBHOOK_TOKEN: SECRETS.ALERT_WEBHOOK_TOKEN,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  if (drive) {
    const start = Date.now();
    while (!out.includes(`listening on :${port}`)) {
      if (Date.now() - start > 20_000 || proc.exitCode !== null)
        throw new Error(`serve did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await drive(`http://127.0.0.1:${port}`);
    proc.kill('SIGTERM');
  }
  const code = await exited;
  return { code, out };
}

function expectNoSecret(out: string) {
  for (const [name, value] of Object.entries(SECRETS)) {
    // The whole value, and a long piece of it (a secret cut by a truncated line is still a leak).
    expect({ name, leaked: out.includes(value) || out.includes(value.slice(0, 16)) }).toEqual({
      name,
      leaked: false,
    });
  }
}

const alert = {
  src_service: 'payments-api',
  src_namespace: 'prod',
  dst_type: 'fqdn',
  dst_name: 'paste.exfil.example.net',
  dst_port: 443,
  protocol: 'https',
};

it('serving, through refused alerts, a forged Slack request and Slack API failures', async () => {
  fake.fail('chat.postMessage', 'invalid_auth', 3);
  const { code, out } = await run({}, async (base) => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${base}/alerts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body,
      });
    expect((await post({}, JSON.stringify(alert))).status).toBe(401);
    expect((await post({ Authorization: 'Bearer wrong' }, JSON.stringify(alert))).status).toBe(401);
    expect((await post({ Authorization: `Bearer ${SECRETS.ALERT_WEBHOOK_TOKEN}` }, '{not json')).status).toBe(
      400,
    );
    expect(
      (await post({ Authorization: `Bearer ${SECRETS.ALERT_WEBHOOK_TOKEN}` }, JSON.stringify(alert))).status,
    ).toBe(202);
    // A Slack request signed with the wrong secret, and one signed right (the guard logs both ways).
    const body =
      'command=%2Fegress&text=help&user_id=U0AAA&channel_id=C0INCIDENT&response_url=http%3A%2F%2F127.0.0.1%3A1%2Fr';
    for (const secret of ['not-the-secret', SECRETS.SLACK_SIGNING_SECRET]) {
      const ts = Math.floor(Date.now() / 1000);
      const sig = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
      await fetch(`${base}/slack/events`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-Slack-Request-Timestamp': String(ts),
          'X-Slack-Signature': `v0=${sig}`,
        },
        body,
      });
    }
    await new Promise((r) => setTimeout(r, 2500)); // the presenter's retries against the failing Slack
  });
  expect(code).toBe(0);
  // The error paths ran and were logged (so the search below had something to search).
  expect(out).toContain('alerts refused');
  expect(out).toContain('invalid_auth');
  expectNoSecret(out);
}, 60_000);

it('a Redis that does not answer, with a password in REDIS_URL', async () => {
  const closed = await freePort();
  const { code, out } = await run({ REDIS_URL: `redis://:${SECRETS.REDIS_PASSWORD}@127.0.0.1:${closed}/0` });
  expect(code).not.toBe(0);
  expect(out).toMatch(/store/i);
  expect(out).not.toMatch(/\n\s+at .*\.js:\d+:\d+/); // no stack trace either
  expectNoSecret(out);
}, 60_000);
