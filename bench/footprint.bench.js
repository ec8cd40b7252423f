// footprint: (1) start → ready: `egress-responder serve` spawned as an operator runs it (private Redis,
// a Slack stub) until GET /readyz answers 200, against a bare Bolt 5 app spawned until it answers
// HTTP at all; median of 5 each, alternating. (2) RSS of serve with 1,000 open incidents of ~100
// timeline events each (100 alerts per incident, in bodies of 100), right after the fill, once the
// playbook runs it queued have settled, and 10 s and 30 s later; against the bare Bolt app's RSS idle. Each in
// its own process; figures are printed, never asserted.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { machineFacts, table } from './harness.js';
import { startPrivateRedis } from './private-redis.js';
import { ALERT_TOKEN, SERVE_CONFIG, serveEnv } from './serve-env.js';
import { startSlackStub } from './slack-stub.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const STARTS = 5;
const INCIDENTS = 1000;
const ALERTS_EACH = 100;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Poll `url` until `ok(status)`; resolves with the ms since `t0`. */
async function until(url, ok, t0, method = 'GET') {
  for (;;) {
    try {
      const res = await fetch(url, { method });
      await res.arrayBuffer();
      if (ok(res.status)) return Number(process.hrtime.bigint() - t0) / 1e6;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

async function startOurs(configFile, env) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'egress-responder.js'), 'serve', '--config', configFile],
    {
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const ms = await until(`http://127.0.0.1:${port}/readyz`, (s) => s === 200, t0);
  return { child, port, ms };
}

async function startBare() {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [join(here, 'bare-bolt.js'), String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const ms = await until(`http://127.0.0.1:${port}/slack/events`, () => true, t0, 'POST');
  return { child, port, ms };
}

/** Resident set of a process, from /proc (Linux), in MiB. */
async function rssMiB(pid) {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/** serve's V8 heap in use, in MiB, from its own /metrics (live objects plus garbage not yet collected). */
async function heapMiB(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^egress_responder_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)[1]) / 2 ** 20;
}

async function fill(port) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` };
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < INCIDENTS) {
        const k = next++;
        const body = Array.from({ length: ALERTS_EACH }, (_, i) => ({
          src_service: `svc-${k}`,
          src_namespace: 'prod',
          dst_type: 'ip',
          dst_name: '198.51.100.7',
          dst_port: 4444,
          protocol: 'tcp',
          request_id: `fp-${k}-${i}`,
        }));
        const res = await fetch(`http://127.0.0.1:${port}/alerts`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
        });
        await res.arrayBuffer();
        if (res.status !== 202) refused++;
      }
    }),
  );
  return refused;
}

/**
 * Wait until no playbook run is due any more (the schedule holds only future items: SLA reminders),
 * at most `ms`: the state "1,000 open incidents", rather than the burst of runs the fill queued.
 */
