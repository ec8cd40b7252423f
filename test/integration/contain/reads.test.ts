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
