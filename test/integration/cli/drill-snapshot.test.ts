// `drill` against a cluster snapshot: the embedded defaults drill against the shipped example (the
// README's first command shows the whole loop), `--snapshot FILE` is the what-if for a snapshot of
// one's own, and a file that is not a snapshot is a usage error (exit 2) saying what is wrong where.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_SNAPSHOT } from '../../../src/cli/drill.js';
import { main } from '../../../src/cli/index.js';
import type { Io } from '../../../src/cli/io.js';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), env: {} };
}

const PODS = [
  'payments-api-7d9f8b6c5d-k8p2d',
  'payments-api-7d9f8b6c5d-m4n9w',
  'payments-api-7d9f8b6c5d-x2x7q',
];
const TRAP = 'payments-egress-allow-dns-and-internal';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drill-snapshot-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the embedded default drill runs against the example snapshot', () => {
  it('prints the pods to quarantine, the rendered policy, the trap found, the remedy applied and Verification: contained', async () => {
    const io = capture();
    expect(await main(['drill', 'exfil-unknown-fqdn'], io)).toBe(0);
    expect(io.stderr).toEqual([]);
    const out = io.stdout.join('\n');
    expect(out).toContain(
      'Against the example snapshot playbooks/drills/snapshots/prod.yaml (28 objects, in memory; no cluster, Slack or Redis): every Kubernetes change is a dry-run, nothing outside this process is read or changed.',
    );
    // The preview, as a responder confirms it: the pods, the policy as it would be applied…
    expect(out).toContain('## B) Contain: the preview a responder confirms, and what came of it');
    expect(out).toContain('workloads: Deployment/payments-api (3 pods)');
    for (const pod of PODS) expect(out).toContain(`  - ${pod}\n`);
    expect(out).toContain(
      ['kind: NetworkPolicy', 'metadata:', '  name: quarantine-deny-egress', '  namespace: prod'].join('\n'),
    );
    expect(out).toContain(
      [
        'spec:',
        '  podSelector:',
        '    matchLabels:',
        '      quarantine: "true"',
        '  policyTypes:',
        '    - Egress',
        '  egress: []',
      ].join('\n'),
    );
    // …the additive-policy trap found, and the remedy…
    expect(out).toContain(`# allow-policies that would still let them out: ${TRAP}`);
    expect(out).toContain(`# isolate: merge-patch NetworkPolicy ${TRAP}`);
    expect(out).toContain(['      - key: quarantine', '        operator: DoesNotExist'].join('\n'));
    // …applied (as a dry-run) and verified over the union of every policy selecting the pods.
    expect(out).toContain(`isolated 1 allow-policy(ies) (${TRAP})`);
    expect(out).toContain('Verification: contained — 3 pods isolated by quarantine-deny-egress (dry-run)');
    expect(out).toContain('Step result: contained at L3/L4 (verified, dry-run); L7: no mesh');
    // The detach judges only what it changes: no line after the verdict may say the pods are open.
    expect(out).toContain(
      'Detach (dry-run): 3 pod(s) would be released by their controllers, still quarantine=true; no NetworkPolicy would start selecting them because of the removed labels',
    );
    expect(out).not.toContain('all egress is allowed');
    expect(out).toContain('Drill scorecard: exfil-unknown-fqdn — PASSED (score 100/100)');
    expect(out).not.toContain('no cluster configured');
    // The rotation step finds the snapshot's legacy token Secret (whose data the reader dropped).
    expect(out).toContain(
      'k8s.revoke-token-secrets applied: deleted 1 legacy token Secret of prod/payments-api: payments-api-token-7xq4k',
    );
  });

  it('an allowed call still skips containment against the snapshot', async () => {
    const io = capture();
    expect(await main(['drill', 'allowed-stripe-call'], io)).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toContain('Drill scorecard: allowed-stripe-call — PASSED');
    expect(out).not.toContain('## B) Contain: the preview');
    expect(out).not.toContain('k8s.quarantine applied');
  });
});

