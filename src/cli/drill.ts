import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type Config, loadConfig } from '../config/load.js';
import { packageRoot } from '../config/paths.js';
import { allowAll } from '../domain/access.js';
import { CodedError } from '../domain/errors.js';
import { createDrillClock } from '../drills/clock.js';
import { type Facilitator, renderWaves, runDrill } from '../drills/runner.js';
import { loadScenarios, parseScenario } from '../drills/scenario.js';
import { renderScorecard } from '../drills/scorecard.js';
import type { Cluster } from '../k8s/cluster.js';
import { createSnapshotCluster } from '../k8s/snapshot-cluster.js';
import { readSnapshotFile } from '../k8s/snapshot-file.js';
import { createClusterIfConfigured, createCore, createRegistry, loadPolicy } from '../main.js';
import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import { createMemoryStore } from '../store/memory.js';
import { exportTimeline } from '../timeline/export.js';
import { complicated, describeComplications } from './drill-complications.js';
import { renderStepPreview } from './drill-preview.js';
import { promptFacilitator } from './facilitator.js';
import type { Io } from './io.js';

/** The example snapshot the embedded defaults drill against (a `prod` namespace with the additive-policy trap). */
export const EXAMPLE_SNAPSHOT = join(packageRoot, 'playbooks', 'drills', 'snapshots', 'prod.yaml');

export interface DrillArgs {
  scenario?: string;
  config?: string;
  format: 'md' | 'json';
  list: boolean;
  /** Run against the cluster in KUBECONFIG (or in-cluster): every change a server-side dry-run. */
  cluster: boolean;
  /** A facilitator answers at the prompt instead of stand-ins (`--auto`, the default). */
  interactive?: boolean;
  /** Run against a cluster snapshot (`kubectl get … -o yaml`) held in memory. */
  snapshot?: string;
}

interface DrillCluster {
  cluster: Cluster | undefined;
  /** The header line saying what the drill ran against. */
  said: string;
}

/**
 * What the drill runs against: the cluster (`--cluster`), a snapshot (`--snapshot FILE`), the example
 * snapshot (on the embedded defaults, neither given), or nothing (a config of one's own: plans only).
 */
async function drillCluster(args: DrillArgs, config: Config, log: Logger): Promise<DrillCluster> {
  if (args.cluster && args.snapshot !== undefined) {
    throw new CodedError('command_invalid', '--cluster and --snapshot exclude each other: drill against one');
  }
  if (args.cluster) {
    const cluster = await createClusterIfConfigured(config, log);
    if (!cluster) {
      throw new CodedError(
        'cluster_unavailable',
        '--cluster needs KUBECONFIG (or running in a pod) to reach a cluster',
      );
    }
    return {
      cluster,
      said: `Cluster ${cluster.name}: every Kubernetes change is sent as a server-side dry-run (dryRun=All).`,
    };
  }
  const example = args.snapshot === undefined && config.source === '(embedded defaults)';
  if (args.snapshot === undefined && !example) {
    return {
      cluster: undefined,
      said: 'No cluster, Slack or Redis: the embedded store, every action planned and dry-run only.',
    };
  }
  if (args.snapshot === '')
    throw new CodedError('command_invalid', '--snapshot needs a file (kubectl get … -o yaml > snap.yaml)');
  const file = args.snapshot ?? EXAMPLE_SNAPSHOT;
  const shown = example ? relative(packageRoot, EXAMPLE_SNAPSHOT) : file;
  const snapshot = await readSnapshotFile(file, 'command_invalid');
  const cluster = createSnapshotCluster({ ...snapshot, source: shown }, {});
  const what = example ? `the example snapshot ${shown}` : `snapshot ${shown}`;
  return {
    cluster,
    said: `Against ${what} (${snapshot.objects.length} objects, in memory; no cluster, Slack or Redis): every Kubernetes change is a dry-run, nothing outside this process is read or changed.`,
  };
}

