// The Cluster implementation, through the real @kubernetes/client-node, against the fake API server.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Cluster } from '../../../src/k8s/cluster.js';
import { createKubeCluster, type KubeClusterOptions } from '../../../src/k8s/kube-cluster.js';
import { formatLabelSelector, matchesLabelSelector } from '../../../src/k8s/selectors.js';
import { type KubeObject, type NetworkPolicy, summarizePod } from '../../../src/k8s/types.js';
import {
  aPod,
  DEFAULT_FAKE_USER,
  type FakeKubeApi,
  ownerReferenceTo,
  seedDeployment,
  startFakeKubeApi,
} from '../../fakes/kube-api/index.js';
import { rejectedCoded as rejection } from '../../support/coded.js';

const fastRetry = { attempts: 4, baseMs: 5, capMs: 40, timeoutMs: 2_000, maxRetryAfterMs: 5_000 };

/** A Cluster over the real client, pointed at the fake, with fast retries. */
function clusterFor(fake: FakeKubeApi, opts: Omit<KubeClusterOptions, 'kubeconfigPath'> = {}): Cluster {
  return createKubeCluster({
    kubeconfigPath: fake.kubeconfig(),
    random: () => 0.5,
    ...opts,
    retry: { ...fastRetry, ...opts.retry },
  });
}

/** The CodedError a promise rejects with (fails the test when it resolves or throws something else). */

let fake: FakeKubeApi;
let cluster: Cluster;

beforeAll(async () => {
  fake = await startFakeKubeApi({ requireToken: true });
  cluster = clusterFor(fake);
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  seedDeployment(fake, {
    namespace: 'prod',
    name: 'payments-api',
    replicas: 2,
    labels: { app: 'payments-api', tier: 'backend' },
  });
  seedDeployment(fake, {
    namespace: 'prod',
    name: 'orders-api',
    replicas: 1,
    labels: { app: 'orders-api', tier: 'backend' },
  });
  fake.put(
    aPod({
      namespace: 'prod',
      name: 'web-canary',
      labels: { app: 'web', track: 'canary' },
      phase: 'Pending',
    }),
  );
  fake.put(
    aPod({
      namespace: 'prod',
      name: 'suspect',
      labels: { app: 'batch', quarantine: 'true' },
      serviceAccountName: 'batch-runner',
    }),
  );
  fake.put(aPod({ namespace: 'staging', name: 'payments-api-staging', labels: { app: 'payments-api' } }));
});

const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

