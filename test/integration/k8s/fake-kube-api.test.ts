// The fake API server at the HTTP level (plain fetch): the behaviours other tests rely on.
import {
  type FakeKubeApi,
  type JsonObject,
  seedDeployment,
  startFakeKubeApi,
} from '../../fakes/kube-api/index.js';

let fake: FakeKubeApi;

beforeAll(async () => {
  fake = await startFakeKubeApi({ now: () => new Date('2026-11-25T14:00:00.000Z') });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; headers: Headers; json: JsonObject }> {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${fake.token}`,
      ...(body === undefined ? {} : { 'Content-Type': contentType }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: text.startsWith('{') ? (JSON.parse(text) as JsonObject) : { text },
  };
}

const cm = (name: string, extra: JsonObject = {}): JsonObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'prod' },
  data: { a: '1' },
  ...extra,
});

describe('discovery', () => {
  it('serves core, the fixed groups, and optional groups only when switched on', async () => {
    expect((await call('GET', '/api')).json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = async () =>
      ((await call('GET', '/apis')).json.groups as { name: string }[]).map((g) => g.name);
    expect(await groups()).toEqual([
      'apps',
      'batch',
      'networking.k8s.io',
      'rbac.authorization.k8s.io',
      'authorization.k8s.io',
    ]);
    fake.serve('istio');
    fake.serve('cert-manager');
    expect(await groups()).toEqual(expect.arrayContaining(['security.istio.io', 'cert-manager.io']));
    const list = (await call('GET', '/apis/cert-manager.io/v1')).json;
    expect(list).toMatchObject({ kind: 'APIResourceList', groupVersion: 'cert-manager.io/v1' });
    expect((list.resources as { name: string }[]).map((r) => r.name)).toEqual([
      'certificates',
      'certificates/status',
    ]);
    expect((await call('GET', '/apis/cilium.io/v2')).status).toBe(404);
    expect((await call('GET', '/version')).json).toMatchObject({ major: '1', minor: '32' });
  });
});

describe('Status errors', () => {
  it('answer a real Status body with the HTTP code and application/json', async () => {
    const res = await call('GET', '/api/v1/namespaces/prod/pods/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    });
  });

  it('415 for a content type the endpoint does not take (strategic merge on a custom resource)', async () => {
    fake.serve('istio');
    fake.put({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { namespace: 'prod', name: 'ap' },
      spec: {},
    });
    const path = '/apis/security.istio.io/v1/namespaces/prod/authorizationpolicies/ap';
    const res = await call(
      'PATCH',
      path,
      { spec: { action: 'DENY' } },
      'application/strategic-merge-patch+json',
    );
    expect(res.status).toBe(415);
    expect(res.json.reason).toBe('UnsupportedMediaType');
    expect(
      (await call('PATCH', path, { spec: { action: 'DENY' } }, 'application/merge-patch+json')).status,
    ).toBe(200);
    expect((await call('PATCH', path, '{}', 'text/plain')).status).toBe(415);
  });

  it('400 for a dryRun value other than All, a bad selector, an unsupported field selector', async () => {
    await call('POST', '/api/v1/namespaces/prod/configmaps', cm('x'));
    expect((await call('DELETE', '/api/v1/namespaces/prod/configmaps/x?dryRun=true')).status).toBe(400);
    expect((await call('GET', '/api/v1/namespaces/prod/pods?labelSelector=a%20in%20(')).status).toBe(400);
    const fs = await call('GET', '/api/v1/namespaces/prod/pods?fieldSelector=spec.bogus%3Dx');
    expect(fs.status).toBe(400);
    expect(fs.json.message).toBe('field label not supported: spec.bogus');
  });

  it('422 Invalid with causes for a bad label value', async () => {
    const res = await call(
      'POST',
      '/api/v1/namespaces/prod/configmaps',
      cm('y', { metadata: { name: 'y', labels: { q: 'a b' } } }),
    );
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({
      reason: 'Invalid',
      details: { kind: 'ConfigMap', name: 'y', causes: [{ field: 'metadata.labels' }] },
    });
  });
});

describe('writes', () => {
  it('create stamps metadata; 409 AlreadyExists; resourceVersion on create is refused', async () => {
    const created = (await call('POST', '/api/v1/namespaces/prod/configmaps', cm('a'))).json;
    expect(created.metadata).toMatchObject({
      name: 'a',
      namespace: 'prod',
      generation: 1,
      creationTimestamp: '2026-11-25T14:00:00Z',
      uid: expect.stringMatching(/^00000000-0000-4000-8000-/),
      resourceVersion: expect.stringMatching(/^\d+$/),
    });
    const again = await call('POST', '/api/v1/namespaces/prod/configmaps', cm('a'));
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "a" already exists' });
    expect((await call('POST', '/api/v1/namespaces/prod/configmaps', created)).status).toBe(400);
  });

  it('PUT with a stale resourceVersion → 409 Conflict; a no-op write keeps the resourceVersion', async () => {
    const created = (await call('POST', '/api/v1/namespaces/prod/configmaps', cm('b'))).json;
    const same = (await call('PUT', '/api/v1/namespaces/prod/configmaps/b', created)).json;
    expect((same.metadata as JsonObject).resourceVersion).toBe(
      (created.metadata as JsonObject).resourceVersion,
    );
    const changed = (
      await call('PUT', '/api/v1/namespaces/prod/configmaps/b', { ...created, data: { a: '2' } })
    ).json;
    expect((changed.metadata as JsonObject).generation).toBe(2);
    const stale = await call('PUT', '/api/v1/namespaces/prod/configmaps/b', { ...created, data: { a: '3' } });
    expect(stale.status).toBe(409);
    expect(stale.json.reason).toBe('Conflict');
  });

  it('dryRun=All validates and answers, stores nothing, bumps nothing', async () => {
    const before = fake.put(cm('c'));
    const res = await call(
      'PATCH',
      '/api/v1/namespaces/prod/configmaps/c?dryRun=All',
      { data: { a: '9' } },
      'application/merge-patch+json',
    );
    expect(res.json.data).toEqual({ a: '9' });
    expect(fake.get('ConfigMap', 'prod', 'c')).toEqual(before);
    expect((await call('POST', '/api/v1/namespaces/prod/configmaps?dryRun=All', cm('d'))).status).toBe(201);
    expect(fake.get('ConfigMap', 'prod', 'd')).toBeUndefined();
    const bad = await call(
      'PATCH',
      '/api/v1/namespaces/prod/configmaps/c?dryRun=All',
      { metadata: { labels: { x: '!' } } },
      'application/merge-patch+json',
    );
    expect(bad.status).toBe(422);
  });

  it('server-side apply needs a fieldManager, creates, and drops what the same manager stopped applying', async () => {
    const path = '/api/v1/namespaces/prod/configmaps/e';
    const applied = (labels: JsonObject) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\n  labels: ${JSON.stringify(labels)}\ndata:\n  k: v\n`;
    expect((await call('PATCH', path, applied({ a: '1' }), 'application/apply-patch+yaml')).status).toBe(400);
    const created = await call(
      'PATCH',
      `${path}?fieldManager=bot`,
      applied({ a: '1', b: '2' }),
      'application/apply-patch+yaml',
    );
    expect(created.status).toBe(201);
    await call('PATCH', path, { metadata: { labels: { other: 'x' } } }, 'application/merge-patch+json');
    const updated = await call(
      'PATCH',
      `${path}?fieldManager=bot`,
      applied({ a: '1' }),
      'application/apply-patch+yaml',
    );
    expect(updated.status).toBe(200);
    expect((updated.json.metadata as JsonObject).labels).toEqual({ a: '1', other: 'x' });
  });

  it('status subresource: main writes keep status, /status writes change only status', async () => {
    seedDeployment(fake, { namespace: 'prod', name: 'api', replicas: 1 });
    const path = '/apis/apps/v1/namespaces/prod/deployments/api';
    const main = await call(
      'PATCH',
      path,
      { spec: { replicas: 3 }, status: { replicas: 99 } },
      'application/merge-patch+json',
    );
    expect(main.json).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 1 } });
    const st = await call(
      'PATCH',
      `${path}/status`,
      { spec: { replicas: 7 }, status: { replicas: 3 } },
      'application/merge-patch+json',
    );
    expect(st.json).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 3 } });
  });

  it('DELETE honours preconditions and finalizers, validates propagationPolicy', async () => {
    fake.put(cm('f', { metadata: { name: 'f', namespace: 'prod', finalizers: ['example.com/hold'] } }));
    const path = '/api/v1/namespaces/prod/configmaps/f';
    expect((await call('DELETE', `${path}?propagationPolicy=Sideways`)).status).toBe(422);
    expect((await call('DELETE', path, { preconditions: { resourceVersion: '1' } })).status).toBe(409);
    const held = await call('DELETE', `${path}?propagationPolicy=Foreground`);
    expect((held.json.metadata as JsonObject).deletionTimestamp).toBe('2026-11-25T14:00:00Z');
    expect(fake.get('ConfigMap', 'prod', 'f')).toBeDefined();
    await call(
      'PATCH',
      path,
      [{ op: 'remove', path: '/metadata/finalizers' }],
      'application/json-patch+json',
    );
    expect(fake.get('ConfigMap', 'prod', 'f')).toBeUndefined();
  });
});

