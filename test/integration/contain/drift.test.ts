import { k8sContainActions } from '../../../src/actions/k8s/index.js';
import { accessFromLists } from '../../../src/domain/access.js';
import { NS, PODS, seedAdditiveTrap, trapCluster } from '../../builders/additive-trap.js';
import { testEngine } from '../../builders/engine.js';
import { aPod, type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// Apply what was approved: when the cluster changes between the preview people confirmed and the
// apply, the engine records a plan drift naming the change; in soft mode it plans again and asks
// again (nothing applied), in hard mode it applies the new plan and says so. Never silently.

const playbook = (mode: 'soft' | 'hard', approval: boolean) => `
id: drift-test
title: Drift test
mode: ${mode}
steps:
  - id: contain
    title: Contain
    role: contain
    sets_status: { success: contained, incomplete: containment_incomplete }
${approval ? '    approval: { from: approvers, count: 1 }\n' : ''}    actions:
      - uses: k8s.quarantine
      - uses: k8s.deny-egress
        with: { remedy: isolate }
`;

const NEW_POD = 'payments-api-7d9f8b6c5d-zzzzz';

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());
beforeEach(() => seedAdditiveTrap(fake));

function engineFor(mode: 'soft' | 'hard', approval: boolean) {
  return testEngine({
    yaml: playbook(mode, approval),
    actions: k8sContainActions,
    access: accessFromLists({ responders: ['U1', 'U2'], approvers: ['U3'] }),
    deps: { cluster: trapCluster(fake) },
  });
}

const podPatches = () =>
  fake.requestsMatching({ method: 'PATCH', path: /\/pods\// }).filter((r) => r.query.dryRun === undefined);
const labelled = () =>
  fake
    .list('Pod', NS)
    .filter((p) => (p.metadata as { labels?: Record<string, string> }).labels?.quarantine === 'true')
    .map((p) => (p.metadata as { name: string }).name)
    .sort();

it('soft mode: a pod that appeared after the preview → plan drift, the step asks again, nothing applied; the second confirm applies the new plan', async () => {
  const t = engineFor('soft', false);
  const { id } = await t.open({ mode: 'soft', playbook: { id: 'drift-test', file: 'd.yaml' } });
  let inc = await t.engine.advance(id);
  expect(inc.steps[0]!.status).toBe('awaiting_confirmation');
  fake.put(
    aPod({
      namespace: NS,
      name: NEW_POD,
      labels: { app: 'payments-api' },
      serviceAccountName: 'payments-api',
    }),
  );
  const before = podPatches().length;

  inc = await t.engine.confirm(id, 'contain', 'slack:U1');
  expect(inc.steps[0]!.status).toBe('awaiting_confirmation');
  expect(inc.steps[0]!.confirmedBy).toBeUndefined();
  expect(podPatches().length).toBe(before);
  expect(labelled()).toEqual([]);
  const events = await t.store.timeline.read(id);
  const drift = events.find((e) => e.kind === 'plan.drift')!;
  expect(drift.summary).toContain(`pod ${NEW_POD} new since the preview`);
  expect(drift.summary).toContain('asking again before anything is applied');
  expect(events.some((e) => e.kind === 'step.waiting' && e.summary.includes('asks again'))).toBe(true);
  // The new preview is what the responder now sees: it names the new pod and what changed.
  const plan = inc.steps[0]!.actions[0]!.plan as { preview: string };
  expect(plan.preview).toContain('# changed since the preview that was confirmed');
  expect(plan.preview).toContain(NEW_POD);

  inc = await t.engine.confirm(id, 'contain', 'slack:U2');
  expect(inc.status).toBe('contained');
  expect(labelled()).toEqual([...PODS, NEW_POD].sort());
});

it('soft mode: an allow-policy edited after the preview is drift for the isolate remedy too', async () => {
  const t = engineFor('soft', false);
  const { id } = await t.open({ mode: 'soft', playbook: { id: 'drift-test', file: 'd.yaml' } });
  await t.engine.advance(id);
  const allow = fake.list('NetworkPolicy', NS)[0]!;
  fake.put({ ...allow, spec: { ...(allow.spec as object), egress: [] } });
  const inc = await t.engine.confirm(id, 'contain', 'slack:U1');
  expect(inc.steps[0]!.status).toBe('awaiting_confirmation');
  const drift = (await t.store.timeline.read(id)).filter((e) => e.kind === 'plan.drift');
  expect(drift.map((e) => e.summary).join('\n')).toContain('edited since the preview');
});

it('hard mode: drift after an approval → recorded, and the new plan is applied and said so', async () => {
  const t = engineFor('hard', true);
  const { id } = await t.open({ mode: 'hard', playbook: { id: 'drift-test', file: 'd.yaml' } });
  let inc = await t.engine.advance(id);
  expect(inc.steps[0]!.status).toBe('awaiting_approval');
  fake.put(
    aPod({
      namespace: NS,
      name: NEW_POD,
      labels: { app: 'payments-api' },
      serviceAccountName: 'payments-api',
    }),
  );
  inc = await t.engine.decide(id, 'contain', 'slack:U3', 'approve');
  expect(inc.status).toBe('contained');
  expect(labelled()).toEqual([...PODS, NEW_POD].sort());
  const drift = (await t.store.timeline.read(id)).find((e) => e.kind === 'plan.drift')!;
  expect(drift.summary).toContain(`pod ${NEW_POD} new since the preview`);
  expect(drift.summary).toContain('hard mode: applying the new plan');
});

it('no drift, no extra record: the confirmed plan is applied as it was shown', async () => {
  const t = engineFor('soft', false);
  const { id } = await t.open({ mode: 'soft', playbook: { id: 'drift-test', file: 'd.yaml' } });
  await t.engine.advance(id);
  const inc = await t.engine.confirm(id, 'contain', 'slack:U1');
  expect(inc.status).toBe('contained');
  expect((await t.store.timeline.read(id)).filter((e) => e.kind === 'plan.drift')).toEqual([]);
  expect(labelled()).toEqual([...PODS].sort());
});
