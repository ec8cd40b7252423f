// expiry: how long after a break-glass grant's expiry its NetworkPolicy is gone, with the bot up (the
// serve worker loop taking the grant's schedule item, as `serve` runs it) and across a restart (no
// process up at the expiry; the new process's start-up reconcile pass). The cluster is the example
// snapshot held in memory (the bot's own latency, not the API server's). Baseline in the same run: a
// bare setTimeout at the expiry deleting the object directly, the floor any expiry mechanism has.
import { join } from 'node:path';
import { startGrantReconciler } from '../dist/breakglass/reconcile-loop.js';
import { Breakglass } from '../dist/breakglass/service.js';
import { packageRoot } from '../dist/config/paths.js';
import { allowAll } from '../dist/domain/access.js';
import { startWorker } from '../dist/engine/worker-loop.js';
import { recordAlerts } from '../dist/incidents/record-alerts.js';
import { parseAlertBody } from '../dist/intake/parse.js';
import { createSnapshotCluster } from '../dist/k8s/snapshot-cluster.js';
import { readSnapshotFile } from '../dist/k8s/snapshot-file.js';
import { createCore, grantItemHandlers } from '../dist/main.js';
import { systemClock } from '../dist/observability/clock.js';
import { silentLogger } from '../dist/observability/logger.js';
import { loadParts, memoryStore } from './engine-setup.js';
import { latencySummary, report } from './harness.js';

const GRANTS = 30;
const DURATION_MS = 1000;
/** Expiries spread over this much, so the worker's polling phase is sampled, not one instant. */
const SPREAD_MS = 1100;
const POLL_MS = 5;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const spec = {
  kind: 'egress-exception',
  namespace: 'prod',
  source: { kind: 'selector', podSelector: { app: 'payments-api' } },
  destination: { kind: 'cidr', cidr: '203.0.113.7/32' },
  ports: [{ port: 443, protocol: 'TCP' }],
};

async function setup(parts) {
  const snapshot = await readSnapshotFile(
    join(packageRoot, 'playbooks', 'drills', 'snapshots', 'prod.yaml'),
    'command_invalid',
  );
  const cluster = createSnapshotCluster(snapshot, {});
  const store = memoryStore();
  const log = silentLogger();
  const core = createCore({ ...parts, store, cluster, log, clock: systemClock, access: allowAll });
  const batch = parseAlertBody(
    JSON.stringify({
      src_service: 'payments-api',
      src_namespace: 'prod',
      dst_type: 'fqdn',
      dst_name: 'paste.exfil.example.net',
      dst_port: 443,
      protocol: 'https',
    }),
    'application/json',
    { receivedAt: Date.now() },
  );
  const [opened] = await recordAlerts(core.recorder, batch);
  const bg = (over = {}) =>
    new Breakglass({
      store,
      journal: core.journal,
      clock: systemClock,
      log,
      cluster,
      config: {
        ...parts.config.breakglass,
        maxDuration: { 'egress-exception': 3_600_000, 'access-elevation': 3_600_000 },
      },
      namespaces: parts.config.namespaces,
      access: allowAll,
      ...over,
    });
  return { cluster, store, core, log, incidentId: opened.id, bg };
}

/** Request and approve `n` grants whose expiries fall `i * spread/n` apart; their policy refs and expiries. */
async function grantMany(s, service, n, durationMs, spreadMs) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const g = await service.request(
      {
        incidentId: s.incidentId,
        spec,
        durationMs: durationMs + Math.round((i * spreadMs) / n),
        reason: 'bench',
      },
      { actor: 'cli:alice', requestId: `bench-${process.pid}-${Date.now()}-${i}` },
    );
    const applied = await service.approve(g.id, 'cli:bob');
    if (applied.status !== 'active') throw new Error(`grant ${g.id} is ${applied.status}, not active`);
    out.push({ ref: { ...applied.objects[0] }, expiresAt: Date.parse(applied.expiresAt) });
  }
  return out;
}

/** Poll until each object is gone; the time from its expiry (or from `from`) to when it was seen gone. */
async function goneAfter(cluster, items, from = (it) => it.expiresAt, timeoutMs = 30_000) {
  const left = new Set(items);
  const samples = [];
  const until = Date.now() + timeoutMs;
  while (left.size > 0 && Date.now() < until) {
    for (const it of [...left]) {
      if (!(await cluster.get(it.ref))) {
        samples.push(Math.max(0, Date.now() - from(it)) * 1e6);
        left.delete(it);
      }
    }
    await sleep(POLL_MS);
  }
  return { samples, missing: left.size };
}

function row(name, unit, samples, note) {
  const latency = latencySummary(samples);
  // Latency is the figure here; a rate would mean nothing (the grants wait for their expiry).
  return {
    case: name,
    unit,
    unitsPerSec: Number.NaN,
    callsPerSec: Number.NaN,
    latency,
    calls: samples.length,
    cpuPct: '-',
    note,
  };
}

export async function run() {
  const parts = await loadParts();
  const cases = [];

  // The bot up: the serve worker loop at the configured interval, with the grant row.
  {
    const s = await setup(parts);
    const service = s.bg();
    const worker = startWorker(
      s.core.engine,
      s.log,
      parts.config.engine.workEvery,
      grantItemHandlers(service),
    );
    const items = await grantMany(s, service, GRANTS, DURATION_MS, SPREAD_MS);
    const { samples, missing } = await goneAfter(s.cluster, items);
    await worker.stop(5000);
    cases.push(
      row(
        'bot up: expiry → policy gone',
        'grant',
        samples,
        `worker every ${parts.config.engine.workEvery} ms; ${missing} of ${GRANTS} not gone within 30 s`,
      ),
    );
    await s.store.close();
  }

  // Baseline: a timer at each expiry deleting the object directly (no store, no lock, no timeline).
  {
    const s = await setup(parts);
    const service = s.bg();
    const items = await grantMany(s, service, GRANTS, DURATION_MS, SPREAD_MS);
    for (const it of items) {
      setTimeout(
        () => void s.cluster.delete(it.ref, { dryRun: false }),
        Math.max(0, it.expiresAt - Date.now()),
      );
    }
    const { samples } = await goneAfter(s.cluster, items);
    cases.push(
      row(
        'baseline: setTimeout + delete',
        'grant',
        samples,
        'the floor: a timer in the process that made the grant',
      ),
    );
    await s.store.close();
  }

  // Restart spanning the expiry: no worker while the grants expire; then a new process's reconciler.
  {
    const s = await setup(parts);
    const items = await grantMany(s, s.bg(), GRANTS, 300, 0);
    await sleep(Math.max(...items.map((it) => it.expiresAt)) - Date.now() + 500);
    const restartedAt = Date.now();
    const reconciler = startGrantReconciler(s.bg(), s.log, parts.config.breakglass.reconcileEvery);
    const { samples, missing } = await goneAfter(s.cluster, items, () => restartedAt);
    await reconciler.stop();
    cases.push(
      row(
        'restart after expiry: start → policy gone',
        'grant',
        samples,
        `the start-up reconcile pass (period ${parts.config.breakglass.reconcileEvery / 1000} s); ${missing} not gone`,
      ),
    );
    await s.store.close();
  }

  return report(
    'expiry',
    { grants: GRANTS, durationMs: DURATION_MS, spreadMs: SPREAD_MS, pollMs: POLL_MS },
    cases,
  );
}
