import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Incident } from '../../../src/domain/incident.js';
import type { TimelineEvent } from '../../../src/domain/timeline.js';
import { createRedisStore } from '../../../src/store/redis.js';
import type { ScheduledItem, Store } from '../../../src/store/store.js';
import { testRedisClient } from '../../support/redis.js';
import { type Child, startChild } from './child.js';
import { type KubeWrite, type TrapPhase, TrappedKube, TrappedSlack } from './fakes.js';
import { checkRun, type Observed } from './invariants.js';
import { RedisProxy } from './redis-proxy.js';
import { type Rng, rng } from './rng.js';
import { Ledger, makePlan, type Plan, type PlannedRequest, post, type Sender, sendPlan } from './scenario.js';

// The kill -9 suite's machinery. A slot is one bot's world: a fake cluster, a fake Slack and a Redis
// proxy of its own, and a Redis database of its own (slots share one private redis-server, each on
// its own db number, so the bot keeps its default key prefix). A run on a slot:
//   1. starts `serve` as a child process (or takes the previous passing run's restarted child, with
//      `reuse`) and sends it a seeded plan of alerts, keeping a ledger of what it answered;
//   2. SIGKILLs it at a seeded point: while requests are in flight; at the k-th write to the cluster,
//      the k-th command to Redis or the k-th Slack write, each either before it gets there (never
//      done), after it was done but before the bot heard back, or a few ms after the answer; or at a
//      random moment;
//   3. starts a fresh child on the same Redis and cluster (no clicks), resends what was never
//      acknowledged (a sender's retry, same request ids), and waits until every incident is
//      contained and no run is queued or in flight;
// then checks the invariants (invariants.ts) against the ledger, the store and the cluster's log.

export const ALERT_TOKEN = 'kill-suite-alert-token';
export const CHANNEL = 'C0INCIDENT';

/** The engine timings the children run with (config `engine:`), shortened so a resume takes a second. */
export const ENGINE = { resumeAfterMs: 1000, lockTtlMs: 1000, workEveryMs: 200 };

/**
 * How long after the restarted child said it listens every incident must be contained: the resume
 * delay, a lock left by the dead process, a few worker passes, and room for a busy 2-core machine.
 */
// + 5 s for the contain step itself: since issue 10 it also reads owners, detaches, and looks for a mesh gateway.
export const CONTAIN_BOUND_MS = ENGINE.resumeAfterMs + ENGINE.lockTtlMs + 5 * ENGINE.workEveryMs + 5000;
/** Give up waiting for the restarted child to settle after this long (a failure, with what was seen). */
const SETTLE_TIMEOUT_MS = 20_000;
/** Writes the fake cluster sees for one contained incident: 2 pod labels, the deny policy, the allow-policy. */
export const WRITES_PER_INCIDENT = 4;
/**
 * Redis commands the bot sends for one contained incident, not counting its alerts (a control run
 * takes about 120 plus one or two per alert): where store kill points are placed.
 */
const STORE_COMMANDS_PER_INCIDENT = 110;
/** Slack writes (posts and updates) early in one incident's life, to place Slack kill points. */
const SLACK_WRITES_PER_INCIDENT = 6;

export type KillKind = 'none' | 'intake' | 'kube' | 'store' | 'slack' | 'timed';

export interface KillPoint {
  kind: KillKind;
  /** intake: the request number whose dispatch starts the clock; kube/slack: the k-th write. */
  at: number;
  phase: TrapPhase;
  delayMs: number;
  /** store only: the first command whose text (name and arguments) matches this, instead of the at-th. */
  match?: string;
}

export function describeKill(k: KillPoint): string {
  switch (k.kind) {
    case 'none':
      return 'no kill (control run)';
    case 'intake':
      return `${k.delayMs} ms after request #${k.at} was dispatched`;
    case 'kube':
      return `kube write #${k.at}, ${k.phase}${k.phase === 'answered' ? ` (+${k.delayMs} ms)` : ''}`;
    case 'store':
      return `Redis command ${k.match ? `/${k.match}/` : `#${k.at}`}, ${k.phase}${k.phase === 'answered' ? ` (+${k.delayMs} ms)` : ''}`;
    case 'slack':
      return `Slack write #${k.at}, ${k.phase}${k.phase === 'answered' ? ` (+${k.delayMs} ms)` : ''}`;
    case 'timed':
      return `${k.delayMs} ms after the first request`;
  }
}

