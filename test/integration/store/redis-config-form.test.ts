import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timelineCommand } from '../../../src/cli/timeline.js';
import { parseConfig, readEnv } from '../../../src/config/load.js';
import { type HostPort, parseRedisTarget } from '../../../src/domain/redis-target.js';
import { createStore } from '../../../src/main.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { AlertRecord, Store } from '../../../src/store/store.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';
import {
  type RedisClusterSet,
  type RedisSentinelSet,
  redisCall,
  startRedisCluster,
  startRedisSentinel,
} from '../../support/redis-topologies.js';

// The topology written in the config file's redis: block instead of REDIS_URL, booted the way
// `serve` boots its store (parseConfig, then main's createStore) against a real Sentinel set and a
// real Cluster, with no REDIS_URL in the environment: an alert recorded lands on their master.

let sentinel: RedisSentinelSet;
let cluster: RedisClusterSet;
beforeAll(async () => {
  sentinel = await startRedisSentinel();
  cluster = await startRedisCluster();
}, 120_000);
afterAll(async () => {
  await sentinel?.stop();
  await cluster?.stop();
});

/** The harness hands out URLs; the config file lists the same hosts as YAML flow mappings. */
function nodesOf(url: string): HostPort[] {
  const target = parseRedisTarget(url);
  if (target.kind === 'single') throw new Error(`expected several nodes in ${url}`);
  return target.kind === 'sentinel' ? target.sentinels : target.nodes;
}

const yamlNodes = (nodes: HostPort[]) =>
  `[${nodes.map((n) => `{ host: ${n.host}, port: ${n.port} }`).join(', ')}]`;

function storeFrom(yaml: string): Store {
  const config = parseConfig(yaml, 'egress-responder.yaml', '/tmp', readEnv({}));
  return createStore(config, silentLogger());
}

function firing(id: string): AlertRecord {
  const incident = anIncident({ id, fingerprint: `fp-${id}` });
  return {
    fingerprint: incident.fingerprint,
    state: 'firing',
    open: () => ({
      incident,
      events: [aTimelineEvent({ id: `${id}:opened`, incidentId: id, kind: 'incident.opened' })],
      schedule: [],
    }),
    fold: {
      count: 1,
      firstSeen: incident.firstSeen,
      lastSeen: incident.lastSeen,
      event: aTimelineEvent({ id: 'template', incidentId: 'template', kind: 'alert.folded' }),
    },
  };
}

/** Keys of the incident on the server at `port` (asked directly, not through the store). */
async function keysOn(port: number, id: string): Promise<string[]> {
  return (await redisCall(port, 'KEYS', `*incident*${id}*`)) as string[];
}

describe('the redis: block names the Redis', () => {
  it('sentinels + name: the store asks the Sentinels for the master and records an alert there', async () => {
    const store = storeFrom(
      `redis:\n  sentinels: ${yamlNodes(nodesOf(sentinel.url))}\n  name: ${sentinel.name}\n  commandTimeout: 5s\n`,
    );
    try {
      expect((await store.incidents.recordAlert(firing('inc-sentinel-cfg'))).outcome).toBe('opened');
      expect((await store.incidents.get('inc-sentinel-cfg'))?.fingerprint).toBe('fp-inc-sentinel-cfg');
      expect(await keysOn(await sentinel.master(), 'inc-sentinel-cfg')).not.toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('cluster: the store takes the seeds as a Cluster and records an alert on the owning master', async () => {
    const store = storeFrom(`redis:\n  cluster: ${yamlNodes(nodesOf(cluster.url))}\n  commandTimeout: 5s\n`);
    try {
      expect((await store.incidents.recordAlert(firing('inc-cluster-cfg'))).outcome).toBe('opened');
      expect((await store.incidents.get('inc-cluster-cfg'))?.fingerprint).toBe('fp-inc-cluster-cfg');
      const owners = [];
      for (const port of await cluster.masters()) {
        if ((await keysOn(port, 'inc-cluster-cfg')).length > 0) owners.push(port);
      }
      expect(owners).toEqual([await cluster.masterOf('{er}')]);
    } finally {
      await store.close();
    }
  });

  it('the CLI reads the same Redis: `timeline` with only the config file prints what serve recorded there', async () => {
    const yaml = `redis:\n  sentinels: ${yamlNodes(nodesOf(sentinel.url))}\n  name: ${sentinel.name}\n  commandTimeout: 5s\n`;
    const store = storeFrom(yaml);
    const dir = mkdtempSync(join(tmpdir(), 'egress-redis-cfg-'));
    try {
      await store.incidents.recordAlert(firing('inc-cli-cfg'));
      writeFileSync(join(dir, 'egress-responder.yaml'), yaml);
      const out: string[] = [];
      const err: string[] = [];
      const code = await timelineCommand(
        { incident: 'inc-cli-cfg', format: 'json', config: join(dir, 'egress-responder.yaml') },
        { out: (l) => out.push(l), err: (l) => err.push(l), env: {} },
      );
      expect([code, err]).toEqual([0, []]);
      const exported = JSON.parse(out.join('\n')) as { incident: { id: string }; events: { id: string }[] };
      expect(exported.incident.id).toBe('inc-cli-cfg');
      expect(exported.events.map((e) => e.id)).toContain('inc-cli-cfg:opened');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
