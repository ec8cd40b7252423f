// What only the snapshot cluster does (the shared contract is in snapshot-contract.test.ts): custom
// kinds served only when present, any served version of them, no logs (said, and evidence collection
// goes on), every access check allowed, a namespace that must exist, names that are only data, and
// writes that stay in memory.
import { collectEvidence } from '../../../src/actions/k8s/evidence/index.js';
import type { Cluster } from '../../../src/k8s/cluster.js';
import { createSnapshotCluster } from '../../../src/k8s/snapshot-cluster.js';
import { parseSnapshot } from '../../../src/k8s/snapshot-file.js';
import { testEngine } from '../../builders/engine.js';
import { rejectedCoded } from '../../support/coded.js';
import { CONTRACT_SNAPSHOT } from './cluster-contract.js';

const cluster = (text = CONTRACT_SNAPSHOT): Cluster =>
  createSnapshotCluster(parseSnapshot(text, 'snap.yaml', 'k8s_invalid'));
const POD = { apiVersion: 'v1', kind: 'Pod', namespace: 'prod' } as const;

describe('snapshot cluster', () => {
  it('is named after its file, and allows every access check', async () => {
    const c = cluster();
    expect(c.name).toBe('snapshot snap.yaml');
    expect(await c.canI({ verb: 'patch', group: '', resource: 'pods', namespace: 'prod' })).toBe(true);
  });

  it('serves a custom group only when the snapshot holds it, in every version it has; subresources as the API does', async () => {
    const c = cluster();
    expect(await c.serves('security.istio.io', 'v1beta1', 'authorizationpolicies')).toBe(true);
    const beta = await c.list('security.istio.io/v1beta1', 'AuthorizationPolicy', 'prod');
    expect(beta.map((o) => o.apiVersion)).toEqual(['security.istio.io/v1beta1']);
    expect(await c.serves('cilium.io', 'v2', 'ciliumnetworkpolicies')).toBe(false);
    const cilium = cluster(
      'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: p, namespace: prod }\nspec: {}\n',
    );
    expect(await cilium.serves('cilium.io', 'v2', 'ciliumnetworkpolicies')).toBe(true);
    expect(await cilium.serves('cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies')).toBe(true);
    expect(await cilium.serves('security.istio.io', 'v1', 'authorizationpolicies')).toBe(false);
    expect(await c.serves('policy.networking.k8s.io', 'v1alpha1', 'adminnetworkpolicies')).toBe(false);
    expect(await c.serves('', 'v1', 'pods/log')).toBe(true);
    expect(await c.serves('apps', 'v1', 'deployments/status')).toBe(true);
    expect(await c.serves('', 'v1', 'secrets/status')).toBe(false);
    expect(await c.serves('', 'v1', 'constructor')).toBe(false);
    const err = await rejectedCoded(
      c.apply(
        {
          apiVersion: 'cilium.io/v2',
          kind: 'CiliumNetworkPolicy',
          metadata: { name: 'x', namespace: 'prod' },
        },
        { dryRun: true, fieldManager: 'm' },
      ),
    );
    expect([err.code, err.details.reason]).toEqual(['k8s_not_found', 'KindNotServed']);
  });

  it('has no logs: says so as k8s_not_found naming the pod; a missing pod is not found as the API says it', async () => {
    const c = cluster();
    const err = await rejectedCoded(c.podLogs('prod', 'payments-api-7d9f-a', { container: 'app' }));
    expect(err.code).toBe('k8s_not_found');
    expect(err.message).toBe(
      'no logs in a snapshot: snap.yaml holds objects, not container output (pods/log "payments-api-7d9f-a" in namespace "prod")',
    );
    const gone = await rejectedCoded(c.podLogs('prod', 'gone'));
    expect(gone.message).toBe('pods/log "gone" not found in namespace "prod"');
  });

  it('evidence collection goes on without logs: the bundle is stored and the missing logs are named as problems', async () => {
    const c = cluster();
    const t = testEngine({ actions: [collectEvidence], deps: { cluster: c } });
    const inc = await t.open({});
    await c.patch(
      { ...POD, name: 'payments-api-7d9f-a' },
      {
        metadata: {
          labels: { quarantine: 'true' },
          annotations: { 'egress-responder.io/incident': inc.id },
        },
      },
      'merge',
      { dryRun: false },
    );
    const after = await t.engine.runAction(inc.id, { uses: 'k8s.collect-evidence', with: {} }, 'U1');
    const action = after.steps.at(-1)!.actions[0]!;
    expect(action.status).toBe('applied');
    const pods = (action.outcome as { data: { pods: { name: string; problems: string[] }[] } }).data.pods;
    expect(pods.map((p) => p.name)).toEqual(['payments-api-7d9f-a']);
    expect(pods[0]!.problems).toHaveLength(4); // two containers, current and previous
    expect(pods[0]!.problems[0]).toMatch(/^log of app: no logs in a snapshot: snap\.yaml holds objects/);
    const names = (await t.store.artifacts.list(inc.id)).map((a) => a.name);
    expect(names).toEqual(['payments-api-7d9f-a.evidence.json']);
  });

  it('creates only in a namespace the snapshot knows (its Namespace, or anything in it)', async () => {
    const c = cluster();
    const policy = (namespace: string) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'deny', namespace },
      spec: { podSelector: {} },
    });
    const err = await rejectedCoded(c.create(policy('staging'), { dryRun: true }));
    // In KubeCluster's words for the API's 404 (`namespaces "staging" not found`) on that create.
    expect([err.code, err.details.status, err.message]).toEqual([
      'k8s_not_found',
      404,
      'networkpolicies "deny" not found in namespace "staging"',
    ]);
    expect((await c.create(policy('kube-system'), { dryRun: true })).metadata.namespace).toBe('kube-system');
  });

  it('treats names and keys as data: a pod named constructor, labels named like Object methods, a __proto__ key', async () => {
    const c = cluster(`
apiVersion: v1
kind: Pod
metadata: { name: constructor, namespace: prod, labels: { constructor: x, toString: y } }
spec: { containers: [{ name: a }], __proto__: { polluted: yes } }
`);
    const pod = await c.getPod('prod', 'constructor');
    expect(pod?.metadata.labels).toEqual({ constructor: 'x', toString: 'y' });
    expect(Object.hasOwn(pod?.spec ?? {}, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await c.getPod('prod', 'toString')).toBeUndefined();
    expect((await c.listPods('prod', { labelSelector: 'constructor=x,toString' })).length).toBe(1);
    expect((await c.listPods('prod', { labelSelector: 'hasOwnProperty' })).length).toBe(0);
    const patched = await c.patch(
      { ...POD, name: 'constructor' },
      JSON.parse('{"spec":{"__proto__":{"injected":"yes"}},"metadata":{"labels":{"valueOf":"z"}}}'),
      'merge',
      { dryRun: false },
    );
    expect(({} as Record<string, unknown>).injected).toBeUndefined();
    expect(Object.getPrototypeOf(patched.spec)).toBe(Object.prototype);
    expect(patched.metadata.labels).toEqual({ constructor: 'x', toString: 'y', valueOf: 'z' });
  });

  it('keeps writes in memory only: another cluster from the same snapshot sees none of them', async () => {
    const snap = parseSnapshot(CONTRACT_SNAPSHOT, 'snap.yaml', 'k8s_invalid');
    const a = createSnapshotCluster(snap);
    await a.delete({ ...POD, name: 'debug' }, { dryRun: false });
    expect(await a.getPod('prod', 'debug')).toBeUndefined();
    expect(await createSnapshotCluster(snap).getPod('prod', 'debug')).toBeDefined();
  });

  it('stops when the caller aborts', async () => {
    const ac = new AbortController();
    ac.abort(new Error('step cancelled'));
    await expect(cluster().listPods('prod', { signal: ac.signal })).rejects.toThrow('step cancelled');
  });
});
