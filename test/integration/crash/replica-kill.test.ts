import { createRedisStore } from '../../../src/store/redis.js';
import type { Store } from '../../../src/store/store.js';
import { CONTAIN_YAML } from '../../builders/breakglass.js';
import type { Child } from './child.js';
import type { TrapPhase, TrappedKube } from './fakes.js';
import { ALERT_TOKEN, type ReplicaRig, startReplicaRig, until } from './replicas.js';

// Issue 13: a replica killed mid-step leaves the incident for the other one to finish, with no click
// and nothing done twice. Two `serve` processes are up on one Redis and one fake cluster; an alert
// reaches one of them; whichever replica's worker takes the playbook run is SIGKILLed in the middle
// of the containment step — at its label PATCH of a pod (applied, answer withheld), at its PATCH of
// the deny-all policy (never sent), or at the Redis write of the quarantine action's result (written,
// answer withheld) — while the other replica keeps running. The survivor must resume the run within
// the engine's resume bound: every pod labelled, the deny-all policy applied and verified, the
// incident contained, each cluster object changed once, every timeline event once.

const ENGINE = { resumeAfterMs: 1000, lockTtlMs: 1000, workEveryMs: 200 };
/** The dead replica's lease and lock run out (resumeAfter, lockTtl), then the run; room for a busy machine. */
const FINISH_BOUND_MS = ENGINE.resumeAfterMs + ENGINE.lockTtlMs + 10_000;
const REPLICAS = ['replica-a', 'replica-b'] as const;
const PODS = ['payments-api-7d9f8b6c5d-a', 'payments-api-7d9f8b6c5d-b', 'payments-api-7d9f8b6c5d-c'];
const DENY = 'quarantine-deny-egress';

let rig: ReplicaRig;
let kube: TrappedKube;