describe('drill --snapshot FILE: the what-if for a snapshot of one’s own', () => {
  it('answers from that file: without the allow-policy there is no trap and nothing to remedy', async () => {
    const text = readFileSync(EXAMPLE_SNAPSHOT, 'utf8');
    const start = text.indexOf(
      `  - apiVersion: networking.k8s.io/v1\n    kind: NetworkPolicy\n    metadata:\n      name: ${TRAP}`,
    );
    const end = text.indexOf('  - apiVersion: networking.k8s.io/v1', start + 10);
    expect(start).toBeGreaterThan(0);
    const file = join(dir, 'no-allow.yaml');
    writeFileSync(file, text.slice(0, start) + text.slice(end));
    const io = capture();
    expect(await main(['drill', 'exfil-unknown-fqdn', '--snapshot', file], io)).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toContain(`Against snapshot ${file} (27 objects, in memory`);
    expect(out).toContain('# allow-policies that would still let them out: none');
    expect(out).not.toContain(`isolated 1 allow-policy(ies)`);
    expect(out).toContain('Verification: contained — 3 pods isolated by quarantine-deny-egress (dry-run)');
  });

  it('prints the scorecard as JSON with --format json', async () => {
    const io = capture();
    expect(
      await main(['drill', 'exfil-unknown-fqdn', '--snapshot', EXAMPLE_SNAPSHOT, '--format', 'json'], io),
    ).toBe(0);
    const report = JSON.parse(io.stdout.join('\n')) as { scorecard: { verdict: string } };
    expect(report.scorecard.verdict).toBe('passed');
  });
});

describe('drill --snapshot with a file that is not a snapshot: exit 2, what is wrong and where, no stack trace', () => {
  async function refused(args: string[]): Promise<string> {
    const io = capture();
    expect(await main(['drill', 'exfil-unknown-fqdn', ...args], io)).toBe(2);
    expect(io.stdout).toEqual([]);
    const err = io.stderr.join('\n');
    expect(err).not.toMatch(/^\s+at /m);
    expect(err.split('\n').length).toBeLessThan(25);
    return err;
  }
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('not YAML', async () => {
    const file = write('broken.yaml', 'apiVersion: v1\nkind: List\nitems: [ { kind: Pod\n');
    expect(await refused(['--snapshot', file])).toMatch(
      new RegExp(
        `^egress-responder drill: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: not valid YAML \\(document 1\\): `,
      ),
    );
  });

  it('a List holding an object of kind constructor, named constructor', async () => {
    const file = write(
      'constructor.yaml',
      'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: constructor\n    metadata: { name: constructor, namespace: prod }\n',
    );
    const err = await refused(['--snapshot', file]);
    expect(err).toContain(`egress-responder drill: ${file}: not a usable cluster snapshot (1 problem)`);
    expect(err).toContain(
      '  - document 1, items[0]: kind: a snapshot does not hold v1 constructor; it holds: Namespace, Pod',
    );
    expect(err).toContain('(line 5) (got "constructor")');
  });

  it('a document without kind', async () => {
    const file = write(
      'no-kind.yaml',
      `${readFileSync(EXAMPLE_SNAPSHOT, 'utf8')}\n---\napiVersion: v1\nmetadata: { name: x, namespace: prod }\n`,
    );
    expect(await refused(['--snapshot', file])).toContain(
      'document 2: kind: required: every object names its kind (Pod, NetworkPolicy, …)',
    );
  });

  it('a path with .. in it: resolved, and a file there that is not a snapshot (or no file) is named', async () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'root:x:0:0:root:/root:/bin/bash\n');
    const notes = join(dir, 'sub', '..', 'notes.txt');
    expect(await refused(['--snapshot', notes])).toContain(
      `${notes}: not a usable cluster snapshot (1 problem)\n  - document 1: expected a Kubernetes object (a mapping with apiVersion, kind and metadata) (line 1)`,
    );
    const gone = join(dir, 'sub', '..', '..', 'no-such-dir', 'snap.yaml');
    expect(await refused(['--snapshot', gone])).toContain(`snapshot ${gone}: no such file (`);
    expect(await refused(['--snapshot', dir])).toContain(`snapshot ${dir}: is a directory, not a file`);
  });

  it('a 20 MB file, refused before it is read', async () => {
    const big = write('big.yaml', '');
    truncateSync(big, 20 * 1000 * 1000);
    expect(await refused(['--snapshot', big])).toBe(
      `egress-responder drill: snapshot ${big}: is 19.1 MiB; a snapshot may be at most 16 MiB (snapshot fewer namespaces or kinds)`,
    );
  });

  it('--snapshot with --cluster, and with no file', async () => {
    expect(await refused(['--snapshot', EXAMPLE_SNAPSHOT, '--cluster'])).toBe(
      'egress-responder drill: --cluster and --snapshot exclude each other: drill against one',
    );
    expect(await refused(['--snapshot', ''])).toContain('--snapshot needs a file');
    expect(await refused(['--snapshot'])).toContain("Option '--snapshot <value>' argument missing");
  });
});
