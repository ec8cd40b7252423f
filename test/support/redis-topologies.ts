import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis.js';

// Real Redis topologies on loopback for the store's tests: a Cluster (three masters, each with a
// replica) and a Sentinel set (a master, a replica, three Sentinels). Every server is a child
// process of the test on free ports in its own temp dir, stopped by pid; nothing is daemonized, so
// nothing outlives the test run.

interface Server {
  port: number;
  args: string[];
  dir: string;
  child: ChildProcess;
  exited: Promise<void>;
}

function spawnServer(args: string[], dir: string): Pick<Server, 'child' | 'exited'> {
  const child = spawn('redis-server', args, { stdio: 'ignore', cwd: dir });
  child.once('error', () => {});
  return { child, exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) };
}

function run(args: string[], dir: string, port = Number(args[args.indexOf('--port') + 1] ?? 0)): Server {
  return { port, args, dir, ...spawnServer(args, dir) };
}

/** Start a stopped server again with its arguments (a pod the kubelet restarts); resolves on PING. */
async function restart(server: Server): Promise<void> {
  await stop(server);
  Object.assign(server, spawnServer(server.args, server.dir));
  await until(
    `restarted redis ${server.port}`,
    10_000,
    async () => (await redisCall(server.port, 'PING')) === 'PONG',
  );
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  await server.exited;
}

function client(port: number): Redis {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    connectTimeout: 1000,
  });
  c.on('error', () => {});
  return c;
}

/** Poll `probe` until it returns true (errors count as false), or fail after `ms`. */
async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One command on a fresh connection to `port` (the harness never keeps connections around). */
export async function redisCall(port: number, ...args: string[]): Promise<unknown> {
  const c = client(port);
  try {
    await c.connect();
    return await c.call(args[0]!, ...args.slice(1));
  } finally {
    c.disconnect();
  }
}

function requireRedisServer(): void {
  if (spawnSync('redis-server', ['--version']).error || spawnSync('redis-cli', ['--version']).error) {
    throw new Error('these tests need redis-server and redis-cli (Debian: apt-get install redis-server)');
  }
}

const BASE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];

export interface RedisClusterSet {
  /** redis+cluster:// URL with every master as a seed. */
  url: string;
  masters(): Promise<number[]>;
  /** The port of the master that owns `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** SIGKILL the server on `port` (its replica takes over after cluster-node-timeout). */
  kill(port: number): Promise<void>;
  /** Start the server on `port` again (it rejoins as a replica of whoever took over). */
  restart(port: number): Promise<void>;
  stop(): Promise<void>;
}

async function clusterMasters(ports: number[]): Promise<number[]> {
  for (const port of ports) {
    const reply = await redisCall(port, 'CLUSTER', 'SLOTS').catch(() => undefined);
    if (!Array.isArray(reply)) continue;
    return [...new Set(reply.map((range) => Number((range as unknown[][])[2]![1])))].sort();
  }
  return [];
}

/** Six servers, three masters with one replica each; resolves once every node says cluster_state:ok. */
export async function startRedisCluster(): Promise<RedisClusterSet> {
  requireRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'er-cluster-'));
  const servers: Server[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const [port, bus] = [await freePort(), await freePort()];
      servers.push(
        run(
          [
            '--port',
            String(port),
            ...BASE,
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(bus),
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '1000',
            '--dir',
            dir,
          ],
          dir,
        ),
      );
    }
    const ports = servers.map((s) => s.port);
    for (const port of ports)
      await until(`redis ${port}`, 5000, async () => (await redisCall(port, 'PING')) === 'PONG');
    const created = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) {
      await until(`cluster_state:ok on ${port}`, 15_000, async () =>
        String(await redisCall(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
      );
    }
    // Every replica synced with its master, so a failover has something to promote.
    for (const port of ports) {
      await until(`replication on ${port}`, 15_000, async () => {
        const info = String(await redisCall(port, 'INFO', 'replication'));
        return info.includes('role:master') || info.includes('master_link_status:up');
      });
    }
    const url = `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
    const alive = () => servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    return {
      url,
      masters: () => clusterMasters(alive().map((s) => s.port)),
      async masterOf(key) {
        for (const s of alive()) {
          const slot = await redisCall(s.port, 'CLUSTER', 'KEYSLOT', key).catch(() => undefined);
          if (typeof slot !== 'number') continue;
          const slots = (await redisCall(s.port, 'CLUSTER', 'SLOTS')) as unknown[][];
          const range = slots.find((r) => Number(r[0]) <= slot && slot <= Number(r[1]));
          if (range) return Number((range[2] as unknown[])[1]);
        }
        throw new Error(`no master found for ${key}`);
      },
      async kill(port) {
        const server = servers.find((s) => s.port === port);
        if (server) await stop(server);
      },
      async restart(port) {
        const server = servers.find((s) => s.port === port);
        if (server) await restart(server);
      },
      async stop() {
        await Promise.all(servers.map(stop));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(servers.map(stop));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface RedisSentinelSet {
  /** redis+sentinel:// URL naming every Sentinel and the master `mymaster`. */
  url: string;
  name: string;
  /** The port the Sentinels name as master now. */
  master(): Promise<number>;
  /** SIGKILL the server on `port`. */
  kill(port: number): Promise<void>;
  /** Start the server on `port` again (the Sentinels make it a replica of the new master). */
  restart(port: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A master, `replicas` replicas (default one) and three Sentinels (quorum 2, down after 1 s);
 * resolves once every Sentinel sees every replica and its two peers.
 */
export async function startRedisSentinel(opts: { replicas?: number } = {}): Promise<RedisSentinelSet> {
  requireRedisServer();
  const name = 'mymaster';
  const replicas = opts.replicas ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'er-sentinel-'));
  const servers: Server[] = [];
  try {
    const masterPort = await freePort();
    servers.push(run(['--port', String(masterPort), ...BASE, '--dir', dir], dir));
    for (let i = 0; i < replicas; i++) {
      const port = await freePort();
      servers.push(
        run(
          ['--port', String(port), ...BASE, '--dir', dir, '--replicaof', '127.0.0.1', String(masterPort)],
          dir,
        ),
      );
      await until('replica in sync', 10_000, async () =>
        String(await redisCall(port, 'INFO', 'replication')).includes('master_link_status:up'),
      );
    }
    const sentinelPorts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      servers.push(run([conf, '--sentinel'], dir, port));
      sentinelPorts.push(port);
    }
    for (const port of sentinelPorts) {
      await until(`sentinel ${port} sees the replica and its peers`, 15_000, async () => {
        const seen = (await redisCall(port, 'SENTINEL', 'REPLICAS', name)) as unknown[];
        const peers = (await redisCall(port, 'SENTINEL', 'SENTINELS', name)) as unknown[];
        return seen.length === replicas && peers.length === 2;
      });
    }
    const alive = () => servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    return {
      url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${name}`,
      name,
      async master() {
        for (const s of alive().filter((x) => sentinelPorts.includes(x.port))) {
          const addr = await redisCall(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name).catch(
            () => undefined,
          );
          if (Array.isArray(addr)) return Number(addr[1]);
        }
        throw new Error('no Sentinel answered');
      },
      async kill(port) {
        const server = servers.find((s) => s.port === port);
        if (server) await stop(server);
      },
      async restart(port) {
        const server = servers.find((s) => s.port === port);
        if (server) await restart(server);
      },
      async stop() {
        await Promise.all(servers.map(stop));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(servers.map(stop));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
