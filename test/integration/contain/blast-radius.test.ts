import type { Incident } from '../../../src/domain/incident.js';
import { containHarness, NS, runContain } from '../../builders/additive-trap.js';
import { aPod, type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// The quarantine selector is built from the alert; the plan names the workloads it reaches and
// refuses a selection that is empty, spans more than one workload or is bigger than max_pods, unless
// the responder widens it on purpose.

const playbook = (withParams = '') => `
id: blast-test
title: Blast radius
mode: hard
steps:
  - id: contain
    title: Contain
    actions:
      - uses: k8s.quarantine
${withParams ? `        with: ${withParams}\n` : ''}`;

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const quarantineOf = (inc: Incident) => inc.steps[0]!.actions[0]!;
const labelled = () =>
  fake
    .list('Pod', NS)
    .filter((p) => (p.metadata as { labels?: Record<string, string> }).labels?.quarantine === 'true').length;
const run = (withParams?: string) => runContain(containHarness(fake, playbook(withParams)));

/** Two Deployments whose pods both carry app=payments-api (a canary sharing the label, say). */
function twoDeployments(): void {
  seedDeployment(fake, { namespace: NS, name: 'payments-api', replicas: 2, labels: { app: 'payments-api' } });
  seedDeployment(fake, {
    namespace: NS,
    name: 'payments-api-canary',
    replicas: 1,
    labels: { app: 'payments-api' },
    hash: '6c7b8a9d0',
  });
}

it('empty: refused at plan time, saying what was selected and how to choose other pods', async () => {
  seedDeployment(fake, { namespace: NS, name: 'orders-api', replicas: 1 });
  const { inc } = await run();
  expect(quarantineOf(inc).status).toBe('failed');
  expect(quarantineOf(inc).error).toEqual({
    code: 'k8s_not_found',
    message:
      "no pods matched app=payments-api in prod: nothing to quarantine. Check the alert's source, or choose the pods with the step's `with: { selector: … }` or `by: service-account`",
    fix: 'point the step at the pods: `with: { selector: … }` or `by: service-account`',
  });
  expect(fake.requestsMatching({ method: 'PATCH' })).toEqual([]);
});

it('two Deployments share the label: refused naming both with their pod counts; nothing labelled', async () => {
  twoDeployments();
  const { inc } = await run();
  const q = quarantineOf(inc);
  expect(q.status).toBe('failed');
  expect(q.error?.code).toBe('request_refused');
  expect(q.error?.message).toBe(
    'refusing to quarantine app=payments-api in prod: it selects pods of 2 workloads: Deployment/payments-api (2 pods), Deployment/payments-api-canary (1 pod). To quarantine one, narrow the selector (the step\'s `with: { selector: "app={service},tier=…" }`); to quarantine them all, widen with `allow_multiple_owners: true`',
  );
  expect(labelled()).toBe(0);
});

it('widened with allow_multiple_owners: applied; the preview and the plan data name the owners', async () => {
  twoDeployments();
  const { inc } = await run('{ allow_multiple_owners: true }');
  const q = quarantineOf(inc);
  expect(q.status).toBe('applied');
  expect(labelled()).toBe(3);
  const plan = q.plan as { preview: string; data: { owners: unknown } };
  expect(plan.preview).toContain(
    'workloads: Deployment/payments-api (2 pods), Deployment/payments-api-canary (1 pod)',
  );
  expect(plan.data.owners).toEqual([
    { kind: 'Deployment', name: 'payments-api', pods: expect.any(Array) },
    { kind: 'Deployment', name: 'payments-api-canary', pods: expect.any(Array) },
  ]);
});

it('a Deployment next to bare pods of the same label: two owners ("no controller" is one)', async () => {
  seedDeployment(fake, { namespace: NS, name: 'payments-api', replicas: 1 });
  fake.put(aPod({ namespace: NS, name: 'payments-api-debug', labels: { app: 'payments-api' } }));
  const { inc } = await run();
  expect(quarantineOf(inc).error?.message).toContain(
    'selects pods of 2 workloads: Deployment/payments-api (1 pod), no controller (1 pod)',
  );
});

it('a Job pod is named by its CronJob; a StatefulSet pod by its StatefulSet', async () => {
  const job = fake.put({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      namespace: NS,
      name: 'payments-api-sync-29001',
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: 'payments-api-sync', uid: 'cj-1', controller: true },
      ],
    },
    spec: { template: { spec: { containers: [] } } },
  });
  const jobMeta = job.metadata as { name: string; uid: string };
  const ownedBy = (kind: string, apiVersion: string, name: string, uid: string) => [
    { apiVersion, kind, name, uid, controller: true },
  ];
  fake.put(
    aPod({
      namespace: NS,
      name: 'payments-api-sync-29001-x',
      labels: { app: 'payments-api' },
      ownerReferences: ownedBy('Job', 'batch/v1', jobMeta.name, jobMeta.uid),
    }),
  );
  fake.put(
    aPod({
      namespace: NS,
      name: 'payments-api-0',
      labels: { app: 'payments-api' },
      ownerReferences: ownedBy('StatefulSet', 'apps/v1', 'payments-api', 'sts-1'),
    }),
  );
  const { inc } = await run();
  expect(quarantineOf(inc).error?.message).toContain(
    'selects pods of 2 workloads: StatefulSet/payments-api (1 pod), CronJob/payments-api-sync (1 pod)',
  );
});

