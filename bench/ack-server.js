// The server side of the ack benchmark, in its own process so the clients do not share its event
// loop: `ours` is `serve` as it runs (dist/main.js startServer: Bolt over HTTP, the guard, the
// engine, the Redis store at REDIS_URL) with one open incident; `bare` is a Bolt 5 app that only acks.
// Both talk to the same kind of Slack stub. Tells the parent its port over IPC; answers 'stats'
// (RSS, event-loop delay: the soak benchmark) and stops on 'stop'.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfig, readEnv } from '../dist/config/load.js';
import { packageRoot } from '../dist/config/paths.js';
import { startServer } from '../dist/main.js';
import { silentLogger } from '../dist/observability/logger.js';
import { createBareBolt } from './bare-bolt.js';
import { ALERT_TOKEN, SERVE_CONFIG, serveEnv } from './serve-env.js';
import { startSlackStub } from './slack-stub.js';

async function startOurs(stub, redisUrl) {
  const env = readEnv({ ...serveEnv(stub.url, redisUrl), PORT: '0' });
  const config = parseConfig(SERVE_CONFIG, 'bench-config.yaml', packageRoot, env);
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
  const app = createBareBolt();
  const server = await app.start(0);
  return { port: server.address().port, incident: 'EGR-BARE', close: () => app.stop() };
}

const [mode, redisUrl] = process.argv.slice(2);
const stub = await startSlackStub();
const running = mode === 'bare' ? await startBare() : await startOurs(stub, redisUrl);
process.send({ port: running.port, incident: running.incident, stubUrl: stub.url });
// 'stats': RSS and event-loop delay since the last 'stats' (for the soak benchmark).
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
process.on('message', async (m) => {
  if (m === 'stats') {
    process.send({
      stats: {
        rssMiB: process.memoryUsage().rss / 2 ** 20,
        heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20,
        lagP99Ms: loop.percentile(99) / 1e6,
        lagMaxMs: loop.max / 1e6,
      },
    });
    loop.reset();
    return;
  }
  if (m !== 'stop') return;
  await running.close();
  await stub.close();
  process.send({ stopped: true, responses: stub.responses() });
  process.exit(0);
});
