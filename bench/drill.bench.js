// drill: the full default drill (exfil-unknown-fqdn: 1 alert + 50 repeats, then the whole
// egress-anomaly playbook on autopilot, every action a dry-run), memory store, no cluster.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../dist/config/paths.js';
import { runDrill } from '../dist/drills/runner.js';
import { parseScenario } from '../dist/drills/scenario.js';
import { coreOver, loadParts, memoryStore } from './engine-setup.js';
import { measure, report } from './harness.js';

const SCENARIO = 'exfil-unknown-fqdn';
const run$ = promisify(execFile);

export async function run() {
  const file = join(packageRoot, 'playbooks', 'drills', `${SCENARIO}.yaml`);
  const text = await readFile(file, 'utf8');
  const parts = await loadParts();
  const loaded = parseScenario(text, file);
  const opts = { parse: { maxAlerts: parts.config.intake.maxAlertsPerRequest } };
  const once = async () => {
    // A fresh store and engine per drill, as `egress-responder drill` makes them.
    const store = memoryStore();
    const report = await runDrill(coreOver(parts, store), loaded, opts);
    await store.close();
    return report;
  };

  const first = await once();
  const drill = await measure({ warmup: 20, iterations: 200, maxMs: 5000, fn: once });

  // What the CLI does before the drill: config, action registry, playbooks and contracts, scenario.
  const setup = await measure({
    warmup: 5,
    iterations: 100,
    maxMs: 3000,
    fn: async () => {
      const p = await loadParts();
      parseScenario(await readFile(file, 'utf8'), file);
      return p;
    },
  });

  // The whole command, cold: a new Node process each time (module loading dominates).
  const bin = join(packageRoot, 'bin', 'egress-responder.js');
  const { REDIS_URL: _ignored, ...env } = process.env;
  const cli = await measure({
    warmup: 1,
    iterations: 5,
    maxMs: 5000,
    fn: () => run$(process.execPath, [bin, 'drill', SCENARIO], { env, maxBuffer: 16 * 2 ** 20 }),
  });

  const steps = first.incident.steps.map((s) => `${s.id}:${s.status}`).join(' ');
  return report(
    'drill',
    {
      scenario: `playbooks/drills/${SCENARIO}.yaml (1 alert + ${loaded.scenario.repeats} repeats)`,
      playbook: first.incident.playbook.id,
      store: 'memory (fresh per drill)',
      cluster: 'none (actions plan and dry-run only)',
    },
    [
      {
        case: 'runDrill (intake → playbook → scorecard)',
        unit: 'drills/s',
        ...drill,
        note: `scorecard ${first.scorecard.passed ? 'PASSED' : 'FAILED'} ${first.scorecard.score}/100, status ${first.incident.status}, ${first.events.length} timeline events; steps ${steps}`,
      },
      { case: 'CLI setup (config, registry, policy, scenario)', unit: 'setups/s', ...setup },
      {
        case: `\`egress-responder drill ${SCENARIO}\` (new process)`,
        unit: 'runs/s',
        ...cli,
        note: 'cold start: node startup + module loading + setup + drill + printing',
      },
    ],
  );
}
