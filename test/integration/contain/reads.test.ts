import { containHarness, NS, PODS, runContain, seedAdditiveTrap } from '../../builders/additive-trap.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// Time to containment is round trips to the API server (bench/contain.bench.js): what the contain
// step reads, and how often, is pinned here. Each pod is still judged from a read made right before its
// write, but one list of the selection serves all of them instead of one GET per pod.

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
