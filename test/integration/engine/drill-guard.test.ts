import { z } from 'zod';
import { type ActionDefinition, defineAction } from '../../../src/actions/define.js';
import { k8sContainActions } from '../../../src/actions/k8s/index.js';
import { NS, PODS, seedAdditiveTrap, trapCluster } from '../../builders/additive-trap.js';
import { testEngine } from '../../builders/engine.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// A drill incident can never change a cluster, whatever an action passes: the engine gives a drill's
// actions a cluster that sends every write as a server-side dry-run. Shown with an action that
// ignores ctx.dryRun on every kind of write, next to the real containment actions, through the real
// client against the fake API: every mutating request carries dryRun=All and no object changes.

/** Writes with dryRun: false on purpose: what a careless (or future) action might do. */
const careless = defineAction({
  id: 'test.careless',
  description: 'writes every way the Cluster offers, ignoring ctx.dryRun',
  params: z.strictObject({}),
  planData: z.strictObject({}),
  outcomeData: z.strictObject({ dryRunSeen: z.boolean() }),
  example: {},
  rbac: [],
  destructive: true,
  needsCluster: true,
  async plan() {
    return { summary: 'write everything for real', changes: true, data: {} };
  },
  async apply(ctx) {
    const c = ctx.cluster!;
    const live = { dryRun: false, fieldManager: 'careless' };
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'careless', namespace: NS },
      data: { a: '1' },
    };
    await c.create(cm, live);
    await c.apply({ ...cm, metadata: { ...cm.metadata, name: 'careless-applied' } }, live);
    const pod = { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: PODS[0]! };
    await c.patch(pod, { metadata: { labels: { careless: 'yes' } } }, 'merge', live);
    const current = await c.getPod(NS, PODS[0]!);
    await c.replace({ ...current!, metadata: { ...current!.metadata, labels: { replaced: 'yes' } } }, live);
    await c.delete({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: PODS[1]! }, live);
    return { status: 'applied', summary: 'wrote', data: { dryRunSeen: ctx.dryRun } };
  },
}) as ActionDefinition;

const playbook = `
id: drill-guard
title: Drill guard
mode: hard
steps:
  - id: contain
    title: Contain
    role: contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - uses: k8s.quarantine
      - uses: k8s.deny-egress
        with: { remedy: isolate }
      - uses: test.careless
`;

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());
beforeEach(() => seedAdditiveTrap(fake));

const snapshot = () =>
  JSON.stringify(
    ['Pod', 'NetworkPolicy', 'ConfigMap'].map((type) =>
      fake
        .list(type, NS)
        .map((o) => ({ ...o, metadata: { ...(o.metadata as object), managedFields: null } })),
    ),
  );

it('a drill incident: every write of every action goes out with dryRun=All and nothing changes', async () => {
  const t = testEngine({
    yaml: playbook,
    actions: [...k8sContainActions, careless],
    deps: { cluster: trapCluster(fake) },
  });
  const before = snapshot();
  const { id } = await t.open({ mode: 'hard', drill: true });
  const inc = await t.engine.advance(id);

  const step = inc.steps.find((s) => s.id === 'contain')!;
  expect(step.actions.map((a) => [a.uses, a.status])).toEqual([
    ['k8s.quarantine', 'applied'],
    ['k8s.deny-egress', expect.stringMatching(/verified|applied/)],
    ['test.careless', 'applied'],
  ]);
  const writes = fake.requestsMatching({ method: ['POST', 'PUT', 'PATCH', 'DELETE'] });
  // quarantine patches, the deny policy, the isolate patch, and the careless action's five writes.
  expect(writes.length).toBeGreaterThanOrEqual(5 + PODS.length + 2);
  expect(writes.filter((r) => r.path.endsWith(`/pods/${PODS[1]}`) && r.method === 'DELETE')).toHaveLength(1);
  expect(writes.filter((r) => r.query.dryRun !== 'All').map((r) => `${r.method} ${r.path}`)).toEqual([]);
  expect(snapshot()).toBe(before);
});

it('the same playbook on a real incident does write (the test can fail)', async () => {
  const t = testEngine({
    yaml: playbook,
    actions: [...k8sContainActions, careless],
    deps: { cluster: trapCluster(fake) },
  });
  const before = snapshot();
  const { id } = await t.open({ mode: 'hard', drill: false });
  await t.engine.advance(id);
  expect(fake.get('ConfigMap', NS, 'careless')).toBeDefined();
  expect(fake.get('Pod', NS, PODS[1]!)).toBeUndefined();
  expect(snapshot()).not.toBe(before);
});
