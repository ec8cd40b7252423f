// contain: time to containment, side by side. One alert for a workload of 1, 50 or 500 pods, on the
// fake Kubernetes API (test/fakes/kube-api, compiled with swc at start) with 5 ms added to every
// request, three ways in the same run, alternating their order each round:
//   ours     the shipped egress-anomaly playbook in `hard` mode (config `modes: { prod: hard }`) on the
//            built engine (memory store, the real KubeCluster): from recordAlerts to the contain step's
//            `step.completed` event (pods labelled, deny-egress applied and verified, detach, l7);
//   floor    the least @kubernetes/client-node does for the same result: list the pods, label each
//            (merge patch, 5 at a time like k8s.quarantine), server-side apply the deny-all policy,
//            list the policies to verify it is there;
//   kubectl  the runbook: `kubectl label pods -l app=X quarantine=true` + `kubectl apply -f deny.yaml`
//            (discovery cache kept between runs, as on an operator's laptop). Skipped without kubectl.
// Figures are printed, never asserted.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { recordAlerts } from '../dist/incidents/record-alerts.js';
import { parseAlertBody } from '../dist/intake/parse.js';
import { createKubeCluster } from '../dist/k8s/kube-cluster.js';
import { createCore, loadPolicy } from '../dist/main.js';
import { silentLogger } from '../dist/observability/logger.js';
import { compileTs } from './compile-ts.js';
import { loadParts, memoryStore } from './engine-setup.js';
import { machineFacts, table } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const NS = 'prod';
const LATENCY_MS = 5;
const SIZES = [1, 50, 500];
/** Rounds per size (each round runs every side once); fewer for 500 pods, where kubectl takes seconds. */
const ROUNDS = { 1: 7, 50: 5, 500: 3 };
const LABEL_CONCURRENCY = 5;
const SIDES = ['ours', 'floor', 'kubectl'];

const QUARANTINE = '      - uses: k8s.quarantine';

/**
 * The shipped egress-anomaly playbook with k8s.quarantine's `max_pods` raised to the largest size: by
 * default it refuses a selector that matches more than 20 pods (a responder widens it on purpose).
 */
async function benchPolicy(parts, dir) {
  const shipped = readFileSync(join(root, 'playbooks', 'egress-anomaly.yaml'), 'utf8');
  if (!shipped.includes(QUARANTINE)) throw new Error('the shipped playbook has no k8s.quarantine line');
  mkdirSync(dir);
  const widened = `${QUARANTINE}\n        with: { max_pods: ${Math.max(...SIZES)} }`;
  writeFileSync(join(dir, 'egress-anomaly.yaml'), shipped.replace(QUARANTINE, widened));
  const policy = await loadPolicy({ playbooks: dir, contracts: parts.config.contracts }, parts.registry);
  if (policy.errors.length > 0) throw new Error(policy.errors.map((e) => e.message).join('; '));
  return policy;
}

const denyPolicy = (namespace) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace, name: 'quarantine-deny-egress' },
  spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Egress'], egress: [] },
});

/** Empty the fake and give it `pods` pods of app `app` (each round gets its own app, so its own incident). */
function seed(fake, kube, app, pods) {
  fake.reset();
  fake.fail({ delayMs: LATENCY_MS, times: Number.POSITIVE_INFINITY });
  for (let i = 0; i < pods; i++) {
    fake.put(kube.aPod({ namespace: NS, name: `${app}-${i}`, labels: { app }, serviceAccountName: app }));
  }
}

const elapsedMs = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function ours(env, app) {
  const store = memoryStore();
  let contained;
  const done = new Promise((resolve) => {
    contained = resolve;
  });
  const observer = {
    onEvent(event) {
      if (event.kind === 'step.completed' && event.details?.step === 'contain') contained(event);
    },
  };
  const core = createCore({
    ...env.parts,
    store,
    cluster: env.cluster,
    log: silentLogger(),
    observers: [observer],
  });
  const body = JSON.stringify({
    src_service: app,
    src_namespace: NS,
    src_identity: `spiffe://cluster.local/ns/${NS}/sa/${app}`,
    dst_type: 'fqdn',
    dst_name: 'paste.exfil.example.net',
    dst_port: 443,
    protocol: 'https',
  });
  const t0 = process.hrtime.bigint();
  const batch = parseAlertBody(body, 'application/json', { receivedAt: Date.now() });
  const [opened] = await recordAlerts(core.recorder, batch);
  const run = core.engine.advance(opened.id);
  const event = await Promise.race([done, run.then(() => undefined)]);
  const ms = elapsedMs(t0);
  const inc = await run; // the rest of the playbook is not timed, but ends before the next run
  if (!event) throw new Error(`contain step did not complete (incident ${inc.status})`);
  // Said once per size: the app's name differs from run to run, the outcome should not.
  return { ms, status: inc.status, summary: event.summary.replaceAll(app, '<app>') };
}