/**
 * Where to kill, from the seed: a fifth while alerts are in flight, a third at a write to the cluster,
 * a third at a command to Redis (each phase alike), the rest at a Slack write or a random moment.
 */
export function chooseKill(r: Rng, plan: Plan): KillPoint {
  const x = r.next();
  const phase = r.pick<TrapPhase>(['before', 'unanswered', 'answered']);
  const delayMs = r.int(0, 30);
  const anomalies = plan.anomalies.length;
  const alerts = plan.requests.reduce((n, q) => n + q.alerts.length, 0);
  if (x < 0.2)
    return { kind: 'intake', at: r.int(0, plan.requests.length - 1), phase, delayMs: r.int(0, 20) };
  if (x < 0.55) return { kind: 'kube', at: r.int(1, anomalies * WRITES_PER_INCIDENT), phase, delayMs };
  if (x < 0.9)
    return { kind: 'store', at: r.int(1, anomalies * STORE_COMMANDS_PER_INCIDENT + alerts), phase, delayMs };
  if (x < 0.95) return { kind: 'slack', at: r.int(1, anomalies * SLACK_WRITES_PER_INCIDENT), phase, delayMs };
  return { kind: 'timed', at: 0, phase, delayMs: r.int(0, 2500) };
}

/** A seed's plan of alerts and kill point, exactly as `Slot.run` derives them. */
export function seeded(seed: number): { plan: Plan; kill: KillPoint } {
  const r = rng(seed);
  const plan = makePlan(r);
  return { plan, kill: chooseKill(r, plan) };
}

export interface RunResult {
  seed: number;
  slot: number;
  ok: boolean;
  failures: string[];
  kill: KillPoint;
  /** What actually killed the first child (or why it was killed late). */
  killedBy: string;
  anomalies: number;
  requests: number;
  alerts: number;
  /** Requests resent after the restart (never answered, or not all recorded). */
  resent: number;
  /** Cluster writes and Redis commands before the kill. */
  writesBeforeKill: number;
  commandsBeforeKill: number;
  /** When the kill point never came: how many writes, commands and Slack writes the whole run took. */
  calibration?: { writes: number; commands: number; slack: number };
  /** From spawning the restarted child until every incident was contained. */
  restartToContainedMs?: number;
  /** From the restarted child listening until every incident was contained. */
  readyToContainedMs?: number;
  /** The whole run. */
  ms: number;
  /** Whether the first child was started for this run or is the previous run's restarted one. */
  firstChild?: 'cold' | 'reused';
  /** What the checks read (with `keepObserved`). */
  observed?: Observed;
  /** On failure: the children's last output lines and the cluster writes. */
  details?: string;
}

export interface RunOptions {
  /** Instead of the seeded kill point (a control run passes kind `none`). */
  kill?: KillPoint;
  /** Instead of the seeded plan of alerts. */
  plan?: Plan;
  /**
   * Start the run with the previous passing run's restarted child instead of a cold one (the cluster
   * and Redis are reset under it; it has nothing in flight once settled). Halves the process starts,
   * which are most of the suite's CPU; the child killed after the crash is always a new process.
   */
  reuse?: boolean;
  /** Keep what the checks read in the result (`observed`). */
  keepObserved?: boolean;
}

export interface SuiteEnv {
  /** Package root (bin/, dist/, playbooks/). */
  root: string;
  /** The private redis-server, without a db number. */
  redisUrl: string;
}

