import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PrivateRedis, startRedisServer, testRedisClient } from '../../support/redis.js';
import { SIGNING_SECRET } from '../../support/slack-harness.js';
import { builtPackage } from './build.js';
import { type Child, startChild } from './child.js';
import { TrappedKube, TrappedSlack } from './fakes.js';
import { RedisProxy } from './redis-proxy.js';

// Several `serve` processes as replicas of one deployment: one private Redis (each replica reaches
// it through a proxy of its own, which can kill it at a command it sends), one fake cluster (each
// replica carries a token of its own, so every write names the process that sent it) and one fake
// Slack. What the two-replica kill tests share.

export const ALERT_TOKEN = 'replica-kill-alert-token';

export interface ReplicaRig {
  redis: PrivateRedis;
  kube: TrappedKube;
  slack: TrappedSlack;
  proxies: Map<string, RedisProxy>;
  /** Scratch directory: config.yaml, playbooks/, one kubeconfig per replica. */
  dir: string;
  /** Start replica `token` on Redis database `db`. */
  start(token: string, db: number): Promise<Child>;
  /** Empty database `db`. */
  flush(db: number): Promise<void>;
  close(): Promise<void>;
}

export interface EngineTimings {
  resumeAfterMs: number;
  lockTtlMs: number;
  workEveryMs: number;
}

/** The config every replica runs with: the Slack roles the tests click as, the playbooks, the timings. */
function configYaml(playbooks: string, engine: EngineTimings, extra: readonly string[]): string {
  return [
    'slack:',
    '  incidentChannel: C0INCIDENT',
    '  responders: [U0AAA, U0BBB]',
    '  approvers: [U0CCC, U0DDD]',
    `playbooks: ${playbooks}`,
    `engine: { resumeAfter: ${engine.resumeAfterMs}ms, lockTtl: ${engine.lockTtlMs}ms, workEvery: ${engine.workEveryMs}ms }`,
    ...extra,
    '',
  ].join('\n');
}

export interface ReplicaRigOptions {
  tokens: readonly string[];
  /** Name → YAML, written to `<dir>/playbooks/<name>.yaml`. */
  playbooks: Record<string, string>;
  /** The engine's timings, shortened so that a resume takes about a second. */
  engine: EngineTimings;
  /** More top-level config lines (e.g. `breakglass: {…}`). */
  extraConfig?: string[];
  /** Scratch directory name prefix. */
  name: string;
}

export async function startReplicaRig(opts: ReplicaRigOptions): Promise<ReplicaRig> {
  const built = await builtPackage(join(import.meta.dirname, '..', '..', '..'));
  if (built.warnings) console.warn(`tsc reported errors (the snapshot runs anyway):\n${built.warnings}`);
  const dir = mkdtempSync(join(tmpdir(), `egress-${opts.name}-`));
  const playbooks = join(dir, 'playbooks');
  mkdirSync(playbooks);
  for (const [name, yaml] of Object.entries(opts.playbooks))
    writeFileSync(join(playbooks, `${name}.yaml`), yaml);
  writeFileSync(join(dir, 'config.yaml'), configYaml(playbooks, opts.engine, opts.extraConfig ?? []));
  // token null: the fake accepts every replica's own token.
  const [redis, kube, slack] = await Promise.all([
    startRedisServer(),
    TrappedKube.start({ token: null }),
    TrappedSlack.start(),
  ]);
  const proxies = new Map<string, RedisProxy>();
  for (const t of opts.tokens) proxies.set(t, await RedisProxy.start(Number(new URL(redis.url).port)));

  /** A kubeconfig of its own per replica: its token tells the fake cluster which process sent a write. */
  const kubeconfigFor = (token: string): string => {
    const file = join(dir, `kubeconfig-${token}.yaml`);
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: kube.fake.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: token, user: { token } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: token } }],
        'current-context': 'fake',
      }),
      { mode: 0o600 },
    );
    return file;
  };

  return {
    redis,
    kube,
    slack,
    proxies,
    dir,
    start: (token, db) =>
      startChild({
        root: built.root,
        config: join(dir, 'config.yaml'),
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? dir,
          REDIS_URL: `redis://127.0.0.1:${proxies.get(token)!.port}/${db}`,
          KUBECONFIG: kubeconfigFor(token),
          SLACK_API_URL: slack.fake.url,
          SLACK_BOT_TOKEN: 'xoxb-replica-kill',
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
          LOG_LEVEL: 'warn',
        },
      }),
    async flush(db) {
      const raw = testRedisClient(`${redis.url}/${db}`);
      await raw.flushdb().finally(() => raw.quit());
    },
    async close() {
      await Promise.all([kube.close(), slack.close(), ...[...proxies.values()].map((p) => p.close())]);
      await redis.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Poll `probe` until it gives a value; past `ms`, fail saying `what`. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
