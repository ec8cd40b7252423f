// The server side of the storm benchmark, in its own process: `ours` is `serve` as it runs
// (dist/main.js startServer, the Redis store at the given URL, a Slack stub); `bare` is the simplest
// thing that could work: a Node HTTP server that, per alert, does one `SET NX` on its request id and
// one `INCR` on its anomaly's counter, answering 202. Tells the parent its port over IPC.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { parseConfig, readEnv } from '../dist/config/load.js';
import { packageRoot } from '../dist/config/paths.js';
import { startServer } from '../dist/main.js';
import { silentLogger } from '../dist/observability/logger.js';
import { ALERT_TOKEN, SERVE_CONFIG, serveEnv } from './serve-env.js';
import { startSlackStub } from './slack-stub.js';

async function startOurs(redisUrl) {
  const stub = await startSlackStub();
  const env = readEnv({ ...serveEnv(stub.url, redisUrl), PORT: '0' });
  const config = parseConfig(SERVE_CONFIG, 'bench-config.yaml', packageRoot, env);
  const server = await startServer(config, silentLogger(), { slackRetries: 0 });
  return {
    port: server.port,
    async close() {
      await server.close();
      await stub.close();
    },
  };
}

async function startBare(redisUrl) {
  const redis = new Redis(redisUrl);
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        if (req.headers.authorization !== `Bearer ${ALERT_TOKEN}`) {
          res.writeHead(401).end();
          return;
        }
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const alerts = Array.isArray(parsed) ? parsed : [parsed];
        await Promise.all(
          alerts.map(async (a) => {
            const fresh = await redis.set(`bare:req:${a.request_id}`, '1', 'EX', 86400, 'NX');
            if (fresh)
              await redis.incr(`bare:count:${a.src_namespace}/${a.src_service}>${a.dst_name}:${a.dst_port}`);
          }),
        );
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
      } catch (err) {
        res.writeHead(503).end(String(err.message));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    async close() {
      await new Promise((r) => server.close(r));
      redis.disconnect();
    },
  };
}

const [mode, redisUrl] = process.argv.slice(2);
const running = mode === 'bare' ? await startBare(redisUrl) : await startOurs(redisUrl);
process.send({ port: running.port });
process.on('message', async (m) => {
  if (m !== 'stop') return;
  await running.close();
  process.send({
    stopped: true,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  });
  process.exit(0);
});
