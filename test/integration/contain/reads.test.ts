import { k8sContainActions } from '../../../src/actions/k8s/index.js';
import {
  containHarness,
  NS,
  PODS,
  runContain,
  seedAdditiveTrap,
  trapCluster,
} from '../../builders/additive-trap.js';
import { sideAction, testEngine } from '../../builders/engine.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// Time to containment is round trips to the API server (bench/contain.bench.js): what the contain
// step reads, and how often, is pinned here. One list of the selection serves every pod instead of
// one GET each; within one pass of the step a read is made once (actions/shared-reads.ts), so the
// plans' reads also serve quarantine's check before its writes, and each label write carries the
// resourceVersion it was judged on.

const playbook = `
id: reads-test
title: Reads test
mode: hard
steps:
  - id: contain
    title: Contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - uses: k8s.quarantine
      - uses: k8s.deny-egress
        with: { remedy: isolate }
`;

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());
beforeEach(() => seedAdditiveTrap(fake));

const podPath = (name: string) => `/api/v1/namespaces/${NS}/pods/${name}`;

it('quarantine labels every pod of the plan from one list: no read of a pod by name, one patch each', async () => {
  const { inc } = await runContain(containHarness(fake, playbook));
  expect(inc.status).toBe('contained');
  for (const pod of PODS) {
    expect(fake.requestsMatching({ method: 'GET', path: podPath(pod) })).toEqual([]);
    expect(fake.requestsMatching({ method: 'PATCH', path: podPath(pod) })).toHaveLength(1);
    expect((fake.get('Pod', NS, pod)!.metadata as { labels: Record<string, string> }).labels.quarantine).toBe(
      'true',
    );
  }
});

it('the step’s plans are made side by side and recorded in order: while quarantine’s list is held, the other plans have read', async () => {
  const h = containHarness(fake, playbook);
  const list = `/api/v1/namespaces/${NS}/pods`;
  // The first list of the source's pods (k8s.quarantine's plan) is answered after 1.5 s.
  fake.fail({ method: 'GET', path: new RegExp(`^${list}$`), delayMs: 1_500 });
  const { id } = await h.open();
  const run = h.engine.advance(id);
  await new Promise((r) => setTimeout(r, 750));
  const policyLists = fake.requestsMatching({
    method: 'GET',
    path: `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`,
  });
  expect(policyLists.length).toBeGreaterThan(0); // k8s.deny-egress planned meanwhile
  const inc = await run;
  expect(inc.status).toBe('contained');
  const planned = (await h.store.timeline.read(id)).filter((e) => e.kind === 'action.planned');
  expect(planned.map((e) => e.summary.split(' ')[0])).toEqual(['k8s.quarantine', 'k8s.deny-egress']);
});

const POLICIES = `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`;
const LIST = `/api/v1/namespaces/${NS}/pods`;
const describe1 = (r: { method: string; path: string; query: Record<string, string> }) =>
  `${r.method} ${r.path}${r.query.labelSelector ? `?${r.query.labelSelector}` : ''}`;

it('a hard-mode pass reads each thing once before its first write, and afresh after it', async () => {
  const { inc } = await runContain(containHarness(fake, playbook));
  expect(inc.status).toBe('contained');
  const seen = fake.requests.filter((r) => r.path.startsWith('/api/v1/') || r.path.startsWith(POLICIES));
  const firstWrite = seen.findIndex((r) => r.method !== 'GET');
  const before = seen.slice(0, firstWrite).map(describe1);
  // The plans: the selection, the labelled pods and the namespace's policies, each once.
  expect([...before].sort()).toEqual(
    [`GET ${LIST}?app=payments-api`, `GET ${LIST}?quarantine=true`, `GET ${POLICIES}`].sort(),
  );
  const after = seen.slice(firstWrite).map(describe1);
  // The pods' label writes, then deny-egress's apply: no read of its policy by name (the plans' list
  // of every policy said whether it existed; the allow-policy the remedy patches is read afresh, after
  // the deny policy's write), and the verification reads the cluster afresh.
  expect(after.filter((r) => r === `GET ${POLICIES}/quarantine-deny-egress`)).toEqual([]);
  expect(after).toContain(`GET ${POLICIES}/payments-egress-allow-dns-and-internal`);
  expect(after.filter((r) => r.startsWith('PATCH'))).toHaveLength(PODS.length + 2); // 2 pods, deny, allow
  const lastWrite = after.map((r) => r.startsWith('GET')).lastIndexOf(false);
  expect(after.slice(lastWrite + 1)).toEqual(
    expect.arrayContaining([`GET ${POLICIES}`, `GET ${LIST}?quarantine=true`]),
  );
});

it('a pod someone changes between the plan’s read and the write is a 409, read again: labelled, their change kept', async () => {
  // Runs after the plans and before the destructive actions, as anyone else's write could.
  const someoneElse = sideAction('test.someone-else-annotates', () => {
    const pod = fake.get('Pod', NS, PODS[0]!)!;
    const meta = pod.metadata as { annotations?: Record<string, string> };
    fake.put({ ...pod, metadata: { ...meta, annotations: { ...meta.annotations, 'ops/owner': 'team-a' } } });
  });
  const yaml = playbook.replace(
    '      - uses: k8s.quarantine',
    '      - uses: test.someone-else-annotates\n      - uses: k8s.quarantine',
  );
  const t = testEngine({
    yaml,
    actions: [...k8sContainActions, someoneElse],
    deps: { cluster: trapCluster(fake) },
  });
  const { id } = await t.open({ mode: 'hard' });
  const inc = await t.engine.advance(id);
  expect(inc.status).toBe('contained');
  const quarantine = inc.steps[0]!.actions.find((a) => a.uses === 'k8s.quarantine')!;
  const pods = (
    quarantine.outcome as { data: { pods: { name: string; result: string; attempts?: number }[] } }
  ).data.pods;
  expect(pods.find((p) => p.name === PODS[0])).toMatchObject({ result: 'labelled', attempts: 2 });
  expect(pods.find((p) => p.name === PODS[1])).toMatchObject({ result: 'labelled' });
  expect(pods.find((p) => p.name === PODS[1])!.attempts).toBeUndefined();
  expect(fake.requestsMatching({ method: 'GET', path: podPath(PODS[0]!) })).toHaveLength(1);
  const meta = fake.get('Pod', NS, PODS[0]!)!.metadata as {
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  expect(meta.labels.quarantine).toBe('true');
  expect(meta.annotations['ops/owner']).toBe('team-a');
});