describe('reading', () => {
  it.each([
    ['app=payments-api', ['payments-api-5d8f7c9b6-a0x0', 'payments-api-5d8f7c9b6-b1x1']],
    ['app==orders-api', ['orders-api-5d8f7c9b6-a0x0']],
    ['tier=backend,app!=payments-api', ['orders-api-5d8f7c9b6-a0x0']],
    ['app in (web, batch)', ['suspect', 'web-canary']],
    ['app notin (payments-api,orders-api)', ['suspect', 'web-canary']],
    ['track', ['web-canary']],
    ['!tier,!quarantine', ['web-canary']],
    [
      'quarantine!=true',
      [
        'orders-api-5d8f7c9b6-a0x0',
        'payments-api-5d8f7c9b6-a0x0',
        'payments-api-5d8f7c9b6-b1x1',
        'web-canary',
      ],
    ],
  ])('lists pods by label selector %s', async (labelSelector, expected) => {
    const pods = await cluster.listPods('prod', { labelSelector });
    expect(names(pods)).toEqual(expected);
    expect(fake.requestsMatching({ path: '/api/v1/namespaces/prod/pods' }).at(-1)?.query.labelSelector).toBe(
      labelSelector,
    );
  });

  it('lists pods by field selector (service account, phase, name)', async () => {
    expect(
      names(await cluster.listPods('prod', { fieldSelector: 'spec.serviceAccountName=batch-runner' })),
    ).toEqual(['suspect']);
    expect(names(await cluster.listPods('prod', { fieldSelector: 'status.phase=Pending' }))).toEqual([
      'web-canary',
    ]);
    expect(
      names(
        await cluster.listPods('prod', {
          labelSelector: 'app=payments-api',
          fieldSelector: 'metadata.name!=payments-api-5d8f7c9b6-a0x0',
        }),
      ),
    ).toEqual(['payments-api-5d8f7c9b6-b1x1']);
  });

  it('rejects a malformed selector as k8s_invalid with the server message', async () => {
    const err = await rejection(cluster.listPods('prod', { labelSelector: 'app in (a' }));
    expect(err.code).toBe('k8s_invalid');
    expect(err.message).toMatch(/unable to parse requirement|found ''/);
  });

  it('returns the JSON the server sent: kind on list items, timestamps as strings, unknown fields kept', async () => {
    const seeded = fake.put({
      ...aPod({ namespace: 'prod', name: 'future', labels: { app: 'future' } }),
      spec: { containers: [{ name: 'app', image: 'x' }], futureField: { keep: ['me'] } },
    });
    const [pod] = await cluster.listPods('prod', { labelSelector: 'app=future' });
    expect(pod).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    expect(typeof pod!.metadata.creationTimestamp).toBe('string');
    expect(pod!.spec).toEqual(seeded.spec);
    const got = await cluster.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'future' });
    expect(got).toEqual(seeded);
    expect(summarizePod(pod!)).toMatchObject({
      name: 'future',
      namespace: 'prod',
      phase: 'Running',
      serviceAccountName: 'default',
    });
  });

  it('follows continue tokens across pages', async () => {
    for (let i = 0; i < 1100; i++) {
      fake.put({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { namespace: 'bulk', name: `cm-${String(i).padStart(4, '0')}` },
      });
    }
    const all = await cluster.list('v1', 'ConfigMap', 'bulk');
    expect(all).toHaveLength(1100);
    expect(new Set(all.map((o) => o.metadata.name)).size).toBe(1100);
    const pages = fake.requestsMatching({ method: 'GET', path: '/api/v1/namespaces/bulk/configmaps' });
    expect(pages).toHaveLength(3);
    expect(pages[1]!.query.continue).toBeDefined();
  });

  it('lists cluster-wide only when asked explicitly; an empty namespace is refused', async () => {
    expect(
      names(await cluster.list('v1', 'Pod', undefined, { labelSelector: 'app=payments-api' })),
    ).toHaveLength(3);
    expect(fake.requests.at(-1)?.path).toBe('/api/v1/pods');
    const err = await rejection(cluster.listPods('', { labelSelector: 'app=payments-api' }));
    expect(err.code).toBe('k8s_invalid');
  });

  it('gets undefined for a missing object, and a pod that exists', async () => {
    expect(await cluster.getPod('prod', 'nope')).toBeUndefined();
    expect((await cluster.getPod('prod', 'suspect'))?.metadata.labels).toEqual({
      app: 'batch',
      quarantine: 'true',
    });
  });

  it('lists NetworkPolicies with their spec', async () => {
    fake.put({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'prod', name: 'payments-egress-allow-dns-and-internal' },
      spec: {
        podSelector: { matchLabels: { app: 'payments-api' } },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [{ protocol: 'UDP', port: 53 }],
          },
        ],
      },
    });
    const [np] = await cluster.listNetworkPolicies('prod');
    expect(np).toMatchObject({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' });
    expect((np as NetworkPolicy).spec.egress?.[0]?.ports).toEqual([{ protocol: 'UDP', port: 53 }]);
  });

  it('reads the tail of a pod log', async () => {
    fake.setPodLog('prod', 'suspect', 'one\ntwo\nthree\nfour\n');
    expect(await cluster.podLogs('prod', 'suspect', { tailLines: 2 })).toBe('three\nfour\n');
    expect(fake.requests.at(-1)?.query.tailLines).toBe('2');
  });

  it('sends the bearer token on every request', () => {
    return cluster.listPods('prod').then(() => {
      expect(fake.requests.length).toBeGreaterThan(0);
      expect(fake.requests.every((r) => r.authenticated)).toBe(true);
    });
  });
});

