// Where credentials come from (kubeconfig path, $KUBECONFIG, in-cluster, ~/.kube/config), and the
// retry arithmetic the Cluster relies on.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CodedError } from '../../../src/domain/errors.js';
import { createKubeCluster } from '../../../src/k8s/kube-cluster.js';
import { loadKubeConfig } from '../../../src/k8s/kubeconfig.js';
import { backoffDelay, defaultRetryPolicy, parseRetryAfter } from '../../../src/k8s/retry.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

let fake: FakeKubeApi;
let dir: string;

beforeAll(async () => {
  fake = await startFakeKubeApi();
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function thrown(fn: () => unknown): CodedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodedError) return err;
    throw err;
  }
  throw new Error('expected a CodedError');
}

/** A kubeconfig with one context named `context` pointing at `server`. */
function writeKubeconfig(name: string, context: string, server: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${context}-cluster`,
      '  cluster:',
      `    server: ${server}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${context}-user`,
      '  user:',
      '    token: some-token',
      'contexts:',
      `- name: ${context}`,
      '  context:',
      `    cluster: ${context}-cluster`,
      `    user: ${context}-user`,
      `current-context: ${context}`,
      '',
    ].join('\n'),
  );
  return file;
}

describe('loadKubeConfig', () => {
  it('prefers an explicit path over $KUBECONFIG and over being in a pod', () => {
    const explicit = fake.kubeconfig();
    const other = writeKubeconfig('other.yaml', 'other', 'https://other.example:6443');
    const loaded = loadKubeConfig({
      kubeconfigPath: explicit,
      env: { KUBECONFIG: other, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
    });
    expect(loaded).toMatchObject({
      source: 'kubeconfig',
      files: [explicit],
      context: 'fake',
      server: fake.url,
    });
  });

  it('merges the files of $KUBECONFIG and switches context on request', () => {
    const a = writeKubeconfig('a.yaml', 'ctx-a', 'https://a.example:6443');
    const b = writeKubeconfig('b.yaml', 'ctx-b', 'https://b.example:6443');
    const env = { KUBECONFIG: [a, b].join(delimiter), HOME: dir };
    expect(loadKubeConfig({ env })).toMatchObject({
      context: 'ctx-a',
      server: 'https://a.example:6443',
      files: [a, b],
    });
    expect(loadKubeConfig({ env, contextName: 'ctx-b' })).toMatchObject({
      context: 'ctx-b',
      server: 'https://b.example:6443',
    });
    const err = thrown(() => loadKubeConfig({ env, contextName: 'prod-eu' }));
    expect(err.code).toBe('cluster_unavailable');
    expect(err.message).toContain('context "prod-eu" not found');
    expect(err.message).toContain('available: ctx-a, ctx-b');
  });

  it('uses ~/.kube/config when nothing else applies', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(
      join(home, '.kube', 'config'),
      readFileSync(writeKubeconfig('h.yaml', 'home-ctx', 'https://h.example'), 'utf8'),
    );
    expect(loadKubeConfig({ env: { HOME: home } })).toMatchObject({
      context: 'home-ctx',
      files: [join(home, '.kube', 'config')],
    });
  });

  it('refuses to guess when there is no configuration at all (no silent localhost:8080)', () => {
    const err = thrown(() => loadKubeConfig({ env: { HOME: join(dir, 'empty-home') } }));
    expect(err.code).toBe('cluster_unavailable');
    expect(err.message).toContain('No Kubernetes configuration found');
  });

  it('names a missing or broken kubeconfig file without quoting its content', () => {
    expect(thrown(() => loadKubeConfig({ kubeconfigPath: join(dir, 'missing.yaml') })).message).toContain(
      'missing.yaml does not exist',
    );
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'users: [ {token: "leaky-secret"\n');
    const err = thrown(() => loadKubeConfig({ kubeconfigPath: broken }));
    expect(err.code).toBe('cluster_unavailable');
    expect(err.message).toContain('broken.yaml');
    expect(err.message).not.toContain('leaky-secret');
  });

  describe('in a pod', () => {
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    let prefix: string;
    beforeEach(() => {
      prefix = join(dir, 'pod-root');
      mkdirSync(join(prefix, '/var/run/secrets/kubernetes.io/serviceaccount'), { recursive: true });
      writeFileSync(join(prefix, '/var/run/secrets/kubernetes.io/serviceaccount/token'), 'pod-token');
      writeFileSync(
        join(prefix, '/var/run/secrets/kubernetes.io/serviceaccount/namespace'),
        'egress-responder',
      );
      process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
      process.env.KUBERNETES_SERVICE_PORT = '443';
    });
    afterEach(() => {
      for (const [k, v] of [
        ['KUBERNETES_SERVICE_HOST', saved.host],
        ['KUBERNETES_SERVICE_PORT', saved.port],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it('uses the ServiceAccount when KUBERNETES_SERVICE_HOST is set and no KUBECONFIG is', () => {
      const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', HOME: dir };
      const loaded = loadKubeConfig({ env, inClusterPathPrefix: prefix });
      expect(loaded).toMatchObject({
        source: 'in-cluster',
        context: 'in-cluster',
        server: 'https://10.96.0.1:443',
        files: [],
      });
      expect(createKubeCluster({ env, inClusterPathPrefix: prefix }).name).toBe('in-cluster');
    });

    it('inCluster: false ignores the pod; inCluster: true without a token fails clearly', () => {
      const env = {
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        KUBERNETES_SERVICE_PORT: '443',
        HOME: join(dir, 'empty-home'),
      };
      expect(
        thrown(() => loadKubeConfig({ env, inCluster: false, inClusterPathPrefix: prefix })).message,
      ).toContain('No Kubernetes configuration found');
      const err = thrown(() =>
        loadKubeConfig({ env, inCluster: true, inClusterPathPrefix: join(dir, 'no-token') }),
      );
      expect(err.code).toBe('cluster_unavailable');
      expect(err.message).toContain('no ServiceAccount token');
      expect(thrown(() => loadKubeConfig({ env: {}, inCluster: true })).message).toContain(
        'not running in a pod',
      );
    });
  });
});

describe('retry arithmetic', () => {
  it('backs off exponentially with equal jitter, capped', () => {
    const p = { ...defaultRetryPolicy, baseMs: 200, capMs: 5_000 };
    expect([1, 2, 3].map((n) => backoffDelay(n, p, () => 0))).toEqual([100, 200, 400]);
    expect([1, 2, 3].map((n) => backoffDelay(n, p, () => 1))).toEqual([200, 400, 800]);
    expect(backoffDelay(10, p, () => 1)).toBe(5_000);
    expect(backoffDelay(10, p, () => 0)).toBe(2_500);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    const now = Date.parse('2026-11-25T14:00:00Z');
    expect(parseRetryAfter('Wed, 25 Nov 2026 14:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
