// ack: how fast Slack gets its answer. Signed `/egress help`, `/egress status <id>` and a "Take
// command" click, fired in bursts of 50 and 200 at once, against `serve` as it runs (Bolt over HTTP
// behind the guard, the engine, a private Redis) and against a bare Bolt 5 app that only acks, in the
// same run: rounds alternate which goes first. Each server is its own process. Slack shows the user
// an error when the answer takes more than 3 s, so max matters as much as p99.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latencySummary, machineFacts, table } from './harness.js';
import { startPrivateRedis } from './private-redis.js';
import { slackRequest } from './slack-requests.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = 3;
const CONCURRENCY = [50, 200];
/** Bursts per (round, case, concurrency, server): samples = bursts × concurrency. */
const BURSTS = 3;

function startServerProcess(mode, redisUrl) {
  const proc = fork(join(here, 'ack-server.js'), [mode, redisUrl ?? ''], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve({ ...m, proc }));
    proc.once('exit', (code) => reject(new Error(`${mode} server exited (${code}) before it listened`)));
  });
}

function stopServerProcess(server) {
  return new Promise((resolve) => {
    server.proc.once('exit', resolve);
    server.proc.send('stop');
    setTimeout(() => server.proc.kill('SIGKILL'), 5000).unref();
  });
}

/** One burst of `n` requests sent at once; latency of each, in ns, and any non-200 by status. */
async function burst(server, kind, n) {
  const url = `http://127.0.0.1:${server.port}/slack/events`;
  const reqs = Array.from({ length: n }, () => slackRequest(kind, server));
  const errors = {};
  const t0 = process.hrtime.bigint();
  const samples = await Promise.all(
    reqs.map(async ({ body, headers }) => {
      const start = process.hrtime.bigint();
      const res = await fetch(url, { method: 'POST', headers, body });
      await res.arrayBuffer();
      if (res.status !== 200) errors[res.status] = (errors[res.status] ?? 0) + 1;
      return Number(process.hrtime.bigint() - start);
    }),
  );
  return { samples, errors, wallNs: Number(process.hrtime.bigint() - t0) };
}

async function measureCase(server, kind, n) {
  await burst(server, kind, Math.min(n, 20)); // warm-up
  const all = [];
  const errors = {};
  let wallNs = 0;
  for (let b = 0; b < BURSTS; b++) {
    const r = await burst(server, kind, n);
    all.push(...r.samples);
    wallNs += r.wallNs;
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  }
  const lat = latencySummary(all);
  return { ...lat, acksPerSec: all.length / (wallNs / 1e9), errors };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

export async function run() {
  const redis = await startPrivateRedis();
  if (redis.skipped) console.log(`ack: Redis: ${redis.skipped}; serve uses the embedded memory store`);
  const ours = await startServerProcess('ours', redis.url);
  const bare = await startServerProcess('bare');
  const results = {}; // key → { ours: [round results], bare: [...] }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order =
        round % 2 === 0
          ? [
              ['ours', ours],
              ['bare', bare],
            ]
          : [
              ['bare', bare],
              ['ours', ours],
            ];
      for (const kind of ['help', 'status', 'click']) {
        for (const n of CONCURRENCY) {
          const key = `${kind} ×${n}`;
          results[key] ??= { ours: [], bare: [] };
          for (const [name, server] of order) results[key][name].push(await measureCase(server, kind, n));
        }
      }
    }
  } finally {
    await stopServerProcess(ours);
    await stopServerProcess(bare);
    await redis.stop?.();
  }
  const rows = [];
  const cases = [];
  for (const [key, r] of Object.entries(results)) {
    const f = (side, field) => r[side].map((x) => x[field]);
    const cell = (side, field) => `${median(f(side, field)).toFixed(0)} (${range(f(side, field))})`;
    const ratio = (field) => (median(f('ours', field)) / median(f('bare', field))).toFixed(2);
    const errs = r.ours.flatMap((x) => Object.entries(x.errors).map(([s, c]) => `${c}×${s}`));
    rows.push([
      key,
      cell('ours', 'p50Ms'),
      cell('bare', 'p50Ms'),
      `${ratio('p50Ms')}x`,
      cell('ours', 'p99Ms'),
      cell('bare', 'p99Ms'),
      `${ratio('p99Ms')}x`,
      cell('ours', 'maxMs'),
      cell('bare', 'maxMs'),
      `${median(f('ours', 'acksPerSec')).toFixed(0)} / ${median(f('bare', 'acksPerSec')).toFixed(0)}`,
      errs.length ? errs.join(' ') : '-',
    ]);
    cases.push({
      case: key,
      ours: {
        p50Ms: median(f('ours', 'p50Ms')),
        p99Ms: median(f('ours', 'p99Ms')),
        maxMs: Math.max(...f('ours', 'maxMs')),
      },
      bare: {
        p50Ms: median(f('bare', 'p50Ms')),
        p99Ms: median(f('bare', 'p99Ms')),
        maxMs: Math.max(...f('bare', 'maxMs')),
      },
      p99Ratio: Number(ratio('p99Ms')),
      summary: `p99 ${ratio('p99Ms')}x the bare Bolt app; max ${Math.max(...f('ours', 'maxMs')).toFixed(0)} ms`,
    });
  }
  const machine = machineFacts();
  console.log('\n## ack');
  console.log(
    `parameters: ${JSON.stringify({ rounds: ROUNDS, bursts: BURSTS, concurrency: CONCURRENCY, store: redis.url ? 'redis (private)' : 'memory' })}`,
  );
  console.log(
    `machine: node ${machine.node}, ${machine.cpu}, ${machine.cores} cores; load average (1 min) at the end: ${machine.load1}`,
  );
  console.log('ms: median of the rounds (range over rounds); ours = serve, bare = Bolt 5 that only acks');
  console.log(
    table(
      [
        'case',
        'p50 ours',
        'p50 bare',
        'ratio',
        'p99 ours',
        'p99 bare',
        'ratio',
        'max ours',
        'max bare',
        'acks/s ours/bare',
        'non-200 (ours)',
      ],
      rows,
    ),
  );
  return { name: 'ack', machine, cases };
}