function configYaml(): string {
  return [
    'slack:',
    `  incidentChannel: ${CHANNEL}`,
    '  responders: [U0AAA, U0BBB]',
    '  approvers: [U0CCC, U0DDD]',
    // Containment runs at once, with no click, in every namespace an anomaly lives in.
    'modes: { prod: hard, prod-eu: hard, prod-us: hard }',
    `engine: { resumeAfter: ${ENGINE.resumeAfterMs}ms, lockTtl: ${ENGINE.lockTtlMs}ms, workEvery: ${ENGINE.workEveryMs}ms }`,
    '',
  ].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Slot {
  readonly index: number;
  readonly #env: SuiteEnv;
  readonly #kube: TrappedKube;
  readonly #slack: TrappedSlack;
  readonly #proxy: RedisProxy;
  readonly #dir: string;
  readonly #redisUrl: string;
  /** The restarted child of the last run, when that run passed and runs reuse it (see `run`). */
  #survivor: Child | undefined;

  private constructor(
    index: number,
    env: SuiteEnv,
    kube: TrappedKube,
    slack: TrappedSlack,
    proxy: RedisProxy,
  ) {
    this.index = index;
    this.#env = env;
    this.#kube = kube;
    this.#slack = slack;
    this.#proxy = proxy;
    this.#dir = mkdtempSync(join(tmpdir(), 'egress-kill-slot-'));
    writeFileSync(join(this.#dir, 'config.yaml'), configYaml());
    // db 0 stays unused; slot i works in db i + 1.
    this.#redisUrl = `${env.redisUrl.replace(/\/\d*$/, '')}/${index + 1}`;
  }

  static async open(env: SuiteEnv, index: number): Promise<Slot> {
    if (index > 14) throw new Error('a redis-server has 16 databases: at most 15 slots');
    const [kube, slack, proxy] = await Promise.all([
      TrappedKube.start(),
      TrappedSlack.start(),
      RedisProxy.start(Number(new URL(env.redisUrl).port)),
    ]);
    return new Slot(index, env, kube, slack, proxy);
  }

  async close(): Promise<void> {
    this.#survivor?.kill();
    await this.#survivor?.exited;
    await Promise.all([this.#kube.close(), this.#slack.close(), this.#proxy.close()]);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #childEnv(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? this.#dir,
      // Through the proxy, which can kill the bot at any command it sends.
      REDIS_URL: `redis://127.0.0.1:${this.#proxy.port}/${this.index + 1}`,
      KUBECONFIG: this.#kube.fake.kubeconfig(),
      SLACK_API_URL: this.#slack.fake.url,
      SLACK_BOT_TOKEN: 'xoxb-kill-suite',
      SLACK_SIGNING_SECRET: 'kill-suite-signing-secret',
      ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
      LOG_LEVEL: 'warn',
    };
  }

  #start(): Promise<Child> {
    return startChild({
      root: this.#env.root,
      config: join(this.#dir, 'config.yaml'),
      env: this.#childEnv(),
    });
  }

  async #flush(): Promise<void> {
    const client = testRedisClient(this.#redisUrl);
    try {
      await client.flushdb();
    } finally {
      await client.quit().catch(() => client.disconnect());
    }
  }

  /** One run: seeded plan and kill point (`kill` overrides the seeded one: a control run passes `none`). */
  async run(seed: number, opts: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const derived = seeded(seed);
    const plan = opts.plan ?? derived.plan;
    const kill = opts.kill ?? derived.kill;
    await this.#flush();
    this.#kube.seed(
      plan.anomalies.map((a) => a.namespace),
      (ns) => plan.anomalies.find((a) => a.namespace === ns)!.pods,
    );
    this.#slack.reset();
    this.#proxy.reset();
    const ledger = new Ledger();
    const result: RunResult = {
      seed,
      slot: this.index,
      ok: false,
      failures: [],
      kill,
      killedBy: '',
      anomalies: plan.anomalies.length,
      requests: plan.requests.length,
      alerts: plan.requests.reduce((n, q) => n + q.alerts.length, 0),
      resent: 0,
      writesBeforeKill: 0,
      commandsBeforeKill: 0,
      ms: 0,
    };
    const outputs: string[] = [];
    let first: Child | undefined;
    let second: Child | undefined;
    const store = createRedisStore({ url: this.#redisUrl, commandTimeoutMs: 5000 });
    try {
      const survivor = this.#survivor;
      this.#survivor = undefined;
      result.firstChild = opts.reuse && survivor?.alive() ? 'reused' : 'cold';
      if (result.firstChild === 'cold') survivor?.kill();
      first = result.firstChild === 'reused' ? survivor! : await this.#start();
      const child = first;
      let killed: string | undefined;
      const fire = (why: string) => {
        if (killed !== undefined) return;
        killed = why;
        child.kill();
      };
      const trap = {
        at: kill.at,
        phase: kill.phase,
        delayMs: kill.delayMs,
        fire,
        ...(kill.match ? { match: new RegExp(kill.match) } : {}),
      };
      if (kill.kind === 'kube') this.#kube.trap = trap;
      if (kill.kind === 'slack') this.#slack.trap = trap;
      if (kill.kind === 'store') this.#proxy.trap = trap;
      const sender: Sender = {
        base: child.base,
        token: ALERT_TOKEN,
        ledger,
        stopped: () => killed !== undefined,
        onDispatch: (n) => {
          if (kill.kind === 'intake' && n === kill.at)
            setTimeout(() => fire(`${kill.delayMs} ms after request #${n} was dispatched`), kill.delayMs);
          if (kill.kind === 'timed' && n === 0)
            setTimeout(() => fire(`${kill.delayMs} ms after the first request`), kill.delayMs);
        },
      };
      await sendPlan(sender, plan);
      if (killed === undefined) {
        // The kill point is still ahead (a later write), or past the end of this run's work: once
        // everything has settled it will not come, so the child is killed then (said so in the result).
        const settled = await this.#settle(store, ledger, performance.now(), () => killed !== undefined);
        if (killed === undefined) {
          result.calibration = {
            writes: this.#kube.counted,
            commands: this.#proxy.counted,
            slack: this.#slack.counted,
          };
          fire(
            kill.kind === 'none'
              ? 'control run: killed once settled'
              : `late: the kill point never came (${settled.timeout ? 'not settled' : 'everything settled first'}); killed then`,
          );
        }
      }
      await child.exited;
      result.killedBy = killed ?? '';
      result.writesBeforeKill = this.#kube.counted;
      result.commandsBeforeKill = this.#proxy.counted;
      outputs.push(`--- first child (killed: ${killed}) ---\n${child.output()}`);
      this.#kube.trap = undefined;
      this.#slack.trap = undefined;
      this.#proxy.trap = undefined;
      await this.#stranded(store, result);

      // Restart: a fresh process, the same Redis and cluster, no clicks.
      second = await this.#start();
      result.resent = await this.#resend(second, ledger);
      const settled = await this.#settle(store, ledger, second.spawnedAt);
      if (settled.containedAt !== undefined) {
        result.restartToContainedMs = Math.round(settled.containedAt - second.spawnedAt);
        result.readyToContainedMs = Math.max(0, Math.round(settled.containedAt - second.readyAt));
      }
      if (settled.timeout) result.failures.push(`not settled after the restart: ${settled.timeout}`);
      outputs.push(`--- restarted child ---\n${second.output()}`);

      const observed = await this.#observe(store, ledger, plan);
      result.failures.push(...checkRun(observed));
      if (opts.keepObserved) result.observed = observed;
      if (result.readyToContainedMs !== undefined && result.readyToContainedMs > CONTAIN_BOUND_MS) {
        result.failures.push(
          `contained ${result.readyToContainedMs} ms after the restarted child was listening (bound ${CONTAIN_BOUND_MS} ms)`,
        );
      }
      // A passing run's restarted child (started cold after the kill) can be the next run's first one.
      if (opts.reuse && result.failures.length === 0) {
        this.#survivor = second;
        second = undefined;
      }
    } catch (err) {
      result.failures.push(`harness: ${(err as Error).stack ?? String(err)}`);
    } finally {
      first?.kill();
      second?.kill();
      await Promise.all([first?.exited, second?.exited]);
      await store.close().catch(() => undefined);
    }
    result.ok = result.failures.length === 0;
    result.ms = Math.round(performance.now() - started);
    if (!result.ok) {
      const around = this.#proxy.commands
        .map((c, i) => `#${i + 1} ${c}`)
        .slice(Math.max(0, result.commandsBeforeKill - 8), result.commandsBeforeKill + 2);
      result.details = [
        ...outputs,
        writesTable(this.#kube.writes),
        '--- Redis commands around the kill ---',
        ...around,
      ].join('\n');
    }
    return result;
  }

  /**
   * Right after the kill, every queued or in-flight run must come back within resumeAfter: a run
   * that is running is due within it, and nothing may be leased further out (a worker once leased a
   * whole pass's items for 60 s and ran them one by one; those not started waited out the lease).
   */
  async #stranded(store: Store, result: RunResult): Promise<void> {
    const now = Date.now();
    const items = await store.schedule.due(Number.MAX_SAFE_INTEGER, 1000);
    for (const item of items) {
      if (!item.id.startsWith('advance:') || item.dueAt - now <= ENGINE.resumeAfterMs + 10_000) continue;
      result.failures.push(
        `stranded run: ${item.id} due ${Math.round((item.dueAt - now) / 1000)} s after the kill (resumeAfter ${ENGINE.resumeAfterMs / 1000} s)`,
      );
    }
  }

  /** Resend, with the same request ids, every alert not acknowledged as recorded; a few tries. */
  async #resend(child: Child, ledger: Ledger): Promise<number> {
    const sender: Sender = { base: child.base, token: ALERT_TOKEN, ledger, stopped: () => false };
    let sent = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const todo = ledger.unacknowledged();
      if (todo.length === 0) break;
      if (attempt > 0) await sleep(300);
      const req: PlannedRequest = { n: -1, alerts: todo, batch: true, gapMs: 0 };
      await post(sender, req, true);
      sent += 1;
    }
    return sent;
  }

  /** Poll the store until every acknowledged incident is contained and none has a run queued or in flight. */
  async #settle(
    store: Store,
    ledger: Ledger,
    from: number,
    abort: () => boolean = () => false,
  ): Promise<{ containedAt?: number; timeout?: string }> {
    let containedAt: number | undefined;
    let last = '';
    let stuckSince: number | undefined;
    while (performance.now() - from < SETTLE_TIMEOUT_MS && !abort()) {
      const ids = incidentIds(ledger);
      const incidents = await Promise.all([...ids].map((id) => store.incidents.get(id)));
      const queued = (await store.schedule.due(Number.MAX_SAFE_INTEGER, 1000)).filter((i) =>
        i.id.startsWith('advance:'),
      );
      const allAnomalies = new Set(ledger.recorded().map((a) => a.anomaly)).size === ledger.inPlay().size;
      const contained = allAnomalies && incidents.every((i) => i?.status === 'contained');
      if (contained && containedAt === undefined) containedAt = performance.now();
      if (contained && queued.length === 0) return { containedAt: containedAt! };
      last = `incidents ${incidents.map((i, n) => `${[...ids][n]}=${i?.status ?? 'missing'}`).join(', ') || 'none'}; queued ${queued.map((q) => `${q.id}@${Math.round(q.dueAt - Date.now())}ms`).join(', ') || 'none'}`;
      // Nothing queued and not contained: with no clicks nothing will ever move it (a run that is not
      // in the schedule is not run). Seen for a second, that is the answer; no need to wait longer.
      if (!contained && queued.length === 0 && ids.size > 0) {
        stuckSince ??= performance.now();
        if (performance.now() - stuckSince > 1000) return { timeout: `stuck with nothing queued: ${last}` };
      } else stuckSince = undefined;
      await sleep(50);
    }
    if (abort()) return {};
    return { ...(containedAt !== undefined ? { containedAt } : {}), timeout: last };
  }

  async #observe(store: Store, ledger: Ledger, plan: Plan): Promise<Observed> {
    const incidents: Incident[] = await store.incidents.list({ limit: 1000 });
    const timelines = new Map<string, TimelineEvent[]>();
    for (const inc of incidents) timelines.set(inc.id, await store.timeline.read(inc.id));
    const schedule: ScheduledItem[] = await store.schedule.due(Number.MAX_SAFE_INTEGER, 1000);
    const cluster = plan.anomalies.map((a) => ({
      namespace: a.namespace,
      pods: a.pods.map((name) => ({ name, object: this.#kube.fake.get('Pod', a.namespace, name) })),
      deny: this.#kube.fake.get('NetworkPolicy', a.namespace, 'quarantine-deny-egress'),
      allow: this.#kube.fake.get('NetworkPolicy', a.namespace, 'payments-egress-allow-dns-and-internal'),
    }));
    return { plan, ledger, incidents, timelines, schedule, writes: [...this.#kube.writes], cluster };
  }
}

export function incidentIds(ledger: Ledger): Set<string> {
  return new Set(ledger.recorded().flatMap((a) => (a.incident ? [a.incident] : [])));
}

function writesTable(writes: KubeWrite[]): string {
  return [
    '--- cluster writes ---',
    ...writes.map(
      (w) =>
        `#${w.seq || '-'} ${w.method} ${w.path}${w.dryRun ? ' (dry-run)' : ''} → ${w.status ?? 'no answer'}${w.changed ? ' changed' : ''}${w.trapped ? ` [killed: ${w.trapped}]` : ''}`,
    ),
  ].join('\n');
}

/** Run `seeds` over `slots` in parallel (each slot one run at a time); results in seed order. */
export async function runSeeds(
  slots: Slot[],
  seeds: number[],
  opts: { reuse?: boolean; onResult?: (r: RunResult) => void } = {},
): Promise<RunResult[]> {
  const results = new Map<number, RunResult>();
  let next = 0;
  await Promise.all(
    slots.map(async (slot) => {
      for (let i = next++; i < seeds.length; i = next++) {
        const res = await slot.run(seeds[i]!, { reuse: opts.reuse ?? false });
        results.set(i, res);
        opts.onResult?.(res);
      }
    }),
  );
  return seeds.map((_, i) => results.get(i)!);
}
