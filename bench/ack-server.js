// The server side of the ack benchmark, in its own process so the clients do not share its event
// loop: `ours` is `serve` as it runs (dist/main.js startServer: Bolt over HTTP, the guard, the
// engine, the Redis store at REDIS_URL) with one open incident; `bare` is a Bolt 5 app that only acks.
// Both talk to the same kind of Slack stub. Tells the parent its port over IPC, stops on 'stop'.
import bolt from '@slack/bolt';
import { parseConfig, readEnv } from '../dist/config/load.js';
import { packageRoot } from '../dist/config/paths.js';
import { startServer } from '../dist/main.js';
import { silentLogger } from '../dist/observability/logger.js';
import { ALERT_TOKEN, CHANNEL, SIGNING_SECRET } from './ack-constants.js';
import { startSlackStub } from './slack-stub.js';

async function startOurs(stub, redisUrl) {
  const env = readEnv({
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
    SLACK_API_URL: stub.url,
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  });
  const yaml = `slack:\n  incidentChannel: ${CHANNEL}\n  responders: [U0BENCH]\n  approvers: [U0APPROVE]\n`;
  const config = parseConfig(yaml, 'bench-config.yaml', packageRoot, env);
  const server = await startServer(config, silentLogger(), { slackRetries: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  const res = await fetch(`${base}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
    body: JSON.stringify({
      src_service: 'payments-api',
      src_namespace: 'prod',
      dst_type: 'fqdn',
      dst_name: 'paste.exfil.example.net',
      dst_port: 443,
      protocol: 'https',
      request_id: `bench-${process.pid}`,
    }),
  });
  if (res.status !== 202) throw new Error(`alert not accepted: ${res.status} ${await res.text()}`);
  const { incidents } = await res.json();
  return { port: server.port, incident: incidents[0].id, close: () => server.close() };
}

async function startBare() {
  const receiver = new bolt.HTTPReceiver({ signingSecret: SIGNING_SECRET });
  const app = new bolt.App({
    token: 'xoxb-bench',
    receiver,
    tokenVerificationEnabled: false,
    botId: 'BBOT',
    botUserId: 'UBOT',
    logLevel: bolt.LogLevel.ERROR,
  });
  app.command('/egress', async ({ ack }) => ack());
  app.action(/.*/, async ({ ack }) => ack());
  const server = await app.start(0);
  return { port: server.address().port, incident: 'EGR-BARE', close: () => app.stop() };
}

const [mode, redisUrl] = process.argv.slice(2);
const stub = await startSlackStub();
const running = mode === 'bare' ? await startBare() : await startOurs(stub, redisUrl);
process.send({ port: running.port, incident: running.incident, stubUrl: stub.url });
process.on('message', async (m) => {
  if (m !== 'stop') return;
  await running.close();
  await stub.close();
  process.send({ stopped: true, responses: stub.responses() });
  process.exit(0);
});
