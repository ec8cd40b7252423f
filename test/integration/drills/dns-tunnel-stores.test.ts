import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { allowAll } from '../../../src/domain/access.js';
import { createDrillClock } from '../../../src/drills/clock.js';
import { runDrill } from '../../../src/drills/runner.js';
import { loadScenarios } from '../../../src/drills/scenario.js';
import { createCore, createRegistry, loadPolicy } from '../../../src/main.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createMemoryStore } from '../../../src/store/memory.js';
import { createRedisStore } from '../../../src/store/redis.js';
import type { Store } from '../../../src/store/store.js';
import { deleteKeys, redisUrl, uniquePrefix } from '../../support/redis.js';

// The shipped DNS-tunnelling scenario on both stores: 3 001 queries naming 3 000 unique subdomains of
// tunnel-example.net open exactly one incident, which counts exactly 3 000 distinct hosts.

const prefix = uniquePrefix('dns-tunnel-drill');
afterAll(async () => {
  await deleteKeys(prefix);
});

async function tunnelDrill(store: Store) {
  const config = await loadConfig({});
  const registry = createRegistry();
  const policy = await loadPolicy(config, registry);
  const clock = createDrillClock();
  const core = createCore({
    config,
    store,
    registry,
    policy,
    cluster: undefined,
    log: silentLogger(),
    clock,
    access: allowAll,
  });
  const found = await loadScenarios(join(packageRoot, 'playbooks', 'drills'));
  const loaded = found.scenarios.find((s) => s.scenario.id === 'dns-tunnel')!;
  return runDrill(core, loaded, { parse: { maxAlerts: 1000 } });
}

describe.each([
  ['memory', () => createMemoryStore({ clock: createDrillClock() })],
  ['redis', () => createRedisStore({ url: redisUrl(), keyPrefix: prefix })],
])('dns-tunnel drill on the %s store', (_name, make) => {
  it('opens one incident with 3001 alerts and exactly 3000 distinct hosts', async () => {
    const store = make();
    try {
      const report = await tunnelDrill(store);
      expect(report.incidents).toHaveLength(1);
      expect(await store.incidents.list()).toHaveLength(1);
      expect(report.intake.filter((r) => r.status === 'opened')).toHaveLength(1);
      expect(report.intake.filter((r) => r.status === 'folded')).toHaveLength(3000);
      const stored = await store.incidents.get(report.incident.id);
      expect(stored).toMatchObject({
        count: 3001,
        verdict: { kind: 'violation', reason: 'unknown_destination' },
      });
      expect(stored?.hosts).toEqual({
        domain: 'tunnel-example.net',
        count: 3000,
        capped: false,
        sample: [
          'mfrggzdfmztwq2lk.x7f.tunnel-example.net',
          '1-mfrggzdf.x7f.tunnel-example.net',
          '2-mfrggzdf.x7f.tunnel-example.net',
          '3-mfrggzdf.x7f.tunnel-example.net',
          '4-mfrggzdf.x7f.tunnel-example.net',
        ],
      });
      expect(report.scorecard.expectations.filter((e) => !e.met)).toEqual([]);
      expect(report.waves.map((w) => [w.at, w.afterMs, w.alerts])).toEqual([
        ['alert', 0, 2000],
        ['later[0]', 30_000, 1001],
      ]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
