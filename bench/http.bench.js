// http: POST /alerts end to end (fetch → node:http → parse → ingest → memory store → 202) on a local
// server, one client at a time and 16 concurrent clients. The server runs in a worker thread.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { measureConcurrent, report } from './harness.js';

const TOKEN = randomBytes(16).toString('hex');
const CONCURRENCY = 16;
const SEQUENTIAL = { warmup: 300, total: 3000 };
const CONCURRENT = { warmup: 500, total: 6000 };
const BUDGET_MS = 4000;

/** One egress event per request; `dst` picks the fingerprint, `n` the sender's request id. */
function body(dst, n) {
  return JSON.stringify({
    ts: '2026-11-25T14:03:12.123Z',
    event: 'egress.connect',
    src_service: 'payments-api',
    src_namespace: 'prod',
    src_identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
    dst_type: 'fqdn',
    dst_name: dst,
    dst_port: 443,
    protocol: 'https',
    decision: 'allow',
    request_id: `req-${dst}-${n}`,
  });
}

async function startServer() {
  const worker = new Worker(new URL('./http-server.js', import.meta.url), { workerData: { token: TOKEN } });
  const [first] = await once(worker, 'message');
  const ask = async (m) => {
    const reply = once(worker, 'message');
    worker.postMessage(m);
    return (await reply)[0];
  };
  return { url: `http://127.0.0.1:${first.port}/alerts`, worker, ask };
}

async function scenario(server, label, clients, sizes, bodyFor) {
  const statuses = {};
  const post = async (i) => {
    const res = await fetch(server.url, {
      method: 'POST',
      body: bodyFor(i),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    });
    await res.arrayBuffer();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  };
  const r = await measureConcurrent({ ...sizes, clients, maxMs: BUDGET_MS, fn: post });
  const { stats } = await server.ask('stats');
  return {
    case: label,
    unit: 'requests/s',
    ...r,
    note: `HTTP statuses (warm-up included) ${JSON.stringify(statuses)}; server now holds ${stats.incidents} open incidents, ${stats.alerts} alerts`,
  };
}

export async function run() {
  const server = await startServer();
  const cases = [];
  try {
    // A fold: the same fingerprint every time, distinct request ids (no retries).
    let n = 0;
    const fold = (dst) => () => body(dst, n++);
    // An open: a new fingerprint every time (a new registrable domain: subdomains of one would fold).
    let m = 0;
    const open = (tag) => () => body(`exfil.host-${tag}-${m++}.net`, 0);

    // JIT warm-up of client and server on both paths before the first measured case (without it the
    // first case reads ~40 % low whichever it is).
    await scenario(server, 'warm-up', 1, { warmup: 0, total: 1000 }, fold('warm.exfil.example.net'));
    await scenario(server, 'warm-up', 1, { warmup: 0, total: 1000 }, open('warm'));
    await scenario(server, 'warm-up', CONCURRENCY, { warmup: 0, total: 1000 }, open('warm-conc'));

    cases.push(
      await scenario(
        server,
        'sequential, storm (1 fingerprint)',
        1,
        SEQUENTIAL,
        fold('seq.exfil.example.net'),
      ),
    );
    cases.push(await scenario(server, 'sequential, new fingerprint each', 1, SEQUENTIAL, open('seq')));
    cases.push(
      await scenario(
        server,
        `${CONCURRENCY} clients, storm (1 fingerprint)`,
        CONCURRENCY,
        CONCURRENT,
        fold('conc.exfil.example.net'),
      ),
    );
    cases.push(
      await scenario(
        server,
        `${CONCURRENCY} clients, new fingerprint each`,
        CONCURRENCY,
        CONCURRENT,
        open('conc'),
      ),
    );
  } finally {
    server.worker.postMessage('close');
    await once(server.worker, 'exit');
  }
  return report(
    'http',
    {
      endpoint: 'POST /alerts, one egress event per request, bearer token, keep-alive (fetch/undici)',
      server: 'createHttpServer in a worker thread, memory store, shipped playbooks, no Slack, no onRecorded',
      serverWarmup: '1000 sequential folds + 1000 sequential opens + 1000 concurrent opens, not reported',
      sequential: SEQUENTIAL,
      concurrent: { clients: CONCURRENCY, ...CONCURRENT },
      timeBudgetPerCaseMs: BUDGET_MS,
    },
    cases,
  );
}
