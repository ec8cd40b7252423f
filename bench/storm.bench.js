// storm: 20,000 alerts of 100 anomalies from 64 clients, as single-alert bodies and as batches of 100,
// into `serve` as it runs (Redis) and into a bare HTTP server doing one SET NX + INCR per alert, in the
// same run (rounds alternate which goes first; each run gets a fresh private Redis and a fresh server
// process). Afterwards ours is checked exactly from its store: incidents, summed counts, alert
// timeline events; every non-202 answer is counted with its status.
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createRedisStore } from '../dist/store/redis.js';
import { machineFacts, table } from './harness.js';
import { startPrivateRedis } from './private-redis.js';
import { ALERT_TOKEN } from './serve-env.js';

const here = dirname(fileURLToPath(import.meta.url));
const ALERTS = 20_000;
const ANOMALIES = 100;
const CLIENTS = 64;
const ROUNDS = 3;
const SHAPES = { single: 1, 'batch of 100': 100 };

/** Alert n: anomaly n % 100 (payments-api in prod → its own raw IP), a unique request id. */
function alert(n, run) {
  const k = n % ANOMALIES;
  return {
    src_service: 'payments-api',
    src_namespace: 'prod',
    dst_type: 'ip',
    dst_name: `198.51.${Math.floor(k / 250)}.${(k % 250) + 1}`,
    dst_port: 4444,
    protocol: 'tcp',
    request_id: `storm-${run}-${n}`,
  };
}

function startProcess(mode, redisUrl) {
  const proc = fork(join(here, 'storm-server.js'), [mode, redisUrl], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve({ ...m, proc }));
    proc.once('exit', (code) => reject(new Error(`${mode} server exited (${code}) before it listened`)));
  });
}

function stopProcess(server) {
  return new Promise((resolve) => {
    server.proc.once('message', (m) => resolve(m));
    server.proc.send('stop');
    setTimeout(() => {
      server.proc.kill('SIGKILL');
      resolve({});
    }, 15_000).unref();
  });
}

/** Ours answers per alert (`alerts[].status`): what it said it recorded is what the store must hold. */
function tally(statuses, text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return;
  }
  for (const a of body?.alerts ?? []) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
}

/** POST one body over a keep-alive agent (node:http: cheaper per request than fetch, so the client
 * bounds the baseline less). */
