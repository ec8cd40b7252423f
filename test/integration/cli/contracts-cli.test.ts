// `contracts render` and `validate --manifests` as CI runs them: the built CLI as a child process,
// real files, standard input, exit codes.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { builtPackage } from '../crash/build.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let bin: string;
let work: string;

const cli = (args: string[], input?: string, cwd = work): Promise<Run> =>
  new Promise((done) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, maxBuffer: 16 * 2 ** 20 },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });

const CONTRACTS = {
  'payments-api.yaml': `service: payments-api
namespace: prod
identity: { k8s_service_account: payments-api }
allowed_internal:
  - { to_service: orders-api, namespace: prod, ports: [443], protocol: https, methods: [GET] }
allowed_external:
  - { to_fqdn: "api.stripe.com", cidrs: [203.0.113.0/24], ports: [443], protocol: https }
metadata: { owner_team: payments, change_ticket: SEC-4821 }
`,
  'orders-api.yaml': `service: orders-api
namespace: prod
allowed_internal:
  - { to_service: ledger-db, namespace: prod, ports: [5432], protocol: tcp }
`,
};

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata: { name: payments-api, namespace: prod }
spec: { template: { metadata: { labels: { app: payments-api } } } }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: ledger-db, namespace: prod }
spec: { template: { metadata: { labels: { app: ledger-db } } } }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: report, namespace: prod }
spec: { jobTemplate: { spec: { template: { metadata: { labels: { app: report-job } } } } } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: orders-api, namespace: staging }
spec: { template: { metadata: { labels: { app: orders-api } } } }
`;

beforeAll(async () => {
  bin = join((await builtPackage(resolve('.'))).root, 'bin', 'egress-responder.js');
  work = mkdtempSync(join(tmpdir(), 'er-contracts-cli-'));
  mkdirSync(join(work, 'contracts'));
  for (const [name, text] of Object.entries(CONTRACTS)) writeFileSync(join(work, 'contracts', name), text);
  mkdirSync(join(work, 'k8s', 'base'), { recursive: true });
  writeFileSync(join(work, 'k8s', 'base', 'workloads.yaml'), MANIFESTS);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('validate --manifests', () => {
  it('names each workload without a contract for its namespace and app; exit 1', async () => {
    const run = await cli(['validate', '--contracts', 'contracts', '--manifests', 'k8s']);
    expect(run.code).toBe(1);
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('error '));
    expect(errors).toEqual([
      expect.stringContaining(
        'missing egress contract for prod/ledger-db (StatefulSet/ledger-db, k8s/base/workloads.yaml:6)',
      ),
      expect.stringContaining(
        'missing egress contract for prod/report-job (CronJob/report, k8s/base/workloads.yaml:11)',
      ),
      expect.stringContaining(
        'missing egress contract for staging/orders-api (Deployment/orders-api, k8s/base/workloads.yaml:16)',
      ),
    ]);
    expect(run.stdout).toContain('4 workload(s) in manifests');
  });

  it('kustomize output on stdin (`-`) as a List, --format json for machines', async () => {
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          kind: 'Deployment',
          metadata: { name: 'payments-api', namespace: 'prod', labels: { app: 'payments-api' } },
        },
        { kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'prod', labels: { app: 'node-agent' } } },
      ],
    });
    const run = await cli(
      ['validate', '--contracts', 'contracts', '--manifests', '-', '--format', 'json'],
      list,
    );
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      workloads: number;
      findings: { kind: string; namespace: string; app: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.workloads).toBe(2);
    expect(report.findings.map((f) => [f.kind, f.namespace, f.app])).toEqual([
      ['missing-contract', 'prod', 'node-agent'],
    ]);
  });

  it('every workload covered: exit 0', async () => {
    const covered = MANIFESTS.split('---\n')[0]!;
    const run = await cli(['validate', '--contracts', 'contracts', '--manifests', '-'], covered);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('a contract past its review is a finding', async () => {
    const dir = join(work, 'stale');
    mkdirSync(dir, { recursive: true });
    const long = new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10);
    writeFileSync(
      join(dir, 'a.yaml'),
      `service: a\nnamespace: prod\nmetadata: { last_reviewed: "${long}", review_interval_days: 90 }\n`,
    );
    const run = await cli(['validate', '--contracts', 'stale']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `egress contract for prod/a (${join(dir, 'a.yaml')}) is past its review: last reviewed ${long}, every 90 days`,
    );
  });

  it('hostile input: bad YAML, `..` paths, unknown flags, a missing directory → exit 2 with a clear line, no stack', async () => {
    const cases: [string[], string | undefined, string][] = [
      [
        ['validate', '--contracts', 'contracts', '--manifests', '-'],
        'kind: [Deployment\n',
        '<stdin>:2:1: not valid YAML',
      ],
      [['validate', '--manifests', '../../etc'], undefined, `'..' segments is refused`],
      [['validate', '--manifests', 'k8s', '--frobnicate'], undefined, "Unknown option '--frobnicate'"],
      [['validate', '--manifests', 'nope'], undefined, '--manifests nope: cannot read it (ENOENT)'],
      [
        ['validate', '--manifests', 'k8s', '--format', 'xml'],
        undefined,
        '--format must be text or json, not "xml"',
      ],
      [['contracts', 'render', '--out', 'a/../../b'], undefined, `'..' segments is refused`],
      [['contracts', 'render', '--fqdn', 'calico'], undefined, '--fqdn: expected cilium or cidrs'],
      [['contracts', 'explode'], undefined, 'unknown contracts command "explode"'],
    ];
    for (const [args, input, message] of cases) {
      const run = await cli(args, input);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toContain(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('contracts render', () => {
  it('one file per contract, byte-identical across runs; a second run rewrites nothing', async () => {
    const first = await cli(['contracts', 'render', '--contracts', 'contracts', '--out', 'out']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('wrote');
    const files = ['prod.orders-api.yaml', 'prod.payments-api.yaml'].map((f) => join(work, 'out', f));
    const before = files.map((f) => readFileSync(f, 'utf8'));
    expect(before[1]).toContain(
      '# warning: api.stripe.com: allowed by the CIDRs the contract gives (203.0.113.0/24)',
    );
    const second = await cli(['contracts', 'render', '--contracts', 'contracts', '--out', 'out']);
    expect(second.stderr).not.toContain('wrote');
    expect(second.stderr.match(/unchanged/g)).toHaveLength(2);
    expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(before);
    // stdout: the same objects, the same bytes every run.
    const a = await cli(['contracts', 'render', '--contracts', 'contracts', '--format', 'json']);
    const b = await cli(['contracts', 'render', '--contracts', 'contracts', '--format', 'json']);
    expect(a.stdout).toBe(b.stdout);
    const list = JSON.parse(a.stdout) as {
      kind: string;
      items: { kind: string; metadata: { name: string } }[];
    };
    expect(list.kind).toBe('List');
    expect(list.items.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'NetworkPolicy/egress-contract-orders-api',
      'AuthorizationPolicy/egress-contract-ledger-db-from-prod-orders-api',
      'NetworkPolicy/egress-contract-payments-api',
      'AuthorizationPolicy/egress-contract-orders-api-from-prod-payments-api',
    ]);
  });

  it('a bad contract file is named and the exit is 1; the good ones still render', async () => {
    const dir = join(work, 'mixed');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'good.yaml'), CONTRACTS['orders-api.yaml']);
    writeFileSync(join(dir, 'bad.yaml'), 'service: [oops\n');
    writeFileSync(join(dir, 'anyns.yaml'), 'service: floating\n');
    const run = await cli(['contracts', 'render', '--contracts', 'mixed']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('bad.yaml:2:1: not valid YAML');
    expect(run.stderr).toContain('anyns.yaml: the contract names no namespace');
    expect(run.stdout).toContain('name: egress-contract-orders-api');
  });
});
