import { join } from 'node:path';
import { type PrivateRedis, startRedisServer } from '../../support/redis.js';
import { builtPackage } from './build.js';
import {
  CONTAIN_BOUND_MS,
  describeKill,
  type KillPoint,
  type RunResult,
  runSeeds,
  Slot,
  seeded,
} from './harness.js';
import { checkRun, DENY, type Observed } from './invariants.js';
import { classify, KNOWN_BUGS } from './known-bugs.js';
import { fixedPlan, Ledger } from './scenario.js';

// The kill -9 suite: `egress-responder serve` as a real process on a real Redis, the fake Kubernetes
// API and the fake Slack API; alerts go in over HTTP, the process is SIGKILLed at a seeded point
// (alerts in flight, a cluster write, a Redis command, a Slack write, a random moment), a fresh one
// is started on the same Redis and cluster with no clicks, and then: every acknowledged alert is in
// the store once, no timeline event is lost or doubled, no cluster change was made twice, and every
// incident is contained within a bound. The machinery is in harness.ts; the checks in invariants.ts.
//
//   KILL_RUNS=100 KILL_SEED=7 npm test -- test/integration/crash/kill.test.ts   more runs, other seeds
//   KILL_SEED=1234 KILL_RUNS=1 …   one seed again (a failure prints its seed)
//   KILL_SLOTS=2 (parallel runs), KILL_REUSE=0 (every run starts its first child cold)
//   KILL_TARGETED=1 …   run the targeted cases of open bugs too (they fail until fixed)
// `node bench/kill.bench.js` runs the same scenario 100 times on dist/ and prints the figures.

const REPO = join(import.meta.dirname, '..', '..', '..');
const RUNS = Number(process.env.KILL_RUNS ?? 20);
const BASE =
  process.env.KILL_SEED === 'random'
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.KILL_SEED ?? 20261125);
const SLOTS = Math.max(1, Math.min(15, Number(process.env.KILL_SLOTS ?? 3)));
const REUSE = process.env.KILL_REUSE !== '0';

const openBug = (id: string) => KNOWN_BUGS.find((b) => b.id === id);
/** RUNS seeds from BASE on that run; seeds whose kill point always runs into an open bug are skipped, by name, on top. */
const runnable: number[] = [];
const triggered = new Map<number, (typeof KNOWN_BUGS)[number]>();
for (let seed = BASE; runnable.length < RUNS; seed++) {
  const bug = KNOWN_BUGS.find((b) => b.triggeredBy?.(seeded(seed).kill));
  if (bug) triggered.set(seed, bug);
  else runnable.push(seed);
}
const LAST = runnable.at(-1) ?? BASE;

let redis: PrivateRedis;
let slots: Slot[] = [];
const knownHits = new Map<string, number[]>();

function report(r: RunResult, unknown: string[]): string {
  return [
    `seed ${r.seed}: killed at ${describeKill(r.kill)} (${r.killedBy}); first child ${r.firstChild}`,
    `rerun: KILL_SEED=${r.seed} KILL_RUNS=1 KILL_REUSE=0 npm test -- test/integration/crash/kill.test.ts`,
    ...unknown.map((f) => `  ✗ ${f}`),
    r.details ?? '',
  ].join('\n');
}

beforeAll(async () => {
  const built = await builtPackage(REPO);
  if (built.warnings) console.warn(`tsc reported errors (the snapshot runs anyway):\n${built.warnings}`);
  redis = await startRedisServer();
  slots = await Promise.all(
    Array.from({ length: SLOTS }, (_, i) => Slot.open({ root: built.root, redisUrl: redis.url }, i)),
  );
}, 180_000);

afterAll(async () => {
  await Promise.all(slots.map((s) => s.close()));
  await redis?.kill();
  if (knownHits.size > 0) {
    console.warn(
      [
        `kill suite (base seed ${BASE}): runs that ran into known bugs (see known-bugs.ts):`,
        ...[...knownHits].map(([id, hit]) => `  ${id} ${openBug(id)?.title}: seeds ${hit.join(', ')}`),
      ].join('\n'),
    );
  }
});