it('over max_pods: refused with the count and the max_pods that would widen it; widened → applied', async () => {
  seedDeployment(fake, { namespace: NS, name: 'payments-api', replicas: 3 });
  const refused = quarantineOf((await run('{ max_pods: 2 }')).inc);
  expect(refused.status).toBe('failed');
  expect(refused.error).toEqual({
    code: 'request_refused',
    message:
      'refusing to quarantine app=payments-api in prod: it selects 3 pods (Deployment/payments-api (3 pods)), more than max_pods 2. To quarantine them all, widen with `max_pods: 3`; else narrow the selector (the step\'s `with: { selector: "app={service},tier=…" }`)',
  });
  expect(labelled()).toBe(0);
  const widened = quarantineOf((await run('{ max_pods: 3 }')).inc);
  expect(widened.status).toBe('applied');
  expect(labelled()).toBe(3);
});

it('the default max_pods is 20', async () => {
  seedDeployment(fake, { namespace: NS, name: 'payments-api', replicas: 21 });
  const { inc } = await run();
  expect(quarantineOf(inc).error?.message).toContain('it selects 21 pods');
  expect(quarantineOf(inc).error?.message).toContain('more than max_pods 20');
});

it('drift: pods of a workload not in the preview appearing before the confirm are a plan drift', async () => {
  seedDeployment(fake, { namespace: NS, name: 'payments-api', replicas: 1 });
  const h = containHarness(fake, playbook('{ allow_multiple_owners: true }'));
  const { id } = await h.open({ mode: 'soft' });
  let inc = await h.engine.advance(id);
  expect(inc.steps[0]!.status).toBe('awaiting_confirmation');
  seedDeployment(fake, {
    namespace: NS,
    name: 'payments-api-canary',
    replicas: 1,
    labels: { app: 'payments-api' },
    hash: '6c7b8a9d0',
  });
  inc = await h.engine.confirm(id, 'contain', 'slack:U1');
  const lines = (await h.store.timeline.read(id)).map((e) => e.summary);
  expect(
    lines.some((l) =>
      l.includes('pods of Deployment/payments-api-canary selected since the preview (payments-api-canary-'),
    ),
  ).toBe(true);
  // Asked again, nothing applied.
  expect(inc.steps[0]!.status).toBe('awaiting_confirmation');
  expect(labelled()).toBe(0);
});
