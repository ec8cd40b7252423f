// What evidence collection reads through the Cluster interface, over the real client against the
// fake API server: each container's log and its previous instance's (a container that never
// restarted has none: the server's 400 comes back as k8s_invalid), and a pod's Events by field selector.
import type { Cluster } from '../../../src/k8s/cluster.js';
import { createKubeCluster } from '../../../src/k8s/kube-cluster.js';
import { aPod, type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { rejectedCoded } from '../../support/coded.js';

let fake: FakeKubeApi;
let cluster: Cluster;

beforeAll(async () => {
  fake = await startFakeKubeApi({ requireToken: true });
  cluster = createKubeCluster({
    kubeconfigPath: fake.kubeconfig(),
    retry: { attempts: 1, baseMs: 1, capMs: 1, timeoutMs: 2_000 },
  });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

function twoContainerPod() {
  const pod = aPod({ namespace: 'prod', name: 'payments-api-1' });
  (pod.spec as { containers: unknown[] }).containers.push({
    name: 'istio-proxy',
    image: 'istio/proxyv2:1.22',
  });
  return fake.put(pod);
}

describe('pod logs per container, current and previous', () => {
  it('reads the tail of each container, and the previous instance where there is one', async () => {
    twoContainerPod();
    fake.setPodLog('prod', 'payments-api-1', 'a1\na2\na3\n', { container: 'app' });
    fake.setPodLog('prod', 'payments-api-1', 'crashed 1\ncrashed 2\n', { container: 'app', previous: true });
    fake.setPodLog('prod', 'payments-api-1', 'envoy\n', { container: 'istio-proxy' });

    expect(await cluster.podLogs('prod', 'payments-api-1', { container: 'app', tailLines: 2 })).toBe(
      'a2\na3\n',
    );
    expect(
      await cluster.podLogs('prod', 'payments-api-1', { container: 'app', previous: true, tailLines: 500 }),
    ).toBe('crashed 1\ncrashed 2\n');
    expect(fake.requests.at(-1)?.query).toMatchObject({
      container: 'app',
      previous: 'true',
      tailLines: '500',
    });

    const err = await rejectedCoded(
      cluster.podLogs('prod', 'payments-api-1', { container: 'istio-proxy', previous: true }),
    );
    expect(err.code).toBe('k8s_invalid');
    expect(err.message).toContain(
      'previous terminated container "istio-proxy" in pod "payments-api-1" not found',
    );
  });

  it('refuses a container the pod does not have, and a pod of several containers without one named', async () => {
    twoContainerPod();
    expect(
      (await rejectedCoded(cluster.podLogs('prod', 'payments-api-1', { container: 'nope' }))).message,
    ).toContain('container nope is not valid for pod payments-api-1');
    expect((await rejectedCoded(cluster.podLogs('prod', 'payments-api-1'))).message).toContain(
      'a container name must be specified for pod payments-api-1',
    );
  });
});

describe('events of one pod', () => {
  it('lists the Events whose involvedObject is the pod, by field selector', async () => {
    const pod = twoContainerPod();
    const uid = (pod.metadata as { uid: string }).uid;
    const event = (name: string, involved: Record<string, string>, reason: string) =>
      fake.put({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { namespace: 'prod', name },
        involvedObject: { apiVersion: 'v1', namespace: 'prod', ...involved },
        reason,
        message: `${reason} happened`,
        type: 'Warning',
      });
    event('e1', { kind: 'Pod', name: 'payments-api-1', uid }, 'BackOff');
    event('e2', { kind: 'Pod', name: 'other-pod', uid: 'x' }, 'Pulled');
    event('e3', { kind: 'ReplicaSet', name: 'payments-api-1', uid: 'y' }, 'SuccessfulCreate');

    const events = await cluster.list('v1', 'Event', 'prod', {
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=payments-api-1,involvedObject.uid=${uid}`,
    });
    expect(events.map((e) => e.metadata.name)).toEqual(['e1']);
    expect(events[0]).toMatchObject({ apiVersion: 'v1', kind: 'Event', reason: 'BackOff' });
  });
});