describe('owner lookup', () => {
  it('follows pod → ReplicaSet → Deployment', async () => {
    const owner = await cluster.podOwnerWorkload('prod', 'payments-api-5d8f7c9b6-a0x0');
    expect(owner).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'payments-api',
      namespace: 'prod',
    });
    const dep = fake.get('Deployment', 'prod', 'payments-api')!;
    expect(owner?.uid).toBe((dep.metadata as { uid: string }).uid);
  });

  it('stops at a StatefulSet, and at a ReplicaSet nobody owns', async () => {
    const sts = fake.put({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { namespace: 'prod', name: 'ledger' },
      spec: {},
    });
    fake.put(aPod({ namespace: 'prod', name: 'ledger-0', ownerReferences: [ownerReferenceTo(sts)] }));
    expect(await cluster.podOwnerWorkload('prod', 'ledger-0')).toMatchObject({
      kind: 'StatefulSet',
      name: 'ledger',
    });

    const rs = fake.put({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { namespace: 'prod', name: 'loose-rs' },
      spec: {},
    });
    fake.put(aPod({ namespace: 'prod', name: 'loose-rs-x', ownerReferences: [ownerReferenceTo(rs)] }));
    expect(await cluster.podOwnerWorkload('prod', 'loose-rs-x')).toMatchObject({
      kind: 'ReplicaSet',
      name: 'loose-rs',
    });
  });

  it('is undefined for a bare pod or a missing one', async () => {
    expect(await cluster.podOwnerWorkload('prod', 'suspect')).toBeUndefined();
    expect(await cluster.podOwnerWorkload('prod', 'gone')).toBeUndefined();
  });
});