describe('control: no kill', () => {
  let observed: Observed;

  it('the scenario contains every incident once, and the checks pass', async () => {
    const r = await slots[0]!.run(BASE - 1, {
      kill: { kind: 'none', at: 0, phase: 'before', delayMs: 0 },
      keepObserved: true,
    });
    if (!r.ok) throw new Error(report(r, r.failures));
    observed = r.observed!;
    expect(observed.incidents.length).toBe(observed.plan.anomalies.length);
    expect(observed.incidents.every((i) => i.status === 'contained')).toBe(true);
  }, 120_000);

  // The checks are only worth something if they fail: each broken copy of the control run's world
  // must be reported.
  const broken: [string, (o: Observed) => void, RegExp][] = [
    [
      'an event recorded twice',
      (o) => {
        const tl = o.timelines.get(o.incidents[0]!.id)!;
        tl.push({ ...tl[0]! });
      },
      /recorded twice/,
    ],
    [
      'the status change lost',
      (o) => {
        const id = o.incidents[0]!.id;
        o.timelines.set(
          id,
          o.timelines.get(id)!.filter((e) => e.kind !== 'status.changed'),
        );
      },
      /lost "status\.changed contain"/,
    ],
    [
      'an acknowledged alert missing',
      (o) => {
        const e = o.ledger.entries.find((x) => x.alerts.some((a) => a.status === 'opened'))!;
        const a = e.alerts.find((x) => x.status === 'opened')!;
        e.alerts.push({ ...a, requestId: 'req-never-stored', status: 'folded' });
        e.request.alerts.push({ ...e.request.alerts[0]!, requestId: 'req-never-stored' });
      },
      /count \d+, but \d+ distinct alerts|missing from the timeline/,
    ],
    [
      'a pod labelled twice',
      (o) => {
        const w = o.writes.find((x) => x.method === 'PATCH' && x.path.includes('/pods/') && x.changed)!;
        o.writes.push({ ...w, seq: 999, resourceVersion: '99999' });
      },
      /labelled by 2 changing PATCH/,
    ],
    [
      'the deny policy created again',
      (o) => {
        const w = o.writes.find((x) => x.name === DENY && x.status === 201)!;
        o.writes.push({ ...w, seq: 999, uid: 'another-uid' });
      },
      new RegExp(`${DENY} was created 2 times`),
    ],
    [
      'the allow-policy left as it was',
      (o) => {
        const c = o.cluster[0]!;
        c.allow = { ...c.allow!, spec: { podSelector: { matchLabels: { app: 'payments-api' } } } };
      },
      /allow-policy is not isolated/,
    ],
    [
      'an incident left open',
      (o) => {
        o.incidents[0]!.status = 'open';
      },
      /status open, not contained/,
    ],
  ];
  it.each(broken)('the checks catch %s', (_what, breakIt, expected) => {
    expect(observed).toBeDefined();
    const copy: Observed = {
      ...structuredClone({ ...observed, ledger: undefined }),
      ledger: Object.assign(new Ledger(), { entries: structuredClone(observed.ledger.entries) }),
    } as Observed;
    expect(checkRun(copy)).toEqual([]);
    breakIt(copy);
    expect(checkRun(copy).join('\n')).toMatch(expected);
  });
});

describe(`kill -9 at a seeded point, restart, no clicks (seeds ${BASE}…${LAST})`, () => {
  let results: Promise<Map<number, RunResult>>;
  let started = 0;

  beforeAll(() => {
    started = performance.now();
    // All runs start at once, spread over the slots; each test below waits for its own.
    results = runSeeds(slots, runnable, { reuse: REUSE }).then((rs) => new Map(rs.map((r) => [r.seed, r])));
  });

  afterAll(async () => {
    const all = [...(await results).values()];
    const ms = all.map((r) => r.readyToContainedMs ?? Number.NaN).filter(Number.isFinite);
    console.log(
      `kill suite: ${all.length} runs on ${SLOTS} slots in ${Math.round((performance.now() - started) / 1000)} s; ` +
        `restarted child listening → contained: max ${Math.max(...ms)} ms (bound ${CONTAIN_BOUND_MS} ms)`,
    );
  });

  it.each(runnable.map((seed) => [seed, describeKill(seeded(seed).kill)] as const))(
    'seed %i, killed at %s',
    async (seed) => {
      const r = (await results).get(seed)!;
      const { unknown, known } = classify(r);
      for (const id of known.keys()) knownHits.set(id, [...(knownHits.get(id) ?? []), seed]);
      if (unknown.length > 0) throw new Error(report(r, unknown));
    },
    600_000,
  );

  for (const [seed, bug] of triggered) {
    // Its kill point always runs into an open bug (known-bugs.ts): skipped until that is fixed.
    it.skip(`seed ${seed}, killed at ${describeKill(seeded(seed).kill)} — ${bug.id}: ${bug.title}`, () => {});
  }
});

// The known bugs, each on the shortest path to it. Skipped while the bug is open (known-bugs.ts);
// delete its entry there once fixed and the case runs.
describe('targeted cases of the bugs the suite found', () => {
  const cases: [string, string, ReturnType<typeof fixedPlan>, KillPoint][] = [
    [
      'BUG-1',
      // Two anomalies in one batch: one worker pass leases both runs and starts the first; the
      // process dies at its first cluster write. The second's run must come back after resumeAfter.
      'a run leased behind another is resumed within the bound when the process dies',
      fixedPlan('bug1', 2, [[0, 1]]),
      { kind: 'kube', at: 1, phase: 'before', delayMs: 0 },
    ],
    [
      'BUG-2',
      // The isolate merge-patch lands, the bot dies before it hears so; the resumed apply must
      // record the allow-policy as seeded, not as it left it.
      'an isolate killed after its PATCH records the allow-policy as it was before',
      fixedPlan('bug2', 1, [[0]]),
      { kind: 'kube', at: 4, phase: 'unanswered', delayMs: 0 },
    ],
    [
      'BUG-3',
      // Killed as the completed step's SLA item is removed (after "contain" is stored completed,
      // before the status change): the resumed run must still make the incident contained.
      'a kill between the completed step and its status change still ends contained',
      fixedPlan('bug3', 1, [[0]]),
      { kind: 'store', at: 0, phase: 'before', delayMs: 0, match: 'schedule:data sla:[^ ]*:contain$' },
    ],
  ];
  for (const [id, title, plan, kill] of cases) {
    const test = openBug(id) && process.env.KILL_TARGETED !== '1' ? it.skip : it;
    test(`${id}: ${title}`, async () => {
      const r = await slots[0]!.run(0, { plan, kill });
      const failures = r.failures;
      if (failures.length > 0) throw new Error(report(r, failures));
    }, 120_000);
  }
});