async function settled(redisUrl, ms) {
  const redis = new Redis(redisUrl);
  const t0 = Date.now();
  try {
    for (;;) {
      const due = await redis.zcount('egress-responder:{er}:schedule:due', '-inf', Date.now());
      if (due === 0) return { seconds: (Date.now() - t0) / 1000, due };
      if (Date.now() - t0 > ms) return { seconds: (Date.now() - t0) / 1000, due };
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    redis.disconnect();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

export async function run() {
  const redis = await startPrivateRedis();
  if (redis.skipped) throw new Error(`footprint needs redis-server: ${redis.skipped}`);
  const stub = await startSlackStub();
  const dir = mkdtempSync(join(tmpdir(), 'bench-footprint-'));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, SERVE_CONFIG);
  const env = { ...serveEnv(stub.url, redis.url), LOG_LEVEL: 'error' };
  const ready = { ours: [], bare: [] };
  const idleRss = { ours: [], bare: [] };
  let loaded;
  try {
    for (let i = 0; i < STARTS; i++) {
      for (const side of i % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) {
        const s = side === 'ours' ? await startOurs(configFile, env) : await startBare();
        ready[side].push(s.ms);
        await new Promise((r) => setTimeout(r, 300));
        idleRss[side].push(await rssMiB(s.child.pid));
        await stop(s.child);
      }
    }
    const s = await startOurs(configFile, env);
    const t0 = Date.now();
    const refused = await fill(s.port);
    const fillSeconds = (Date.now() - t0) / 1000;
    const sample = async () => ({ rss: await rssMiB(s.child.pid), heap: await heapMiB(s.port) });
    const afterFill = await sample();
    // Then the playbook runs the fill queued (one per incident) settle, and the process sits idle
    // (serve's memory reducer collects once it has been quiet for a while: src/server/memory-reducer.ts).
    const runs = await settled(redis.url, 120_000);
    const settledAt = await sample();
    await new Promise((r) => setTimeout(r, 10_000));
    const idle10 = await sample();
    await new Promise((r) => setTimeout(r, 20_000));
    const idle30 = await sample();
    loaded = { settled: settledAt, afterFill, idle10, idle30, runs, refused, fillSeconds };
    await stop(s.child);
  } finally {
    await stub.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const machine = machineFacts();
  console.log('\n## footprint');
  console.log(
    `parameters: ${JSON.stringify({ starts: STARTS, incidents: INCIDENTS, alertsEach: ALERTS_EACH })}`,
  );
  console.log(
    `machine: node ${machine.node}, ${machine.cpu}, ${machine.cores} cores; load average (1 min) at the end: ${machine.load1}`,
  );
  console.log(
    table(
      ['figure', 'ours (serve)', 'bare Bolt 5', 'ratio'],
      [
        [
          'start → ready ms, median (range)',
          `${median(ready.ours).toFixed(0)} (${range(ready.ours)})`,
          `${median(ready.bare).toFixed(0)} (${range(ready.bare)})`,
          `${(median(ready.ours) / median(ready.bare)).toFixed(2)}x`,
        ],
        [
          'RSS MiB idle, median (range)',
          `${median(idleRss.ours).toFixed(0)} (${range(idleRss.ours)})`,
          `${median(idleRss.bare).toFixed(0)} (${range(idleRss.bare)})`,
          `${(median(idleRss.ours) / median(idleRss.bare)).toFixed(2)}x`,
        ],
        ...[
          ['RSS MiB right after the fill (runs in flight)', loaded.afterFill],
          [`RSS MiB with ${INCIDENTS} incidents × ${ALERTS_EACH} events, runs settled`, loaded.settled],
          ['  … and 10 s later, idle', loaded.idle10],
          ['  … and 30 s later, idle', loaded.idle30],
        ].map(([label, at]) => [
          `${label} (V8 heap in use MiB)`,
          `${at.rss.toFixed(0)} (${at.heap.toFixed(0)})`,
          '-',
          `${(at.rss / median(idleRss.bare)).toFixed(2)}x idle bare`,
        ]),
      ],
    ),
  );
  console.log(
    `  filled in ${loaded.fillSeconds.toFixed(1)} s from 4 clients; ${loaded.refused} of ${INCIDENTS} bodies refused (non-202); runs settled ${loaded.runs.seconds.toFixed(1)} s after (${loaded.runs.due} still due)`,
  );
  return {
    name: 'footprint',
    machine,
    cases: [
      {
        case: 'start → ready',
        summary: `${median(ready.ours).toFixed(0)} ms, ${(median(ready.ours) / median(ready.bare)).toFixed(2)}x the bare Bolt app`,
      },
      {
        case: `RSS at ${INCIDENTS}×${ALERTS_EACH}`,
        summary: `${loaded.settled.rss.toFixed(0)} MiB settled, ${loaded.idle30.rss.toFixed(0)} MiB 30 s later`,
      },
    ],
  };
}
