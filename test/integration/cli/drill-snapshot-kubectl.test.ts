// The README's what-if, as a user runs it: `kubectl get … -A -o yaml > snap.yaml` (a real kubectl,
// against the fake API server seeded with the example's objects and a Secret that still has its data),
// then `drill <scenario> --snapshot snap.yaml`. Skipped, with a message, when kubectl is not on PATH.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_SNAPSHOT } from '../../../src/cli/drill.js';
import { main } from '../../../src/cli/index.js';
import { parseSnapshot } from '../../../src/k8s/snapshot-file.js';
import { seedFromSnapshot } from '../../builders/snapshot.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const hasKubectl = probe.error === undefined && probe.status === 0;
if (!hasKubectl) {
  console.warn(
    'SKIPPED test/integration/cli/drill-snapshot-kubectl.test.ts: `kubectl` is not on PATH, so the README what-if is not run with real kubectl output. Install kubectl to run it.',
  );
}
const describeWithKubectl = hasKubectl ? describe : describe.skip;

describeWithKubectl('the what-if from a real kubectl snapshot', () => {
  let fake: FakeKubeApi;
  let home: string;
  beforeAll(async () => {
    fake = await startFakeKubeApi();
    home = mkdtempSync(join(tmpdir(), 'snapshot-kubectl-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  });

  // Async: the fake runs in this process, so a blocking exec would starve it.
  const kubectl = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        'kubectl',
        [
          '--kubeconfig',
          fake.kubeconfig(),
          '--request-timeout=10s',
          '--cache-dir',
          join(home, 'cache'),
          ...args,
        ],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: home }, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });

  it('kubectl get ns,pods,deploy,rs,sts,netpol,sa,secrets,authorizationpolicies.security.istio.io -A -o yaml > snap.yaml; drill --snapshot snap.yaml', async () => {
    seedFromSnapshot(fake, parseSnapshot(readFileSync(EXAMPLE_SNAPSHOT, 'utf8'), 'example', 'k8s_invalid'));
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'payments-api-stripe-key', namespace: 'prod' },
      data: { key: Buffer.from('sk_live_do-not-print-me').toString('base64') },
    });
    fake.serve('istio');
    fake.put({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'payments-allow-orders', namespace: 'prod' },
      spec: { selector: { matchLabels: { app: 'payments-api' } }, action: 'ALLOW' },
    });
    fake.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'istio-egressgateway-1',
        namespace: 'istio-system',
        labels: { istio: 'egressgateway' },
      },
      spec: { containers: [{ name: 'istio-proxy', image: 'istio/proxyv2:1.24' }] },
      status: { phase: 'Running' },
    });
    const got = await kubectl([
      'get',
      'ns,pods,deploy,rs,sts,netpol,sa,secrets,authorizationpolicies.security.istio.io',
      '-A',
      '-o',
      'yaml',
    ]);
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^apiVersion: v1\nitems:\n/);
    const file = join(home, 'snap.yaml');
    writeFileSync(file, got.stdout);

    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['drill', 'exfil-unknown-fqdn', '--snapshot', file], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: {},
    });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(new RegExp(`Against snapshot ${file} \\(\\d+ objects, in memory`));
    expect(text).toContain(
      '# allow-policies that would still let them out: payments-egress-allow-dns-and-internal',
    );
    expect(text).toContain('Verification: contained — 3 pods isolated by quarantine-deny-egress (dry-run)');
    expect(text).toContain('Drill scorecard: exfil-unknown-fqdn — PASSED');
    // The AuthorizationPolicy in the file makes Istio served: the L7 block is planned and applied too.
    expect(text).toContain('Step result: contained at L3/L4 (verified, dry-run); L7: applied (dry-run)');
    expect(text).not.toContain(Buffer.from('sk_live_do-not-print-me').toString('base64'));
    // kubectl only read: no write reached the fake.
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