describe('lists', () => {
  it('omit apiVersion/kind on built-in items (like the real server) but keep them on custom resources', async () => {
    fake.put(cm('g'));
    fake.serve('cilium');
    fake.put({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { namespace: 'prod', name: 'c' },
      spec: {},
    });
    const core = (await call('GET', '/api/v1/namespaces/prod/configmaps')).json;
    expect(core).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1' });
    expect((core.items as JsonObject[])[0]).not.toHaveProperty('kind');
    const crd = (await call('GET', '/apis/cilium.io/v2/namespaces/prod/ciliumnetworkpolicies')).json;
    expect((crd.items as JsonObject[])[0]).toMatchObject({ kind: 'CiliumNetworkPolicy' });
  });

  it('namespaces exist implicitly once something lands in them', async () => {
    fake.put(cm('h'));
    expect((await call('GET', '/api/v1/namespaces/prod')).json).toMatchObject({
      kind: 'Namespace',
      status: { phase: 'Active' },
    });
  });
});

describe('fault injection and recording', () => {
  it('matches method and path (prefix or RegExp), counts times, sends Retry-After', async () => {
    fake.put(cm('i'));
    fake.fail({
      method: 'GET',
      path: '/api/v1/namespaces/prod',
      status: 429,
      retryAfterSeconds: 2,
      times: 2,
    });
    const first = await call('GET', '/api/v1/namespaces/prod/configmaps/i');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(first.json).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 2 } });
    expect(
      (
        await call(
          'PATCH',
          '/api/v1/namespaces/prod/configmaps/i',
          { data: {} },
          'application/merge-patch+json',
        )
      ).status,
    ).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/prod/configmaps')).status).toBe(429);
    expect((await call('GET', '/api/v1/namespaces/prod/configmaps')).status).toBe(200);

    fake.fail({ path: /configmaps\/i$/, status: 500 });
    expect((await call('GET', '/api/v1/namespaces/prod/configmaps/i')).json).toMatchObject({
      reason: 'InternalError',
      code: 500,
    });
  });

  it('a rule can let the first matching requests through (skip)', async () => {
    fake.fail({ method: 'GET', path: '/api/v1/namespaces/prod/configmaps', status: 500, skip: 1 });
    expect((await call('GET', '/api/v1/namespaces/prod/configmaps')).status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/prod/configmaps')).status).toBe(500);
    expect((await call('GET', '/api/v1/namespaces/prod/configmaps')).status).toBe(200);
  });

  it('a delay-only rule slows the answer down', async () => {
    fake.fail({ path: '/version', delayMs: 120 });
    const t0 = Date.now();
    expect((await call('GET', '/version')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
  });

  it('records method, path, query, content type, parsed body and the RBAC verb', async () => {
    fake.put(cm('j'));
    await call(
      'PATCH',
      '/api/v1/namespaces/prod/configmaps/j?dryRun=All&fieldManager=t',
      { data: { z: '1' } },
      'application/merge-patch+json',
    );
    expect(fake.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: '/api/v1/namespaces/prod/configmaps/j',
      query: { dryRun: 'All', fieldManager: 't' },
      contentType: 'application/merge-patch+json',
      body: { data: { z: '1' } },
      authenticated: true,
      verb: 'patch',
      resource: 'configmaps',
      namespace: 'prod',
      name: 'j',
    });
  });

  it('rejects a wrong bearer token with 401', async () => {
    const res = await fetch(`${fake.url}/api/v1/namespaces/prod/pods`, {
      headers: { Authorization: 'Bearer nope' },
    });
    expect(res.status).toBe(401);
  });
});

