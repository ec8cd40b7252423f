// ingest: an alert storm (10,000 alerts of one fingerprint folded into one incident) and 1,000
// distinct fingerprints (1,000 incidents opened), each alert its own recordAlerts() call as if it
// had arrived in its own request; with the memory store and with Redis. Parsing is done beforehand.
import { recordAlerts } from '../dist/incidents/record-alerts.js';
import { fingerprint as fingerprintOf } from '../dist/intake/fingerprint.js';
import { parseAlertBody } from '../dist/intake/parse.js';
import { coreOver, loadParts, memoryStore, REDIS_URL, redisStore } from './engine-setup.js';
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

async function storm(core, tag) {
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
      const [res] = await recordAlerts(core.recorder, batches[i]);
      if (i >= STORM_WARMUP) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      fingerprint = fingerprintOf(batches[i].alerts[0]);
    },
  });
  const open = await core.store.incidents.byFingerprint(fingerprint);
  return { ...r, note: `statuses ${JSON.stringify(statuses)}; incident count ${open?.count}` };
}

/**
 * One round: a fresh store, DISTINCT alerts of distinct fingerprints, DISTINCT incidents opened (each
 * its own registrable domain: subdomains of one domain would fold into one incident).
 */
async function distinctRound(core, tag) {
  const batches = [];
  for (let n = 0; n < DISTINCT_WARMUP; n++) batches.push(batchFor(`exfil.warm-${tag}-${n}.net`, n));
  for (let n = 0; n < DISTINCT; n++) batches.push(batchFor(`exfil.host-${tag}-${n}.net`, n));
  const statuses = {};
  const r = await measure({
    warmup: DISTINCT_WARMUP,
    iterations: DISTINCT,
    maxMs: 15_000,
    fn: async (i) => {
      const [res] = await recordAlerts(core.recorder, batches[i]);
      if (i >= DISTINCT_WARMUP) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    },
  });
  return { r, statuses };
}

/** ROUNDS rounds of distinctRound, each on a store from `freshEngine()`; samples pooled. */
async function distinct(freshCore, tag) {
  const rounds = [];
  const statuses = {};
  for (let k = 0; k < ROUNDS; k++) {
    const { core, done } = await freshCore(k);
    try {
      const round = await distinctRound(core, `${tag}-${k}`);
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
  const cases = [];
  let deleted = 0;

  const mem = coreOver(parts, memoryStore(), `ingest-${process.pid}`);
  cases.push({
    case: `memory: storm, ${STORM} alerts → 1 incident`,
    unit: 'alerts/s',
    ...(await storm(mem, 'mem')),
  });
  await mem.store.close();
  cases.push({
    case: `memory: ${DISTINCT} fingerprints → ${DISTINCT} incidents (×${ROUNDS})`,
    unit: 'alerts/s',
    ...(await distinct(async () => {
      const store = memoryStore();
      return { core: coreOver(parts, store, `ingest-mem-${process.pid}`), done: () => store.close() };
    }, 'mem')),
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
        core: coreOver(parts, redis.store, `ingest-${label}`),
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
        ...(await storm(stormRedis.core, 'redis')),
      });
    } finally {
      await stormRedis.done();
    }
    cases.push({
      case: `redis: ${DISTINCT} fingerprints → ${DISTINCT} incidents (×${ROUNDS})`,
      unit: 'alerts/s',
      ...(await distinct((k) => freshRedis(`ingest-open-${k}`), 'redis')),
    });
    console.log(`redis: deleted the benchmark's ${deleted} keys (prefix egress-responder-bench:ingest-*)`);
  }

  return report(
    'ingest',
    {
      function: 'recordAlerts(recorder, batch of 1 alert), one call per alert, sequential',
      playbooks: 'shipped (playbooks/), embedded default config, no cluster',
      incidentIds: 'deterministic unique ids (coreOver in engine-setup.js)',
      storm: { alerts: STORM, warmup: STORM_WARMUP, requestIds: 'distinct (none is a retry)' },
      distinct: { fingerprints: DISTINCT, warmup: DISTINCT_WARMUP, rounds: ROUNDS, store: 'fresh per round' },
      redis: probe.skipped ? `skipped: ${probe.skipped}` : REDIS_URL,
    },
    cases,
  );
}