describe('patching', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'payments-api-5d8f7c9b6-a0x0' };

  it('merge patch adds a label and an annotation, and null removes a label', async () => {
    const patched = await cluster.patch(
      pod,
      { metadata: { labels: { quarantine: 'true' }, annotations: { 'egress-responder/incident': 'INC-1' } } },
      'merge',
      { dryRun: false },
    );
    expect(patched.metadata.labels).toMatchObject({ app: 'payments-api', quarantine: 'true' });
    const req = fake.requests.at(-1)!;
    expect(req).toMatchObject({ method: 'PATCH', contentType: 'application/merge-patch+json' });
    expect(req.query).toEqual({ fieldManager: 'egress-responder' });
    const undone = await cluster.patch(pod, { metadata: { labels: { quarantine: null } } }, 'merge', {
      dryRun: false,
    });
    expect(undone.metadata.labels).not.toHaveProperty('quarantine');
    expect((fake.get('Pod', 'prod', pod.name)!.metadata as KubeObject['metadata']).labels).not.toHaveProperty(
      'quarantine',
    );
  });

  it('strategic merge patch merges containers by name', async () => {
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'payments-api' };
    const stored = fake.get('Deployment', 'prod', 'payments-api')!;
    fake.put({
      ...stored,
      spec: {
        ...(stored.spec as object),
        template: {
          metadata: { labels: { app: 'payments-api' } },
          spec: {
            containers: [
              { name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }] },
              { name: 'proxy', image: 'envoy:1' },
            ],
          },
        },
      },
    });
    const patched = await cluster.patch<
      KubeObject & { spec: { template: { spec: { containers: unknown[] } } } }
    >(
      dep,
      {
        spec: {
          template: {
            metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T14:03:12Z' } },
            spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '2' }] }] },
          },
        },
      },
      'strategic',
      { dryRun: false },
    );
    expect(fake.requests.at(-1)?.contentType).toBe('application/strategic-merge-patch+json');
    expect(patched.spec.template.spec.containers).toEqual([
      {
        name: 'app',
        image: 'app:1',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
      { name: 'proxy', image: 'envoy:1' },
    ]);
    expect(patched.metadata.generation).toBe(2);
  });

  it('JSON patch applies test + remove, and a failed test changes nothing', async () => {
    const patched = await cluster.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'suspect' },
      [
        { op: 'test', path: '/metadata/labels/quarantine', value: 'true' },
        { op: 'remove', path: '/metadata/labels/quarantine' },
        { op: 'add', path: '/metadata/labels/detached~1from', value: 'batch' },
      ],
      'json',
      { dryRun: false },
    );
    expect(fake.requests.at(-1)?.contentType).toBe('application/json-patch+json');
    expect(patched.metadata.labels).toEqual({ app: 'batch', 'detached/from': 'batch' });

    const before = fake.get('Pod', 'prod', 'suspect');
    const err = await rejection(
      cluster.patch(
        { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'suspect' },
        [
          { op: 'test', path: '/metadata/labels/app', value: 'not-batch' },
          { op: 'remove', path: '/metadata/labels/app' },
        ],
        'json',
        { dryRun: false },
      ),
    );
    expect(err.code).toBe('k8s_invalid');
    expect(fake.get('Pod', 'prod', 'suspect')).toEqual(before);
  });

  it('refuses a patch body of the wrong shape for its strategy before sending', async () => {
    const n = fake.requests.length;
    const err = await rejection(cluster.patch(pod, { metadata: {} }, 'json', { dryRun: false }));
    expect(err.code).toBe('k8s_invalid');
    expect(fake.requests.slice(n).filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });

  it('patches the status subresource of a cert-manager Certificate', async () => {
    fake.serve('cert-manager');
    fake.put({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { namespace: 'prod', name: 'payments-tls' },
      spec: { secretName: 'payments-tls', dnsNames: ['payments.example'] },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const ref = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      namespace: 'prod',
      name: 'payments-tls',
    };
    const issuing = {
      type: 'Issuing',
      status: 'True',
      reason: 'ManuallyTriggered',
      message: 'Certificate re-issuance manually triggered',
    };
    // Strategic merge does not apply to custom resources: merge patch, which replaces the list.
    const renewed = await cluster.patch<KubeObject & { status: { conditions: unknown[] } }>(
      ref,
      { status: { conditions: [{ type: 'Ready', status: 'True' }, issuing] } },
      'merge',
      { dryRun: false, subresource: 'status' },
    );
    expect(fake.requests.at(-1)?.path).toBe(
      '/apis/cert-manager.io/v1/namespaces/prod/certificates/payments-tls/status',
    );
    expect(renewed.status.conditions).toContainEqual(issuing);
    // The main resource ignores status changes, as the real server does.
    await cluster.patch(ref, { status: { conditions: [] }, spec: { renewBefore: '360h' } }, 'merge', {
      dryRun: false,
    });
    const stored = fake.get('Certificate', 'prod', 'payments-tls')!;
    expect((stored.status as { conditions: unknown[] }).conditions).toContainEqual(issuing);
    expect((stored.spec as { renewBefore: string }).renewBefore).toBe('360h');
    const strategic = await rejection(cluster.patch(ref, { spec: {} }, 'strategic', { dryRun: false }));
    expect(strategic.code).toBe('k8s_invalid');
    expect(strategic.details.status).toBe(415);
  });
});

describe('server-side apply', () => {
  const policy = (egress: unknown[] = []): NetworkPolicy => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: 'quarantine-deny-egress',
      namespace: 'prod',
      labels: { 'app.kubernetes.io/managed-by': 'egress-responder' },
      annotations: { 'egress-responder/incident': 'INC-7' },
    },
    spec: {
      podSelector: { matchLabels: { quarantine: 'true' } },
      policyTypes: ['Egress'],
      egress: egress as [],
    },
  });

  it('creates, then re-applies idempotently, then updates only what changed', async () => {
    const created = await cluster.apply(policy(), { dryRun: false, fieldManager: 'egress-responder' });
    const req = fake.requests.at(-1)!;
    expect(req).toMatchObject({
      method: 'PATCH',
      path: '/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies/quarantine-deny-egress',
      contentType: 'application/apply-patch+yaml',
    });
    expect(req.query).toEqual({ fieldManager: 'egress-responder' });
    expect(created.metadata.uid).toBeDefined();

    const again = await cluster.apply(policy(), { dryRun: false, fieldManager: 'egress-responder' });
    expect(again.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(again).toEqual(created);

    const dns = { ports: [{ protocol: 'UDP', port: 53 }] };
    const changed = await cluster.apply(policy([dns]), {
      dryRun: false,
      fieldManager: 'egress-responder',
      force: true,
    });
    expect(fake.requests.at(-1)?.query.force).toBe('true');
    expect(Number(changed.metadata.resourceVersion)).toBeGreaterThan(
      Number(created.metadata.resourceVersion),
    );
    expect(changed.spec).toEqual({ ...policy().spec, egress: [dns] });
    expect(changed.metadata.uid).toBe(created.metadata.uid);
  });

  it('applies a custom resource when its API is served, and says when it is not', async () => {
    const ap = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'deny-payments-api', namespace: 'prod' },
      spec: {
        action: 'DENY',
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/prod/sa/payments-api'] } }] }],
      },
    };
    const err = await rejection(cluster.apply(ap, { dryRun: false, fieldManager: 'egress-responder' }));
    expect(err.code).toBe('k8s_not_found');
    expect(err.message).toContain('does not serve AuthorizationPolicy (security.istio.io/v1)');

    fake.serve('istio');
    const applied = await cluster.apply(ap, { dryRun: false, fieldManager: 'egress-responder' });
    expect(applied.spec).toEqual(ap.spec);
    expect(fake.get('AuthorizationPolicy', 'prod', 'deny-payments-api')).toBeDefined();
  });
});

