import { k8sEvidenceActions } from '../../../src/actions/k8s/evidence/index.js';
import { rotateActions } from '../../../src/actions/rotate/index.js';
import { createKubeCluster } from '../../../src/k8s/kube-cluster.js';
import { testEngine } from '../../builders/engine.js';
import { aPod, type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// The quarantined pods are the evidence: the cleanup deletes them only once their evidence bundle is
// stored in the incident (k8s.collect-evidence), unless the playbook says require_evidence: false.

const NS = 'prod';
let fake: FakeKubeApi;

beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const playbook = (withEvidence: boolean) => `
id: cleanup
title: Cleanup
mode: hard
steps:
${
  withEvidence
    ? `  - id: evidence
    title: Evidence
    actions:
      - uses: k8s.collect-evidence
        with: { tail_lines: 10 }
`
    : ''
}  - id: cleanup
    title: Cleanup
    role: cleanup
    actions:
      - uses: k8s.delete-quarantined-pods
`;

async function run(withEvidence: boolean) {
  for (const name of ['payments-api-a', 'payments-api-b']) {
    fake.put(
      aPod({
        namespace: NS,
        name,
        labels: { app: 'payments-api', quarantine: 'true' },
        annotations: { 'egress-responder.io/incident': 'EGR-DQ-1' },
      }),
    );
  }
  const cluster = createKubeCluster({
    kubeconfigPath: fake.kubeconfig(),
    retry: { attempts: 1, baseMs: 1, capMs: 1, timeoutMs: 2_000 },
  });
  const t = testEngine({
    yaml: playbook(withEvidence),
    actions: [...k8sEvidenceActions, ...rotateActions],
    idPrefix: 'EGR-DQ',
    deps: { cluster },
  });
  const { id } = await t.open({ mode: 'hard', playbook: { id: 'cleanup', file: 'cleanup.yaml' } });
  const incident = await t.engine.advance(id);
  return { incident, events: await t.store.timeline.read(id) };
}

it('without the evidence collected, the cleanup is refused naming the pods and nothing is deleted', async () => {
  const { incident, events } = await run(false);
  const cleanup = incident.steps.find((s) => s.id === 'cleanup')!;
  expect(cleanup.actions[0]!.status).toBe('failed');
  expect(cleanup.actions[0]!.error?.message).toMatch(
    /refusing to delete 2 quarantined pods with no evidence collected in EGR-DQ-1: payments-api-a, payments-api-b; run k8s.collect-evidence first/,
  );
  expect(
    events.some((e) => e.kind === 'action.failed' && e.details.action === 'k8s.delete-quarantined-pods'),
  ).toBe(true);
  expect(fake.list('Pod', NS)).toHaveLength(2);
  expect(fake.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
});

it('once each pod has its evidence bundle stored, the cleanup deletes them', async () => {
  const { incident } = await run(true);
  const evidence = incident.steps.find((s) => s.id === 'evidence')!;
  expect(evidence.actions[0]!.status).toBe('applied');
  const cleanup = incident.steps.find((s) => s.id === 'cleanup')!;
  expect(cleanup.actions[0]!.status).toBe('applied');
  expect((cleanup.actions[0]!.plan as { summary: string }).summary).toContain(
    'the evidence of each is stored',
  );
  expect(fake.list('Pod', NS)).toHaveLength(0);
});