beforeAll(async () => {
  rig = await startReplicaRig({
    tokens: REPLICAS,
    playbooks: { 'contain-test': CONTAIN_YAML },
    engine: ENGINE,
    name: 'replica-kill',
  });
  kube = rig.kube;
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

async function postAlert(child: Child, dst: string): Promise<string> {
  const res = await fetch(`${child.base}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
    body: JSON.stringify({
      src_service: 'payments-api',
      src_namespace: 'prod',
      dst_type: 'fqdn',
      dst_name: dst,
      dst_port: 443,
      protocol: 'https',
    }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
}

type Where = 'pod label' | 'deny policy' | 'store';
const cases: [Where, TrapPhase, string][] = [
  ['pod label', 'unanswered', 'the first pod labelled, the answer withheld'],
  ['deny policy', 'before', 'the pods labelled, the deny-all policy never sent'],
  ['store', 'unanswered', "the quarantine's result written to the timeline, the answer withheld"],
];

describe('a replica killed mid-step while another runs', () => {
  it.each(cases.map((c, i) => [...c, 1 + i] as const))(
    'killed at its %s write (%s: %s): the other replica finishes the containment',
    async (where, phase, _what, db) => {
      const store: Store = createRedisStore({ url: `${rig.redis.url}/${db}`, commandTimeoutMs: 5000 });
      const children = new Map<string, Child>();
      try {
        kube.seed(['prod'], () => PODS);
        for (const p of rig.proxies.values()) p.reset();
        for (const [token, child] of await Promise.all(
          REPLICAS.map(async (t) => [t, await rig.start(t, db)] as const),
        ))
          children.set(token, child);

        let killed: string | undefined;
        let killedAt = 0;
        const kill = (token: string | undefined) => {
          if (killed !== undefined) return;
          killed = token;
          killedAt = performance.now();
          children.get(token ?? '')?.kill();
          for (const p of rig.proxies.values()) p.trap = undefined;
        };
        const trappedClient = () => kube.writes.find((w) => w.trapped !== undefined)?.client;
        if (where === 'pod label') {
          const match = new RegExp(`^PATCH /api/v1/namespaces/prod/pods/${PODS[0]}$`);
          kube.trap = { at: 0, match, phase, delayMs: 0, fire: () => kill(trappedClient()) };
        } else if (where === 'deny policy') {
          const match = new RegExp(
            `^PATCH /apis/networking.k8s.io/v1/namespaces/prod/networkpolicies/${DENY}$`,
          );
          kube.trap = { at: 0, match, phase, delayMs: 0, fire: () => kill(trappedClient()) };
        } else {
          // The timeline event of the quarantine's result (`<incident>:contain:k8s.quarantine:applied`).
          const match = /:contain:k8s\.quarantine:applied/;
          for (const [token, p] of rig.proxies)
            p.trap = { at: 0, match, phase, delayMs: 0, fire: () => kill(token) };
        }

        // The alert reaches one replica (a, then b, then a); either replica's worker may take the run.
        const id = await postAlert(
          children.get(REPLICAS[(db - 1) % 2]!)!,
          `paste-${db}.replica-kill.example.net`,
        );
        await until('a replica was killed mid-step', 20_000, async () => killed);
        const dead = children.get(killed!)!;
        expect((await dead.exited).signal).toBe('SIGKILL');
        const survivor = REPLICAS.find((t) => t !== killed)!;

        const contained = await until(
          'the survivor contained the incident',
          FINISH_BOUND_MS + 5000,
          async () => {
            const inc = await store.incidents.get(id);
            return inc?.status === 'contained' ? inc : undefined;
          },
        );
        const finishedMs = Math.round(performance.now() - killedAt);
        console.log(
          `replica kill (${where}, ${phase}): ${killed} killed; ${survivor} contained it ${finishedMs} ms later`,
        );
        expect(finishedMs).toBeLessThan(FINISH_BOUND_MS);
        expect(children.get(survivor)!.alive()).toBe(true);

        const contain = contained.steps.find((s) => s.id === 'contain')!;
        expect(contain.actions.map((a) => [a.uses, a.status])).toEqual([
          ['k8s.quarantine', 'applied'], // a label has nothing to verify; the policy does
          ['k8s.deny-egress', 'verified'],
        ]);
        for (const pod of PODS) {
          const meta = kube.fake.get('Pod', 'prod', pod)?.metadata as
            | { labels?: Record<string, string> }
            | undefined;
          expect(meta?.labels).toMatchObject({ quarantine: 'true' });
        }
        expect(kube.fake.get('NetworkPolicy', 'prod', DENY)).toBeDefined();
        // Each object changed once: what the dead replica got done is not done again, only confirmed.
        const changed = kube.writes.filter((w) => w.changed).map((w) => w.path);
        expect(changed.length).toBeGreaterThan(0);
        expect(new Set(changed).size).toBe(changed.length);
        // The survivor wrote after the kill; nobody else did.
        expect(new Set(kube.writes.filter((w) => w.seq > 0 && !w.trapped).map((w) => w.client))).toContain(
          survivor,
        );
        // Every timeline event once; the resume is on record.
        const timeline = await store.timeline.read(id);
        expect(new Set(timeline.map((e) => e.id)).size).toBe(timeline.length);
        expect(timeline.some((e) => e.kind === 'engine.resumed')).toBe(true);
        const events = (kind: string, uses: string) =>
          timeline.filter((e) => e.kind === kind && e.details.uses === uses);
        expect(events('action.applied', 'k8s.quarantine')).toHaveLength(1);
        expect(events('action.applied', 'k8s.deny-egress')).toHaveLength(1);
        expect(events('action.verified', 'k8s.deny-egress')).toHaveLength(1);
      } finally {
        kube.trap = undefined;
        for (const p of rig.proxies.values()) p.trap = undefined;
        for (const c of children.values()) c.kill();
        await Promise.all([...children.values()].map((c) => c.exited));
        await store.close().catch(() => undefined);
        await rig.flush(db);
      }
    },
    90_000,
  );
});
