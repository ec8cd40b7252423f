// Cross-check of the fake API server with a real client-go program: kubectl. If kubectl reads and writes
// the fake correctly (discovery, selectors, merge/strategic/apply patches, dryRun, Status errors
// and, through kubectl's error output, Status bodies), the fake speaks what real clients send, and the Cluster tests against it mean
// something. Skipped, with a message, when kubectl is not on PATH.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from '../../../src/k8s/cluster.js';
import { createKubeCluster } from '../../../src/k8s/kube-cluster.js';
import type { KubeObject } from '../../../src/k8s/types.js';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';

const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const hasKubectl = probe.error === undefined && probe.status === 0;
if (!hasKubectl) {
  console.warn(
    'SKIPPED test/integration/k8s/kubectl.test.ts: `kubectl` is not on PATH, so the fake API server is not cross-checked against a real client-go program. Install kubectl to run it.',
  );
}
const describeWithKubectl = hasKubectl ? describe : describe.skip;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describeWithKubectl('the fake API server, seen by kubectl', () => {
  let fake: FakeKubeApi;
  let cluster: Cluster;
  let home: string;
  let kubeconfig: string;

  // Async on purpose: the fake runs in this process, so a blocking exec would starve it.
  const kubectl = (args: string[], input?: string): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        'kubectl',
        ['--kubeconfig', kubeconfig, '--request-timeout=10s', '--cache-dir', join(home, 'cache'), ...args],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: home } },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(input ?? '');
    });

  const pod0 = 'payments-api-5d8f7c9b6-a0x0';

  beforeAll(async () => {
    fake = await startFakeKubeApi();
    home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
    kubeconfig = fake.kubeconfig();
    cluster = createKubeCluster({ kubeconfigPath: kubeconfig, retry: { attempts: 1 } });
  });

  afterAll(async () => {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  });

  beforeEach(() => {
    fake.reset();
    seedDeployment(fake, { namespace: 'prod', name: 'payments-api', replicas: 2 });
    seedDeployment(fake, { namespace: 'prod', name: 'orders-api', replicas: 1 });
  });

  it('get pods -l app=payments-api -o json: the same pods the Cluster lists', async () => {
    const run = await kubectl(['get', 'pods', '-n', 'prod', '-l', 'app=payments-api', '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const list = JSON.parse(run.stdout) as { items: KubeObject[] };
    const viaKubectl = list.items.map((p) => p.metadata.name).sort();
    const viaCluster = (await cluster.listPods('prod', { labelSelector: 'app=payments-api' }))
      .map((p) => p.metadata.name)
      .sort();
    expect(viaKubectl).toEqual(['payments-api-5d8f7c9b6-a0x0', 'payments-api-5d8f7c9b6-b1x1']);
    expect(viaCluster).toEqual(viaKubectl);
    expect(list.items[0]).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    const listReq = fake.requestsMatching({ method: 'GET', path: '/api/v1/namespaces/prod/pods' })[0]!;
    expect(listReq.query.labelSelector).toBe('app=payments-api');
  });

  it('label pod …: the fake applies kubectl’s merge patch, and `key-` removes it', async () => {
    const run = await kubectl(['label', 'pod', pod0, '-n', 'prod', 'quarantine=true']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`pod/${pod0} labeled`);
    const patch = fake.requestsMatching({ method: 'PATCH' }).at(-1)!;
    expect(patch).toMatchObject({
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { quarantine: 'true' } } },
    });
    expect(patch.query.fieldManager).toBe('kubectl-label');
    expect((await cluster.getPod('prod', pod0))?.metadata.labels).toMatchObject({
      app: 'payments-api',
      quarantine: 'true',
    });

    expect((await kubectl(['label', 'pod', pod0, '-n', 'prod', 'quarantine-'])).code).toBe(0);
    expect((await cluster.getPod('prod', pod0))?.metadata.labels).not.toHaveProperty('quarantine');
  });

  it('apply --server-side --dry-run=server: dryRun=All sent, nothing stored; then a real apply the Cluster reads back', async () => {
    const np = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'quarantine-deny-egress', namespace: 'prod' },
      spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Egress'] },
    };
    const dry = await kubectl(
      ['apply', '--server-side', '--dry-run=server', '-f', '-', '-o', 'json'],
      JSON.stringify(np),
    );
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ kind: 'NetworkPolicy', spec: np.spec });
    const req = fake.requestsMatching({ method: 'PATCH' }).at(-1)!;
    expect(req).toMatchObject({
      path: '/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies/quarantine-deny-egress',
      contentType: 'application/apply-patch+yaml',
    });
    expect(req.query).toMatchObject({ dryRun: 'All', fieldManager: 'kubectl' });
    expect(fake.list('NetworkPolicy', 'prod')).toEqual([]);

    const real = await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(np));
    expect(real.code).toBe(0);
    expect(real.stdout).toContain(
      'networkpolicy.networking.k8s.io/quarantine-deny-egress serverside-applied',
    );
    const read = await cluster.get({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      namespace: 'prod',
      name: np.metadata.name,
    });
    expect(read?.spec).toEqual(np.spec);
  });

  it('what the Cluster applies, kubectl reads back', async () => {
    await cluster.apply(
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          name: 'from-bot',
          namespace: 'prod',
          annotations: { 'egress-responder/incident': 'INC-9' },
        },
        spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Egress'] },
      },
      { dryRun: false, fieldManager: 'egress-responder' },
    );
    const run = await kubectl(['get', 'networkpolicy', 'from-bot', '-n', 'prod', '-o', 'json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      metadata: { annotations: { 'egress-responder/incident': 'INC-9' } },
    });
  });

  it('rollout restart: kubectl’s strategic merge patch lands on the pod template', async () => {
    const run = await kubectl(['rollout', 'restart', 'deployment/payments-api', '-n', 'prod']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const patch = fake.requestsMatching({ method: 'PATCH' }).at(-1)!;
    expect(patch.contentType).toBe('application/strategic-merge-patch+json');
    const dep = await cluster.get<
      KubeObject & { spec: { template: { metadata: { annotations?: Record<string, string> } } } }
    >({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'prod',
      name: 'payments-api',
    });
    expect(dep?.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
    expect(dep?.metadata.generation).toBe(2);
  });

  it('Status errors are read by client-go as the real thing (NotFound, Forbidden)', async () => {
    const nf = await kubectl(['get', 'pod', 'nope', '-n', 'prod']);
    expect(nf.code).not.toBe(0);
    expect(nf.stderr).toContain('Error from server (NotFound): pods "nope" not found');

    fake.deny({ verb: 'patch', resource: 'pods', namespace: 'prod' });
    const fb = await kubectl(['label', 'pod', pod0, '-n', 'prod', 'quarantine=true']);
    expect(fb.code).not.toBe(0);
    expect(fb.stderr).toContain(
      `Error from server (Forbidden): pods "${pod0}" is forbidden: User "system:serviceaccount:egress-responder:egress-responder" cannot patch resource "pods" in API group "" in the namespace "prod"`,
    );
  });
});