describe('RBAC kinds and cluster-wide lists (break-glass)', () => {
  const rb = (namespace: string, name: string, grant: string): JsonObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace, labels: { 'egress-responder.io/grant': grant } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'forensics' },
    subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
  });

  it('serves RoleBindings: a dry-run apply stores nothing, a real one does', async () => {
    const path = '/apis/rbac.authorization.k8s.io/v1/namespaces/prod/rolebindings/b';
    const dry = await call(
      'PATCH',
      `${path}?dryRun=All&fieldManager=t`,
      rb('prod', 'b', 'g1'),
      'application/apply-patch+yaml',
    );
    expect(dry.status).toBe(201);
    expect(fake.get('RoleBinding', 'prod', 'b')).toBeUndefined();
    const real = await call(
      'PATCH',
      `${path}?fieldManager=t`,
      rb('prod', 'b', 'g1'),
      'application/apply-patch+yaml',
    );
    expect(real.status).toBe(201);
    expect(fake.get('RoleBinding', 'prod', 'b')).toMatchObject({ roleRef: { name: 'forensics' } });
  });

  it('lists a namespaced kind across namespaces by label selector', async () => {
    fake.put(rb('prod', 'a', 'g1'));
    fake.put(rb('staging', 'b', 'g2'));
    fake.put({ ...rb('dev', 'c', 'x'), metadata: { name: 'c', namespace: 'dev' } });
    const list = await call(
      'GET',
      `/apis/rbac.authorization.k8s.io/v1/rolebindings?labelSelector=${encodeURIComponent('egress-responder.io/grant')}`,
    );
    const items = list.json.items as { metadata: { namespace: string; name: string } }[];
    expect(items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['prod/a', 'staging/b']);
  });
});