function post(agent, port, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path: '/alerts',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${ALERT_TOKEN}`,
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/** 64 clients drain the bodies; every non-202 is counted by status (and the first reason kept). */
async function blast(port, bodies) {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const refused = {};
  const statuses = {};
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < bodies.length) {
        const { status, text } = await post(agent, port, bodies[next++]);
        tally(statuses, text);
        if (status !== 202) {
          refused[status] ??= { count: 0, reason: text.slice(0, 160) };
          refused[status].count++;
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return {
    seconds,
    refused,
    statuses,
    clientCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100),
  };
}

/** What ours recorded, read back from its store: incidents, summed counts, alert timeline events. */
async function recorded(redisUrl) {
  const store = createRedisStore({ url: redisUrl, commandTimeoutMs: 5000 });
  try {
    const incidents = await store.incidents.list({ limit: 10_000 });
    let events = 0;
    for (const i of incidents) {
      events += (await store.timeline.read(i.id)).filter(
        (e) => e.kind === 'alert.received' || e.kind === 'alert.folded',
      ).length;
    }
    return { incidents: incidents.length, counted: incidents.reduce((s, i) => s + i.count, 0), events };
  } finally {
    await store.close();
  }
}

async function bareRecorded(redisUrl) {
  const r = new Redis(redisUrl);
  try {
    const keys = await r.keys('bare:count:*');
    const counts = keys.length ? await r.mget(keys) : [];
    return { incidents: keys.length, counted: counts.reduce((s, c) => s + Number(c), 0), events: null };
  } finally {
    r.disconnect();
  }
}

async function oneRun(side, shape, run) {
  const redis = await startPrivateRedis();
  if (redis.skipped) throw new Error(`storm needs redis-server: ${redis.skipped}`);
  try {
    const server = await startProcess(side, redis.url);
    const per = SHAPES[shape];
    const bodies = [];
    for (let n = 0; n < ALERTS; n += per) {
      const batch = Array.from({ length: per }, (_, i) => alert(n + i, run));
      bodies.push(JSON.stringify(per === 1 ? batch[0] : batch));
    }
    const { seconds, refused, statuses, clientCpuPct } = await blast(server.port, bodies);
    const stopped = await stopProcess(server);
    const got = side === 'ours' ? await recorded(redis.url) : await bareRecorded(redis.url);
    const acknowledged = (statuses.opened ?? 0) + (statuses.folded ?? 0);
    return {
      alertsPerSec: ALERTS / seconds,
      seconds,
      clientCpuPct,
      refused,
      statuses,
      acknowledged,
      maxRssMiB: stopped.maxRssMiB,
      ...got,
    };
  } finally {
    await redis.stop();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

export async function run() {
  const results = {};
  let run = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours'];
    for (const shape of Object.keys(SHAPES)) {
      results[shape] ??= { ours: [], bare: [] };
      for (const side of order) results[shape][side].push(await oneRun(side, shape, run++));
    }
  }
  const rows = [];
  const cases = [];
  for (const [shape, r] of Object.entries(results)) {
    const f = (side, k) => r[side].map((x) => x[k]);
    const ratio = median(f('ours', 'alertsPerSec')) / median(f('bare', 'alertsPerSec'));
    // Exact: the store holds every alert ours acknowledged (opened/folded), once, in its anomaly's
    // incident, with one timeline event each; `unknown` answers (sent, no reply) may or may not be in.
    const exact = r.ours.every((x) => {
      const unknown = x.statuses.unknown ?? 0;
      return (
        x.incidents === ANOMALIES &&
        x.counted >= x.acknowledged &&
        x.counted <= x.acknowledged + unknown &&
        x.events === x.counted
      );
    });
    const complete = r.ours.every((x) => x.counted === ALERTS);
    const refusals = r.ours.flatMap((x) =>
      Object.entries(x.refused).map(([s, v]) => `${v.count}×${s} (${v.reason})`),
    );
    rows.push([
      shape,
      `${median(f('ours', 'alertsPerSec')).toFixed(0)} (${range(f('ours', 'alertsPerSec'))})`,
      `${median(f('bare', 'alertsPerSec')).toFixed(0)} (${range(f('bare', 'alertsPerSec'))})`,
      `${ratio.toFixed(2)}x`,
      `${median(f('ours', 'maxRssMiB')).toFixed(0)} / ${median(f('bare', 'maxRssMiB')).toFixed(0)}`,
      `${median(f('ours', 'clientCpuPct'))} / ${median(f('bare', 'clientCpuPct'))}`,
      r.ours.map((x) => `${x.incidents}/${x.counted}/${x.events}`).join(' '),
      `${exact ? 'exact' : 'NOT EXACT'}${complete ? '' : `; recorded ${r.ours.map((x) => x.counted).join(', ')} of ${ALERTS}: the rest answered not recorded`}`,
      refusals.length ? refusals.join('; ') : '-',
    ]);
    cases.push({
      case: shape,
      ours: { alertsPerSec: median(f('ours', 'alertsPerSec')) },
      bare: { alertsPerSec: median(f('bare', 'alertsPerSec')) },
      ratio: Number(ratio.toFixed(2)),
      exact,
      complete,
      summary: `${median(f('ours', 'alertsPerSec')).toFixed(0)} alerts/s, ${ratio.toFixed(2)}x the bare server; counts ${exact ? 'exact' : 'NOT EXACT'}${complete ? '' : ', some alerts refused with 503'}`,
    });
  }
  const machine = machineFacts();
  console.log('\n## storm');
  console.log(
    `parameters: ${JSON.stringify({ alerts: ALERTS, anomalies: ANOMALIES, clients: CLIENTS, rounds: ROUNDS })}`,
  );
  console.log(
    `machine: node ${machine.node}, ${machine.cpu}, ${machine.cores} cores; load average (1 min) at the end: ${machine.load1}`,
  );
  console.log(
    'alerts/s: median of the rounds (range); ours = serve on Redis, bare = HTTP + SET NX + INCR per alert',
  );
  console.log(
    table(
      [
        'shape',
        'alerts/s ours',
        'alerts/s bare',
        'ratio',
        'peak RSS MiB ours/bare',
        'client cpu% ours/bare',
        'ours incidents/counted/events per round',
        'check',
        'non-202 (ours)',
      ],
      rows,
    ),
  );
  return { name: 'storm', machine, cases };
}
