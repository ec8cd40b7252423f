import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { allowAll } from '../../../src/domain/access.js';
import { runDrill } from '../../../src/drills/runner.js';
import { loadScenarios } from '../../../src/drills/scenario.js';
import { renderScorecard } from '../../../src/drills/scorecard.js';
import { createCore, createRegistry, loadPolicy } from '../../../src/main.js';
import { systemClock } from '../../../src/observability/clock.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createMemoryStore } from '../../../src/store/memory.js';
import { seedAdditiveTrap, trapCluster } from '../../builders/additive-trap.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// The scorecard a facilitator reads after a drill against a cluster (every change a server-side
// dry-run): the milestones come from the timeline, and an action the cluster would have refused is
// listed with its reason and the fix, here an RBAC gap on the pod label patch.

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());
beforeEach(() => seedAdditiveTrap(fake));

async function drill(scenarioId: string, targets: Record<string, number> = {}) {
  const config = await loadConfig({});
  const registry = createRegistry();
  const policy = await loadPolicy(config, registry);
  expect(policy.errors).toEqual([]);
  const store = createMemoryStore({ clock: systemClock });
  const core = createCore({
    config,
    store,
    registry,
    policy,
    cluster: trapCluster(fake),
    log: silentLogger(),
    access: allowAll,
  });
  const found = await loadScenarios(join(packageRoot, 'playbooks', 'drills'));
  const loaded = found.scenarios.find((s) => s.scenario.id === scenarioId)!;
  const withTargets = { ...loaded, scenario: { ...loaded.scenario, targets } };
  return runDrill(core, withTargets, { parse: { maxAlerts: 1000 } });
}

it('an RBAC gap on pods: the quarantine would have failed, the scorecard says why and how to fix it', async () => {
  fake.deny({ verb: 'patch', resource: 'pods', namespace: 'prod' });
  const report = await drill('exfil-unknown-fqdn');
  const { scorecard } = report;
  expect(scorecard.failures).toEqual([
    expect.objectContaining({
      step: 'contain',
      action: 'k8s.quarantine',
      code: 'action_failed',
      fix: 'the bot cannot patch pods in prod: add `patch` on `pods` to the Role bound in prod',
    }),
  ]);
  expect(scorecard.containment.state).toBe('not-contained');
  const text = renderScorecard(scorecard, report.incident);
  expect(text).toContain('actions that would have failed:');
  expect(text).toContain(
    'fix: the bot cannot patch pods in prod: add `patch` on `pods` to the Role bound in prod',
  );
  // Nothing reached the cluster for real.
  const writes = fake.requestsMatching({ method: ['POST', 'PUT', 'PATCH', 'DELETE'] });
  expect(writes.filter((r) => r.query.dryRun !== 'All')).toEqual([]);
});

it('milestones from the timeline agree with it, and targets read met or missed', async () => {
  const report = await drill('exfil-unknown-fqdn', { triage: 60_000, contain: 0 });
  const { scorecard, events } = report;
  const byName = Object.fromEntries(scorecard.milestones.map((m) => [m.name, m]));
  const t0 = Date.parse(report.incident.firstSeen);
  const at = (pred: (e: (typeof events)[number]) => boolean) => Date.parse(events.find(pred)!.at) - t0;

  expect(scorecard.containment.state).toBe('contained-dry-run');
  expect(byName.contain!.ms).toBe(at((e) => e.kind === 'status.changed' && e.details.to === 'contained'));
  expect(byName.contain!.ms).toBe(scorecard.timeToContainMs);
  expect(byName.triage!.ms).toBe(at((e) => e.kind === 'step.completed' && e.details.step === 'triage'));
  expect(byName.triage).toMatchObject({ targetMs: 60_000, met: true });
  // A zero target cannot be met by a containment that took any time at all.
  expect(byName.contain).toMatchObject({ targetMs: 0, met: byName.contain!.ms === 0 });
  // The seed's pods are bare (no Deployment): the rotation's rollout restart would have failed.
  expect(byName.rotate).toMatchObject({ note: 'not reached' });
  expect(scorecard.failures).toEqual([
    expect.objectContaining({
      step: 'rotate',
      action: 'k8s.rollout-restart',
      fix: expect.stringContaining('the workload to restart is not Deployment prod/payments-api'),
    }),
  ]);
  // Nobody acknowledged: the autopilot confirms and approves, and says so rather than inventing a time.
  expect(byName.acknowledge).toMatchObject({ note: 'not reached' });
  expect(byName.acknowledge!.ms).toBeUndefined();
  const text = renderScorecard(scorecard, report.incident);
  expect(text).toMatch(/time to triage verdict: [\d:.]+ — target 00:01:00.000: met/);
  expect(text).toMatch(/targets: [12] of 2 met/);
});