async function floor(env, app) {
  const { core, net } = env.floorClients;
  const t0 = process.hrtime.bigint();
  const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` });
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const names = pods.items.map((p) => p.metadata.name);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < names.length; i = next++) {
      await core.patchNamespacedPod(
        {
          name: names[i],
          namespace: NS,
          body: { metadata: { labels: { quarantine: 'true' } } },
          fieldManager: 'bench',
        },
        merge,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(LABEL_CONCURRENCY, names.length) }, lane));
  await net.patchNamespacedNetworkPolicy(
    {
      name: 'quarantine-deny-egress',
      namespace: NS,
      body: denyPolicy(NS),
      fieldManager: 'bench',
      force: true,
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
  );
  const policies = await net.listNamespacedNetworkPolicy({ namespace: NS });
  if (!policies.items.some((p) => p.metadata.name === 'quarantine-deny-egress'))
    throw new Error('floor: the deny policy is not there');
  return { ms: elapsedMs(t0), status: `${names.length} labelled` };
}

function kubectl(env, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'kubectl',
      [`--kubeconfig=${env.kubeconfig}`, `--cache-dir=${env.kubectlCache}`, ...args],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`kubectl ${args[0]}: ${err.trim()}`)),
    );
  });
}

async function runbook(env, app) {
  const t0 = process.hrtime.bigint();
  await kubectl(env, ['label', 'pods', '-n', NS, '-l', `app=${app}`, 'quarantine=true', '--overwrite']);
  await kubectl(env, ['apply', '-f', env.denyFile]);
  return { ms: elapsedMs(t0), status: 'labelled, applied' };
}

const RUNNERS = { ours, floor, kubectl: runbook };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const cell = (xs) =>
  xs.length === 0 ? '-' : `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;

export async function run() {
  const out = mkdtempSync(join(tmpdir(), 'egress-contain-bench-'));
  let fake;
  try {
    const files = compileTs(root, ['test/fakes/kube-api/index.ts'], out);
    const kube = await import(pathToFileURL(join(out, 'test/fakes/kube-api/index.js')).href);
    fake = await kube.startFakeKubeApi();
    const parts = await loadParts();
    const kubeconfig = fake.kubeconfig({ namespace: NS });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const denyFile = join(out, 'deny.yaml');
    writeFileSync(denyFile, JSON.stringify(denyPolicy(NS)));
    const hasKubectl = !spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error;
    const env = {
      parts: {
        ...parts,
        policy: await benchPolicy(parts, join(out, 'playbooks')),
        config: { ...parts.config, modes: { [NS]: 'hard' } },
      },
      // One Cluster for every run, as one serve process keeps one (its discovery cache warm after the first).
      cluster: createKubeCluster({ kubeconfigPath: kubeconfig }),
      floorClients: { core: kc.makeApiClient(k8s.CoreV1Api), net: kc.makeApiClient(k8s.NetworkingV1Api) },
      kubeconfig,
      kubectlCache: join(out, 'kubectl-cache'),
      denyFile,
    };
    console.log(`contain: fake kube-api compiled (${files} files), ${LATENCY_MS} ms per request`);
    const sides = hasKubectl ? SIDES : SIDES.filter((s) => s !== 'kubectl');
    // Warm-up: each side once at 1 pod (JIT, the Cluster's discovery, kubectl's discovery cache).
    for (const side of sides) {
      seed(fake, kube, `warm-${side}`, 1);
      await RUNNERS[side](env, `warm-${side}`);
    }
    const results = {};
    for (const size of SIZES) {
      results[size] = { ours: [], floor: [], kubectl: [], statuses: new Set() };
      for (let round = 0; round < ROUNDS[size]; round++) {
        const order = sides.map((_, i) => sides[(i + round) % sides.length]);
        for (const side of order) {
          const app = `app-${size}-${round}-${side}`;
          seed(fake, kube, app, size);
          const r = await RUNNERS[side](env, app);
          results[size][side].push(r.ms);
          if (side === 'ours') results[size].statuses.add(`${r.status}: ${r.summary}`);
        }
      }
    }
    return printed(results, hasKubectl);
  } finally {
    await fake?.close();
    rmSync(out, { recursive: true, force: true });
  }
}

function printed(results, hasKubectl) {
  const machine = machineFacts();
  console.log('\n## contain');
  console.log(
    `parameters: ${JSON.stringify({ sizes: SIZES, rounds: ROUNDS, latencyMs: LATENCY_MS, labelConcurrency: LABEL_CONCURRENCY, store: 'memory' })}`,
  );
  console.log(
    `machine: node ${machine.node}, ${machine.cpu}, ${machine.cores} cores; load average (1 min) at the end: ${machine.load1}`,
  );
  const rows = SIZES.map((size) => {
    const r = results[size];
    return [
      `${size} pod${size === 1 ? '' : 's'}`,
      cell(r.ours),
      cell(r.floor),
      hasKubectl ? cell(r.kubectl) : 'skipped',
      `${(median(r.ours) / median(r.floor)).toFixed(2)}x`,
      hasKubectl ? `${(median(r.kubectl) / median(r.floor)).toFixed(2)}x` : '-',
    ];
  });
  console.log(
    table(['pods', 'ours ms, median (range)', 'floor ms', 'kubectl ms', 'ours/floor', 'kubectl/floor'], rows),
  );
  for (const size of SIZES) console.log(`  ${size} pods, ours: ${[...results[size].statuses].join(' | ')}`);
  if (!hasKubectl) console.log('  kubectl: SKIPPED (not on PATH)');
  return {
    name: 'contain',
    machine,
    cases: SIZES.map((size) => {
      const r = results[size];
      const kubectlPart = hasKubectl ? `, kubectl ${fmt(median(r.kubectl))} ms` : '';
      return {
        case: `${size} pods`,
        summary: `ours ${fmt(median(r.ours))} ms, ${(median(r.ours) / median(r.floor)).toFixed(2)}x the floor (${fmt(median(r.floor))} ms)${kubectlPart}`,
      };
    }),
  };
}