describe('dry run', () => {
  it('sends dryRun=All on every kind of write and changes nothing', async () => {
    const podRef = { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'payments-api-5d8f7c9b6-a0x0' };
    const podBefore = fake.get('Pod', 'prod', podRef.name);
    const start = fake.requests.length;

    const patched = await cluster.patch(podRef, { metadata: { labels: { quarantine: 'true' } } }, 'merge', {
      dryRun: true,
    });
    expect(patched.metadata.labels).toMatchObject({ quarantine: 'true' });
    expect(patched.metadata.resourceVersion).toBe(
      (podBefore!.metadata as { resourceVersion: string }).resourceVersion,
    );

    const np: NetworkPolicy = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'quarantine-deny-egress', namespace: 'prod' },
      spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Egress'] },
    };
    const applied = await cluster.apply(np, { dryRun: true, fieldManager: 'egress-responder' });
    expect(applied.spec).toEqual(np.spec);
    await cluster.create({ ...np, metadata: { ...np.metadata, name: 'created-dry' } }, { dryRun: true });
    await cluster.replace(
      { ...podBefore!, metadata: { ...(podBefore!.metadata as object), labels: {} } } as KubeObject,
      { dryRun: true },
    );
    expect(await cluster.delete(podRef, { dryRun: true, propagationPolicy: 'Background' })).toBe(true);

    const writes = fake.requests.slice(start).filter((r) => r.method !== 'GET');
    expect(writes.map((r) => r.method)).toEqual(['PATCH', 'PATCH', 'POST', 'PUT', 'DELETE']);
    for (const w of writes) expect(w.query.dryRun).toBe('All');
    expect(fake.get('Pod', 'prod', podRef.name)).toEqual(podBefore);
    expect(fake.list('NetworkPolicy', 'prod')).toEqual([]);
  });
});

describe('writes', () => {
  it('creates, replaces with a fresh resourceVersion, and deletes', async () => {
    const cm = await cluster.create<KubeObject>(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'evidence', namespace: 'prod' },
        data: { a: '1' },
      },
      { dryRun: false },
    );
    expect(cm.metadata.resourceVersion).toBeDefined();
    const replaced = await cluster.replace({ ...cm, data: { a: '2' } }, { dryRun: false });
    expect(replaced.data).toEqual({ a: '2' });
    expect(
      await cluster.delete(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'prod', name: 'evidence' },
        { dryRun: false },
      ),
    ).toBe(true);
    expect(fake.get('ConfigMap', 'prod', 'evidence')).toBeUndefined();
    expect(
      await cluster.delete(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'prod', name: 'evidence' },
        { dryRun: false },
      ),
    ).toBe(false);
  });

  it('creates a Job and reads its pods', async () => {
    const job = await cluster.create<KubeObject>(
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { generateName: 'rotate-', namespace: 'prod' },
        spec: {
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'rotate', image: 'rotator:1' }] },
          },
        },
      },
      { dryRun: false },
    );
    expect(job.metadata.name).toMatch(/^rotate-/);
    expect(
      await cluster.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: 'prod', name: job.metadata.name! }),
    ).toBeDefined();
  });
});

