// soak (bounded, about two minutes): `serve` (its own process, a private Redis) under a steady load —
// alerts at a fixed rate over 20 anomalies, `/egress status` and Take command clicks — phase after
// phase, with Redis stopped for 3 s and started again in the middle. Per phase: what was sent, what
// was answered (every non-2xx by status), RSS, heap and event-loop delay, so growth and a slow
// recovery show. The baseline is the process itself before the restart.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineFacts, table } from './harness.js';
import { startPrivateRedis } from './private-redis.js';
import { ALERT_TOKEN } from './serve-env.js';
import { slackRequest } from './slack-requests.js';

const here = dirname(fileURLToPath(import.meta.url));
const PHASE_MS = 20_000;
const ALERTS_PER_SEC = 100;
const COMMANDS_PER_SEC = 5;
const CLICKS_PER_SEC = 2;
const REDIS_DOWN_MS = 3000;
const PHASES = ['warm-up', 'steady', 'Redis restarted', 'after 1', 'after 2'];

function startServe(redisUrl) {
  const proc = fork(join(here, 'ack-server.js'), ['ours', redisUrl], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve({ ...m, proc }));
    proc.once('exit', (code) => reject(new Error(`serve exited (${code}) before it listened`)));
  });
}

function ask(proc, what) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m[what] !== undefined) {
        proc.off('message', on);
        resolve(m[what]);
      }
    };
    proc.on('message', on);
    proc.send(what === 'stats' ? 'stats' : 'stop');
  });
}

/** Alert request ids, unique per run. */
let seq = 0;

/** One phase of steady load; resolves with what was sent and answered once its requests settle. */
async function phase(serve, during) {
  const base = `http://127.0.0.1:${serve.port}`;
  const answered = { alerts: {}, slack: {} };
  const count = (bag, status) => {
    bag[status] = (bag[status] ?? 0) + 1;
  };
  const inflight = [];
  const send = (bag, url, init) =>
    inflight.push(
      fetch(url, init)
        .then(async (res) => {
          await res.arrayBuffer();
          count(bag, res.status);
        })
        .catch(() => count(bag, 'error')),
    );
  let alerts = 0;
  let slack = 0;
  const t0 = Date.now();
  const duringDone = during?.();
  while (Date.now() - t0 < PHASE_MS) {
    const elapsed = (Date.now() - t0) / 1000;
    while (alerts < elapsed * ALERTS_PER_SEC) {
      const n = seq++;
      send(answered.alerts, `${base}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
        body: JSON.stringify({
          src_service: 'payments-api',
          src_namespace: 'prod',
          dst_type: 'ip',
          dst_name: `198.51.100.${(n % 20) + 1}`,
          dst_port: 4444,
          protocol: 'tcp',
          request_id: `soak-${process.pid}-${n}`,
        }),
      });
      alerts++;
    }
    while (slack < elapsed * (COMMANDS_PER_SEC + CLICKS_PER_SEC)) {
      const { body, headers } = slackRequest(slack % 7 < COMMANDS_PER_SEC ? 'status' : 'click', serve);
      send(answered.slack, `${base}/slack/events`, { method: 'POST', headers, body });
      slack++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(inflight);
  await duringDone;
  return { alerts, slack, answered, stats: await ask(serve.proc, 'stats') };
}

const fmt = (bag) =>
  Object.entries(bag)
    .sort()
    .map(([s, n]) => `${n}×${s}`)
    .join(' ');

export async function run() {
  let redis = await startPrivateRedis();
  if (redis.skipped) throw new Error(`soak needs redis-server: ${redis.skipped}`);
  const serve = await startServe(redis.url);
  const rows = [];
  const stats = [];
  try {
    for (const name of PHASES) {
      const during =
        name === 'Redis restarted'
          ? async () => {
              await new Promise((r) => setTimeout(r, 2000));
              const port = redis.port;
              await redis.stop();
              await new Promise((r) => setTimeout(r, REDIS_DOWN_MS));
              redis = await startPrivateRedis({ port });
              if (redis.skipped) throw new Error(`Redis did not come back: ${redis.skipped}`);
            }
          : undefined;
      const p = await phase(serve, during);
      stats.push(p.stats);
      rows.push([
        name,
        `${p.alerts}`,
        fmt(p.answered.alerts),
        `${p.slack}`,
        fmt(p.answered.slack),
        p.stats.rssMiB.toFixed(0),
        p.stats.heapUsedMiB.toFixed(0),
        p.stats.lagP99Ms.toFixed(1),
        p.stats.lagMaxMs.toFixed(1),
      ]);
    }
  } finally {
    await ask(serve.proc, 'stopped');
    await redis.stop?.();
  }
  const machine = machineFacts();
  const steady = stats[1];
  const last = stats[stats.length - 1];
  console.log('\n## soak');
  console.log(
    `parameters: ${JSON.stringify({ phaseSeconds: PHASE_MS / 1000, alertsPerSec: ALERTS_PER_SEC, commandsPerSec: COMMANDS_PER_SEC, clicksPerSec: CLICKS_PER_SEC, redisDownMs: REDIS_DOWN_MS })}`,
  );
  console.log(
    `machine: node ${machine.node}, ${machine.cpu}, ${machine.cores} cores; load average (1 min) at the end: ${machine.load1}`,
  );
  console.log(
    table(
      [
        'phase',
        'alerts sent',
        'alert answers',
        'slack sent',
        'slack answers',
        'RSS MiB',
        'heap MiB',
        'loop lag p99 ms',
        'loop lag max ms',
      ],
      rows,
    ),
  );
  const growth = last.rssMiB - steady.rssMiB;
  console.log(
    `  RSS ${steady.rssMiB.toFixed(0)} MiB in the steady phase → ${last.rssMiB.toFixed(0)} MiB at the end (${growth >= 0 ? '+' : ''}${growth.toFixed(0)} MiB); loop lag p99 ${steady.lagP99Ms.toFixed(1)} → ${last.lagP99Ms.toFixed(1)} ms`,
  );
  return {
    name: 'soak',
    machine,
    cases: [
      {
        case: 'RSS and loop lag, steady → end',
        summary: `RSS ${steady.rssMiB.toFixed(0)} → ${last.rssMiB.toFixed(0)} MiB; lag p99 ${steady.lagP99Ms.toFixed(1)} → ${last.lagP99Ms.toFixed(1)} ms`,
      },
    ],
  };
}