/**
 * Run a tabletop drill on the embedded store against a cluster, a snapshot or nothing: every change a
 * dry-run, nothing outside the process changes. Prints the containment preview, the timeline and the
 * scorecard; exit 1 if it failed.
 */
export async function drillCommand(args: DrillArgs, io: Io): Promise<number> {
  const config = await loadConfig(io.env, args.config);
  const parse = {
    maxAlerts: config.intake.maxAlertsPerRequest,
    ...(config.intake.alertmanagerLabels ? { alertmanagerLabels: config.intake.alertmanagerLabels } : {}),
  };
  const found = await loadScenarios(config.drills, parse);
  if (args.list || !args.scenario) {
    io.out(`Drill scenarios in ${config.drills}:`);
    for (const { scenario } of found.scenarios) io.out(`  ${scenario.id.padEnd(24)} ${scenario.title}`);
    for (const err of found.errors) io.err(err.describe());
    if (!args.scenario && !args.list) io.out('\nRun one with: egress-responder drill <scenario>');
    return found.errors.length > 0 ? 1 : 0;
  }
  const byPath = [args.scenario, join(config.drills, `${args.scenario}.yaml`)].find(
    (p) => p.endsWith('.yaml') && existsSync(p),
  );
  const loaded = byPath
    ? parseScenario(await readFile(byPath, 'utf8'), byPath, parse)
    : found.scenarios.find((s) => s.scenario.id === args.scenario);
  if (!loaded) {
    const known = found.scenarios.map((s) => s.scenario.id).join(', ');
    throw new CodedError(
      'scenario_invalid',
      `no drill scenario "${args.scenario}" in ${config.drills}; known: ${known}`,
    );
  }

  const registry = createRegistry();
  const policy = await loadPolicy(config, registry);
  if (policy.errors.length > 0) {
    for (const err of policy.errors) io.err(err.describe());
    throw new CodedError(
      'playbook_invalid',
      'the playbooks or contracts have errors (see above); fix them or run `egress-responder validate`',
    );
  }
  const log = silentLogger();
  const target = await drillCluster(args, config, log);
  const cluster = target.cluster && complicated(target.cluster, loaded.scenario);
  const injected = describeComplications(loaded.scenario);
  const said = injected ? `${target.said}\n${injected}` : target.said;
  // Drill time: real time, moved forward when a scenario's follow-up alert arrives `after` its first.
  const clock = createDrillClock();
  const store = createMemoryStore({ clock });
  const core = createCore({ config, store, registry, policy, cluster, log, clock, access: allowAll });
  let facilitator: Facilitator | undefined;
  if (args.interactive) {
    const ask = io.ask;
    if (!ask) throw new CodedError('command_invalid', '--interactive needs a terminal to ask at');
    facilitator = promptFacilitator({ ...io, ask: (q) => ask.call(io, q) });
  }
  const report = await runDrill(core, loaded, {
    ...(facilitator ? { facilitator } : {}),
    parse: {
      maxAlerts: config.intake.maxAlertsPerRequest,
      ...(config.intake.alertmanagerLabels ? { alertmanagerLabels: config.intake.alertmanagerLabels } : {}),
    },
  });
  if (args.format === 'json') {
    io.out(
      JSON.stringify(
        {
          scorecard: report.scorecard,
          timeline: JSON.parse(exportTimeline('json', report.incident, report.events)),
        },
        null,
        2,
      ),
    );
  } else {
    io.out(`Tabletop drill "${loaded.scenario.title}" (${loaded.file})`);
    io.out(`${said}\n`);
    const contain = core.engine.stepFor(report.incident, 'contain');
    const preview = contain ? renderStepPreview(report.incident, contain.id, contain.title) : '';
    if (preview) io.out(preview);
    io.out(exportTimeline('md', report.incident, report.events));
    if (report.waves.length > 1) io.out(renderWaves(report.waves));
    io.out(renderScorecard(report.scorecard, report.incident));
  }
  await store.close();
  // PLAYED (ran through, nothing contained: no cluster) is a tabletop run, not a failure.
  return report.scorecard.verdict === 'failed' ? 1 : 0;
}
