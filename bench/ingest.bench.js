// ingest: an alert storm (10,000 alerts of one fingerprint folded into one incident) and 1,000
// distinct fingerprints (1,000 incidents opened), each alert its own ingest() call as if it had
// arrived in its own request; with the memory store and with Redis. Parsing is done beforehand.
import { ingest } from '../dist/engine/ingest.js';
import { parseAlertBody } from '../dist/intake/parse.js';
import { engineOver, ingestOptions, loadParts, memoryStore, REDIS_URL, redisStore } from './engine-setup.js';
import { BASE_TIME } from './fixtures.js';
import { combine, measure, report } from './harness.js';

const STORM = 10_000;
const STORM_WARMUP = 500;
const DISTINCT = 1_000;
const DISTINCT_WARMUP = 100;
/** Rounds of the distinct case, each on a fresh store: 1,000 samples alone swing with one GC pause. */
const ROUNDS = 5;

/** One parsed single-alert batch; `dst` picks the fingerprint, `n` the sender's request id. */
function batchFor(dst, n) {
  const body = JSON.stringify({
    ts: new Date(BASE_TIME + n).toISOString(),
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
  return parseAlertBody(body, 'application/json', { receivedAt: BASE_TIME + n });
}

async function storm(engine, opts, tag) {
  const batches = [];
  for (let n = 0; n < STORM_WARMUP; n++) batches.push(batchFor(`warm-${tag}.exfil.example.net`, n));
  for (let n = 0; n < STORM; n++) batches.push(batchFor(`storm-${tag}.exfil.example.net`, n));
  const statuses = {};
  let fingerprint;
  const r = await measure({
    warmup: STORM_WARMUP,
    iterations: STORM,
    maxMs: 15_000,
    fn: async (i) => {
      const [res] = await ingest(engine, batches[i], opts);
      if (i >= STORM_WARMUP) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      fingerprint = res.fingerprint;
    },
  });
  const open = await engine.deps.store.incidents.byFingerprint(fingerprint);
  return { ...r, note: `statuses ${JSON.stringify(statuses)}; incident count ${open?.count}` };
}

/** One round: a fresh store, DISTINCT alerts of distinct fingerprints, DISTINCT incidents opened. */
async function distinctRound(engine, opts, tag) {
  const batches = [];
  for (let n = 0; n < DISTINCT_WARMUP; n++) batches.push(batchFor(`warm-${tag}-${n}.example.net`, n));
  for (let n = 0; n < DISTINCT; n++) batches.push(batchFor(`host-${tag}-${n}.example.net`, n));
  const statuses = {};
  const r = await measure({
    warmup: DISTINCT_WARMUP,
    iterations: DISTINCT,
    maxMs: 15_000,
    fn: async (i) => {
      const [res] = await ingest(engine, batches[i], opts);
      if (i >= DISTINCT_WARMUP) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    },
  });
  return { r, statuses };
}

/** ROUNDS rounds of distinctRound, each on a store from `freshEngine()`; samples pooled. */
async function distinct(freshEngine, opts, tag) {
  const rounds = [];
  const statuses = {};
  for (let k = 0; k < ROUNDS; k++) {
    const { engine, done } = await freshEngine(k);
    try {
      const round = await distinctRound(engine, opts, `${tag}-${k}`);
      rounds.push(round.r);
      for (const [status, n] of Object.entries(round.statuses))
        statuses[status] = (statuses[status] ?? 0) + n;
    } finally {
      await done();
    }
  }
  const perRound = rounds.map((r) => Math.round(r.unitsPerSec)).join(', ');
  return {
    ...combine(rounds),
    note: `statuses over ${ROUNDS} rounds ${JSON.stringify(statuses)}; alerts/s per round ${perRound}`,
  };
}

export async function run() {
  const parts = await loadParts();
  const opts = ingestOptions(parts, `ingest-${process.pid}`);
  const cases = [];
  let deleted = 0;

  const mem = engineOver(parts, memoryStore());
  cases.push({
    case: `memory: storm, ${STORM} alerts → 1 incident`,
    unit: 'alerts/s',
    ...(await storm(mem, opts, 'mem')),
  });
  await mem.deps.store.close();
  cases.push({
    case: `memory: ${DISTINCT} fingerprints → ${DISTINCT} incidents (×${ROUNDS})`,
    unit: 'alerts/s',
    ...(await distinct(
      async () => {
        const store = memoryStore();
        return { engine: engineOver(parts, store), done: () => store.close() };
      },
      opts,
      'mem',
    )),
  });

  const probe = await redisStore('ingest-probe');
  if (probe.skipped) {
    cases.push({ case: 'redis: storm', unit: 'alerts/s', skipped: probe.skipped });
    cases.push({ case: 'redis: distinct fingerprints', unit: 'alerts/s', skipped: probe.skipped });
  } else {
    deleted += await probe.cleanup();
    const freshRedis = async (label) => {
      const redis = await redisStore(label);
      if (redis.skipped) throw new Error(`Redis went away during the benchmark: ${redis.skipped}`);
      return {
        engine: engineOver(parts, redis.store),
        done: async () => {
          deleted += await redis.cleanup();
        },
      };
    };
    const stormRedis = await freshRedis('ingest-storm');
    try {
      cases.push({
        case: `redis: storm, ${STORM} alerts → 1 incident`,
        unit: 'alerts/s',
        ...(await storm(stormRedis.engine, opts, 'redis')),
      });
    } finally {
      await stormRedis.done();
    }
    cases.push({
      case: `redis: ${DISTINCT} fingerprints → ${DISTINCT} incidents (×${ROUNDS})`,
      unit: 'alerts/s',
      ...(await distinct((k) => freshRedis(`ingest-open-${k}`), opts, 'redis')),
    });
    console.log(`redis: deleted the benchmark's ${deleted} keys (prefix egress-responder-bench:ingest-*)`);
  }

  return report(
    'ingest',
    {
      function: 'ingest(engine, batch of 1 alert, opts), one call per alert, sequential',
      playbooks: 'shipped (playbooks/), embedded default config, no cluster',
      incidentIds: 'deterministic unique ids from opts.newId (see engine-setup.js)',
      storm: { alerts: STORM, warmup: STORM_WARMUP, requestIds: 'distinct (none is a retry)' },
      distinct: { fingerprints: DISTINCT, warmup: DISTINCT_WARMUP, rounds: ROUNDS, store: 'fresh per round' },
      redis: probe.skipped ? `skipped: ${probe.skipped}` : REDIS_URL,
    },
    cases,
  );
}
