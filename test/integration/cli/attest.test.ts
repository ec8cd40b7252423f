// The loop of issue 14 on the fake API: contracts render → kubectl apply --dry-run=server (and for
// real) → attest clean; a hand-edited live policy is drift with the extra egress named; a contract
// changed after the render is drift by its sha256. The CLI runs built, as a child process; kubectl is
// the real one. Skipped, with a message, when kubectl is not on PATH.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { builtPackage } from '../crash/build.js';

const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const hasKubectl = probe.error === undefined && probe.status === 0;
if (!hasKubectl)
  console.warn(
    'SKIPPED test/integration/cli/attest.test.ts: `kubectl` is not on PATH (install kubectl to run it).',
  );
const describeWithKubectl = hasKubectl ? describe : describe.skip;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Async on purpose: the fake runs in this process, so a blocking exec would starve it.
function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  input?: string,
): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(
      file,
      args,
      { cwd, encoding: 'utf8', env, maxBuffer: 16 * 2 ** 20 },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

const PAYMENTS = `service: payments-api
namespace: prod
identity: { k8s_service_account: payments-api }
allowed_internal:
  - { to_service: orders-api, namespace: prod, ports: [443], protocol: https, methods: [GET, POST] }
  - { to_service: ledger-db, namespace: prod, ports: [5432], protocol: tcp }
allowed_external:
  - { to_fqdn: "api.stripe.com", cidrs: [203.0.113.0/24], ports: [443], protocol: https }
metadata: { owner_team: payments, change_ticket: SEC-4821 }
`;

describeWithKubectl('render → apply → attest on the fake API', () => {
  let fake: FakeKubeApi;
  let work: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  const cli = (args: string[]) => run(process.execPath, [bin, ...args], env, work);
  const kubectl = (args: string[], input?: string) =>
    run('kubectl', ['--request-timeout=10s', '--cache-dir', join(work, 'cache'), ...args], env, work, input);
  const attest = async () => {
    const r = await cli(['attest', '--contracts', 'contracts', '--namespace', 'prod']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    return r;
  };

  beforeAll(async () => {
    bin = join((await builtPackage(resolve('.'))).root, 'bin', 'egress-responder.js');
    fake = await startFakeKubeApi({ extensions: ['istio'] });
    work = mkdtempSync(join(tmpdir(), 'er-attest-'));
    mkdirSync(join(work, 'contracts'));
    writeFileSync(join(work, 'contracts', 'payments-api.yaml'), PAYMENTS);
    env = { PATH: process.env.PATH ?? '', HOME: work, KUBECONFIG: fake.kubeconfig() };
    seedDeployment(fake, { namespace: 'prod', name: 'payments-api', replicas: 2 });
    seedDeployment(fake, { namespace: 'prod', name: 'orders-api', replicas: 1 });
  }, 120_000);

  afterAll(async () => {
    await fake?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('a dry-run apply is accepted and stores nothing: attest names every rendered object missing', async () => {
    const render = await cli(['contracts', 'render', '--contracts', 'contracts', '--out', 'out']);
    expect(render.code).toBe(0);
    expect(readdirSync(join(work, 'out'))).toEqual(['prod.payments-api.yaml']);
    const dry = await kubectl(['apply', '--server-side', '--dry-run=server', '-f', 'out']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      'networkpolicy.networking.k8s.io/egress-contract-payments-api serverside-applied (server dry run)',
    );
    expect(dry.stdout).toContain(
      'authorizationpolicy.security.istio.io/egress-contract-orders-api-from-prod-payments-api serverside-applied (server dry run)',
    );

    const r = await attest();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('DRIFT — 1 of 1 contract(s) differ from the cluster');
    expect(r.stdout).toContain(
      '- missing    NetworkPolicy prod/egress-contract-payments-api: not in the cluster',
    );
    expect(r.stdout).toContain(
      '- missing    AuthorizationPolicy prod/egress-contract-ledger-db-from-prod-payments-api',
    );
    // Nothing selects the pods for egress yet: the cluster allows everything.
    expect(r.stdout).toContain(
      'allowed by the cluster beyond the contract: all ports to anywhere (no egress NetworkPolicy selects payments-api-',
    );
  });

  it('applied for real: attest is clean, exit 0, and the report says what was compared', async () => {
    const applied = await kubectl(['apply', '--server-side', '-f', 'out']);
    expect(applied.code).toBe(0);
    const r = await attest();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('- result: CLEAN — the cluster enforces what every contract renders');
    expect(r.stdout).toContain('## prod/payments-api — CLEAN');
    expect(r.stdout).toContain('- match      NetworkPolicy prod/egress-contract-payments-api');
    expect(r.stdout).toContain(
      '- match      AuthorizationPolicy prod/egress-contract-orders-api-from-prod-payments-api',
    );
    expect(r.stdout).toContain(
      '- egress of prod/payments-api-5d8f7c9b6-a0x0, prod/payments-api-5d8f7c9b6-b1x1:',
    );
    expect(r.stdout).toContain('the cluster allows nothing beyond the contract');
  });

  it('a hand-edited live policy is drift, naming the extra egress; another team’s wide policy too', async () => {
    const patch = await kubectl([
      'patch',
      'networkpolicy',
      'egress-contract-payments-api',
      '-n',
      'prod',
      '--type=json',
      '-p',
      JSON.stringify([
        {
          op: 'add',
          path: '/spec/egress/-',
          value: { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 8443 }] },
        },
      ]),
    ]);
    expect(patch.code).toBe(0);
    let r = await attest();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '- changed    NetworkPolicy prod/egress-contract-payments-api: its spec differs from what the contract renders',
    );
    expect(r.stdout).toContain(
      'allowed by the cluster beyond the contract: TCP/8443 to 0.0.0.0/0 (egress-contract-payments-api)',
    );

    const wide = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'team-allow-web', namespace: 'prod' },
      spec: {
        podSelector: { matchLabels: { app: 'payments-api' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ protocol: 'TCP', port: 80 }] }],
      },
    };
    expect((await kubectl(['apply', '-f', '-'], JSON.stringify(wide))).code).toBe(0);
    r = await cli(['attest', '--contracts', 'contracts', '--format', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { results: { status: string; egress: { beyond: string[] } }[] };
    expect(report.results[0]!.status).toBe('drift');
    expect(report.results[0]!.egress.beyond).toEqual([
      'TCP/80 to anywhere (team-allow-web)',
      'TCP/8443 to 0.0.0.0/0 (egress-contract-payments-api)',
    ]);
    await kubectl(['delete', 'networkpolicy', 'team-allow-web', '-n', 'prod']);
  });

  it('a contract changed after the render: drift by sha256, and what the cluster no longer matches', async () => {
    expect((await kubectl(['apply', '--server-side', '--force-conflicts', '-f', 'out'])).code).toBe(0);
    expect((await attest()).code).toBe(0);
    writeFileSync(
      join(work, 'contracts', 'payments-api.yaml'),
      PAYMENTS.replace('ports: [5432]', 'ports: [6432]'),
    );
    const r = await attest();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /- changed {4}NetworkPolicy prod\/egress-contract-payments-api: rendered from another version of the contract \(sha256 [0-9a-f]{12}…, the contract is now [0-9a-f]{12}…\); its spec differs/,
    );
    expect(r.stdout).toContain(
      'allowed by the cluster beyond the contract: TCP/5432 to ns prod: app=ledger-db (egress-contract-payments-api)',
    );
    expect(r.stdout).toContain(
      'allowed by the contract, not by the cluster: TCP/6432 to ns prod: app=ledger-db',
    );
    writeFileSync(join(work, 'contracts', 'payments-api.yaml'), PAYMENTS);
  });

  it('usage: no cluster, an odd namespace, an unknown flag → exit 2 with one clear line', async () => {
    const noCluster = await run(
      process.execPath,
      [bin, 'attest', '--contracts', 'contracts'],
      { PATH: env.PATH, HOME: work },
      work,
    );
    expect(noCluster.code).toBe(2);
    expect(noCluster.stderr).toContain('attest reads the cluster: set KUBECONFIG');
    for (const [args, message] of [
      [
        ['attest', '--namespace', '../kube-system'],
        '--namespace "../kube-system": expected a Kubernetes namespace name',
      ],
      [
        ['attest', '--namespace', 'constructor', '--contracts', 'contracts'],
        'names namespace constructor: nothing to attest',
      ],
      [['attest', '--watch'], "Unknown option '--watch'"],
    ] as const) {
      const r = await cli([...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describeWithKubectl('--fqdn cilium on a cluster serving Cilium', () => {
  let fake: FakeKubeApi;
  let work: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    bin = join((await builtPackage(resolve('.'))).root, 'bin', 'egress-responder.js');
    fake = await startFakeKubeApi({ extensions: ['istio', 'cilium'] });
    work = mkdtempSync(join(tmpdir(), 'er-attest-cilium-'));
    mkdirSync(join(work, 'contracts'));
    writeFileSync(join(work, 'contracts', 'payments-api.yaml'), PAYMENTS);
    env = { PATH: process.env.PATH ?? '', HOME: work, KUBECONFIG: fake.kubeconfig() };
    seedDeployment(fake, { namespace: 'prod', name: 'payments-api', replicas: 1 });
  }, 120_000);

  afterAll(async () => {
    await fake?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('the CiliumNetworkPolicy passes a server dry run, and attest with the same flag is clean once applied', async () => {
    const cli = (args: string[]) => run(process.execPath, [bin, ...args], env, work);
    const kubectl = (args: string[], input?: string) =>
      run(
        'kubectl',
        ['--request-timeout=10s', '--cache-dir', join(work, 'cache'), ...args],
        env,
        work,
        input,
      );
    const render = await cli(['contracts', 'render', '--contracts', 'contracts', '--fqdn', 'cilium']);
    expect(render.code).toBe(0);
    expect(render.stdout).toContain('kind: CiliumNetworkPolicy');
    const dry = await kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], render.stdout);
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toContain(
      'ciliumnetworkpolicy.cilium.io/egress-contract-payments-api-fqdn serverside-applied (server dry run)',
    );
    expect((await kubectl(['apply', '--server-side', '-f', '-'], render.stdout)).code).toBe(0);
    const clean = await cli(['attest', '--contracts', 'contracts', '--fqdn', 'cilium']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('- match      CiliumNetworkPolicy prod/egress-contract-payments-api-fqdn');
    // Attested with other flags than it was rendered with, the same cluster is drift.
    const other = await cli(['attest', '--contracts', 'contracts']);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('- extra      CiliumNetworkPolicy prod/egress-contract-payments-api-fqdn');
  });
});