describe('errors', () => {
  const podRef = { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'payments-api-5d8f7c9b6-a0x0' };

  it('403 from RBAC → k8s_forbidden naming the verb, resource, namespace and ServiceAccount', async () => {
    fake.deny({ verb: 'patch', resource: 'pods', namespace: 'prod' });
    const err = await rejection(
      cluster.patch(podRef, { metadata: { labels: { quarantine: 'true' } } }, 'merge', { dryRun: false }),
    );
    expect(err.code).toBe('k8s_forbidden');
    expect(err.userSafe).toBe(true);
    expect(err.message).toContain('may not patch pods in namespace "prod"');
    expect(err.message).toContain(DEFAULT_FAKE_USER);
    expect(err.message).toContain('verbs: ["patch"]');
    expect(err.details).toMatchObject({
      status: 403,
      verb: 'patch',
      resource: 'pods',
      group: '',
      namespace: 'prod',
    });
    // Reading is still allowed, and SelfSubjectAccessReview agrees with the server.
    expect(await cluster.listPods('prod')).not.toHaveLength(0);
    expect(await cluster.canI({ verb: 'patch', group: '', resource: 'pods', namespace: 'prod' })).toBe(false);
    expect(await cluster.canI({ verb: 'list', group: '', resource: 'pods', namespace: 'prod' })).toBe(true);
    expect(await cluster.canI({ verb: 'patch', group: '', resource: 'pods', namespace: 'staging' })).toBe(
      true,
    );
  });

  it('403 injected on a cluster-scoped resource → k8s_forbidden saying cluster-wide', async () => {
    fake.serve('adminnetworkpolicy');
    fake.fail({ method: 'PATCH', path: /adminnetworkpolicies/, status: 403 });
    const err = await rejection(
      cluster.apply(
        {
          apiVersion: 'policy.networking.k8s.io/v1alpha1',
          kind: 'AdminNetworkPolicy',
          metadata: { name: 'quarantine-deny' },
          spec: { priority: 10, subject: { pods: {} }, egress: [{ action: 'Deny', to: [] }] },
        },
        { dryRun: false, fieldManager: 'egress-responder' },
      ),
    );
    expect(err.code).toBe('k8s_forbidden');
    expect(err.message).toContain(
      'may not patch adminnetworkpolicies (API group policy.networking.k8s.io) cluster-wide',
    );
  });

  it('403 that is not an RBAC denial (admission) quotes the server', async () => {
    fake.fail({
      method: 'PATCH',
      status: 403,
      message: 'admission webhook "policy.example" denied the request: no',
    });
    const err = await rejection(
      cluster.patch(podRef, { metadata: { labels: { a: 'b' } } }, 'merge', { dryRun: false }),
    );
    expect(err.code).toBe('k8s_forbidden');
    expect(err.message).toContain('refused to patch pods "payments-api-5d8f7c9b6-a0x0" in namespace "prod"');
    expect(err.message).toContain('admission webhook "policy.example" denied the request');
  });

  it('404 on a write → k8s_not_found naming the object', async () => {
    const err = await rejection(
      cluster.patch({ ...podRef, name: 'nope' }, { metadata: {} }, 'merge', { dryRun: false }),
    );
    expect(err.code).toBe('k8s_not_found');
    expect(err.message).toBe('pods "nope" not found in namespace "prod"');
  });

  it('409 on a stale resourceVersion → k8s_conflict, and nothing is written', async () => {
    const pod = (await cluster.getPod('prod', podRef.name))!;
    await cluster.patch(podRef, { metadata: { labels: { touched: 'yes' } } }, 'merge', { dryRun: false });
    const stale = {
      ...pod,
      metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, quarantine: 'true' } },
    };
    const err = await rejection(cluster.replace(stale, { dryRun: false }));
    expect(err.code).toBe('k8s_conflict');
    expect(err.message).toContain('the object has been modified');
    expect(err.details).toMatchObject({ status: 409, reason: 'Conflict' });
    const mergeErr = await rejection(
      cluster.patch(
        podRef,
        { metadata: { resourceVersion: pod.metadata.resourceVersion, labels: { quarantine: 'true' } } },
        'merge',
        {
          dryRun: false,
        },
      ),
    );
    expect(mergeErr.code).toBe('k8s_conflict');
    expect(
      (fake.get('Pod', 'prod', podRef.name)!.metadata as KubeObject['metadata']).labels,
    ).not.toHaveProperty('quarantine');
  });

  it('409 AlreadyExists on create → k8s_conflict', async () => {
    const err = await rejection(
      cluster.create(
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'suspect', namespace: 'prod' },
          spec: { containers: [{ name: 'a' }] },
        },
        {
          dryRun: false,
        },
      ),
    );
    expect(err.code).toBe('k8s_conflict');
    expect(err.details.reason).toBe('AlreadyExists');
    expect(err.message).toContain('pods "suspect" already exists');
  });

  it('422 → k8s_invalid with the server message', async () => {
    const err = await rejection(
      cluster.patch(podRef, { metadata: { labels: { quarantine: 'not ok!' } } }, 'merge', { dryRun: false }),
    );
    expect(err.code).toBe('k8s_invalid');
    expect(err.message).toContain('Invalid value: "not ok!"');
    expect(err.details.status).toBe(422);
  });

  it('429 with Retry-After is waited for and retried, then succeeds', async () => {
    const events: { delayMs: number; reason: string }[] = [];
    const c = clusterFor(fake, { onRetry: (e) => events.push(e) });
    await c.listPods('prod'); // discovery out of the way
    fake.fail({ method: 'GET', path: '/api/v1/namespaces/prod/pods', status: 429, retryAfterSeconds: 1 });
    const n = fake.requests.length;
    const t0 = Date.now();
    const pods = await c.listPods('prod', { labelSelector: 'app=payments-api' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(pods).toHaveLength(2);
    expect(fake.requests.slice(n)).toHaveLength(2);
    expect(events).toEqual([
      expect.objectContaining({
        attempt: 1,
        delayMs: 1000,
        reason: expect.stringContaining('429 TooManyRequests'),
      }),
    ]);
  });

  it('a Retry-After longer than the policy allows fails at once', async () => {
    fake.fail({ method: 'GET', path: '/api/v1/namespaces/prod/pods', status: 429, retryAfterSeconds: 60 });
    const err = await rejection(cluster.listPods('prod'));
    expect(err.code).toBe('k8s_unavailable');
    expect(err.message).toContain('retry after 60 s');
  });

  it('500 on every attempt → k8s_unavailable after the bounded attempts', async () => {
    await cluster.listPods('prod');
    fake.fail({ method: 'PATCH', path: '/api/v1/namespaces/prod/pods', status: 500, times: Infinity });
    const n = fake.requests.length;
    const err = await rejection(
      cluster.patch(podRef, { metadata: { labels: { a: 'b' } } }, 'merge', { dryRun: false }),
    );
    expect(err.code).toBe('k8s_unavailable');
    expect(err.message).toContain('after 4 attempts');
    expect(err.message).toContain('500 InternalError');
    expect(err.details).toMatchObject({ attempts: 4, verb: 'patch', resource: 'pods', namespace: 'prod' });
    expect(fake.requests.slice(n).filter((r) => r.method === 'PATCH')).toHaveLength(4);
  });

  it('503 twice, then success', async () => {
    fake.fail({ method: 'POST', path: /selfsubjectaccessreviews/, status: 503, times: 2 });
    expect(await cluster.canI({ verb: 'get', group: '', resource: 'pods', namespace: 'prod' })).toBe(true);
  });

  it('a slow server counts as a timeout and is retried', async () => {
    const c = clusterFor(fake, { retry: { timeoutMs: 150 } });
    await c.listPods('prod');
    fake.fail({ method: 'GET', path: '/api/v1/namespaces/prod/pods', delayMs: 400 });
    expect(await c.listPods('prod', { labelSelector: 'app=orders-api' })).toHaveLength(1);
    fake.fail({ method: 'GET', path: '/api/v1/namespaces/prod/pods', delayMs: 400, times: 4 });
    const err = await rejection(c.listPods('prod'));
    expect(err.code).toBe('k8s_unavailable');
    expect(err.message).toContain('timed out after 150 ms');
  });

  it('the caller aborting stops the retries with the abort reason', async () => {
    await cluster.listPods('prod');
    fake.fail({ method: 'GET', path: '/api/v1/namespaces/prod/pods', status: 500, times: Infinity });
    const c = clusterFor(fake, { retry: { baseMs: 2_000, capMs: 2_000 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('step cancelled')), 50);
    await expect(c.listPods('prod', { signal: ac.signal })).rejects.toThrow('step cancelled');
  });

  it('a wrong token → k8s_forbidden (401) that does not echo the token', async () => {
    const path = fake.kubeconfig({ context: 'wrong' });
    writeFileSync(path, readFileSync(path, 'utf8').replace(fake.token, 'sekrit-wrong-token'));
    const c = createKubeCluster({ kubeconfigPath: path, retry: { attempts: 1 } });
    const err = await rejection(c.listPods('prod'));
    expect(err.code).toBe('k8s_forbidden');
    expect(err.message).toContain('401');
    expect(JSON.stringify({ m: err.message, d: err.details })).not.toContain('sekrit');
    expect(c.name).toBe('wrong');
  });
});

describe('connection refused', () => {
  it('→ k8s_unavailable after the bounded attempts', async () => {
    const gone = await startFakeKubeApi();
    const c = clusterFor(gone);
    await gone.close();
    const err = await rejection(c.listPods('prod'));
    expect(err.code).toBe('k8s_unavailable');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toContain('after 4 attempts');
  });
});

describe('discovery', () => {
  it('says whether Istio AuthorizationPolicy is served, and caches the answer', async () => {
    const c = clusterFor(fake);
    expect(await c.serves('security.istio.io', 'v1', 'authorizationpolicies')).toBe(false);
    expect(await c.serves('networking.k8s.io', 'v1', 'networkpolicies')).toBe(true);
    expect(await c.serves('', 'v1', 'pods')).toBe(true);
    expect(await c.serves('networking.k8s.io', 'v1', 'nonsense')).toBe(false);
    const n = fake.requests.length;
    expect(await c.serves('security.istio.io', 'v1', 'authorizationpolicies')).toBe(false);
    expect(fake.requests.length).toBe(n);

    fake.serve('istio');
    const fresh = clusterFor(fake);
    expect(await fresh.serves('security.istio.io', 'v1', 'authorizationpolicies')).toBe(true);
    const short = clusterFor(fake, { discoveryTtlMs: 0 });
    fake.serve('istio', false);
    expect(await short.serves('security.istio.io', 'v1', 'authorizationpolicies')).toBe(false);
  });

  it('sees optional CNI APIs', async () => {
    fake.serve('cilium');
    fake.serve('adminnetworkpolicy');
    const c = clusterFor(fake);
    expect(await c.serves('cilium.io', 'v2', 'ciliumnetworkpolicies')).toBe(true);
    expect(await c.serves('policy.networking.k8s.io', 'v1alpha1', 'adminnetworkpolicies')).toBe(true);
  });
});

describe('selectors', () => {
  it('formats a LabelSelector the server understands and matches locally like the server', async () => {
    const sel = {
      matchLabels: { tier: 'backend' },
      matchExpressions: [
        { key: 'app', operator: 'In' as const, values: ['payments-api', 'orders-api'] },
        { key: 'quarantine', operator: 'DoesNotExist' as const },
      ],
    };
    expect(formatLabelSelector(sel)).toBe('tier=backend,app in (orders-api,payments-api),!quarantine');
    const served = await cluster.listPods('prod', { labelSelector: formatLabelSelector(sel) });
    const all = await cluster.listPods('prod');
    expect(names(all.filter((p) => matchesLabelSelector(sel, p.metadata.labels)))).toEqual(names(served));
    expect(served).toHaveLength(3);
    expect(matchesLabelSelector({}, {})).toBe(true);
    expect(
      matchesLabelSelector({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['a'] }] }, {}),
    ).toBe(true);
  });
});
