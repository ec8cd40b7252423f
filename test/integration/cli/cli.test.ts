import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/index.js';
import type { Io } from '../../../src/cli/io.js';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';

function capture(env: NodeJS.ProcessEnv = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), env };
}

describe('egress-responder CLI', () => {
  it('drill with a config of its own and no cluster plans only, and prints timeline and scorecard', async () => {
    // The embedded defaults drill against the example snapshot (drill-snapshot.test.ts); a config file
    // without --cluster or --snapshot has nothing to drill against.
    const config = join(await mkdtemp(join(tmpdir(), 'er-drill-')), 'config.yaml');
    await writeFile(config, '{}\n');
    const io = capture();
    expect(await main(['drill', 'exfil-unknown-fqdn', '--config', config], io)).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toContain(
      'No cluster, Slack or Redis: the embedded store, every action planned and dry-run only.',
    );
    // No cluster: every step ran through, but nothing was applied, so nothing is called contained.
    expect(out).toMatch(/Drill scorecard: exfil-unknown-fqdn — PLAYED, NOT CONTAINED \(score 70\/100\)/);
    expect(out).not.toContain('— PASSED');
    expect(out).toContain('  played: yes, every step ran through');
    expect(out).toContain('  contained: no — planned only — nothing applied (no cluster configured)');
    expect(out).toContain('Step "B) Contain" planned only — nothing applied (no cluster configured)');
    expect(out).not.toContain('Step "B) Contain" completed');
    expect(out).toContain(
      '    - contain: completed — planned only — nothing applied (no cluster configured)',
    );
    expect(out).toContain('  time to contain: not contained');
    // Each action once, by its final state: the buckets add up to the total.
    const counts =
      /actions \((\d+), each by its final state\): (\d+) applied, (\d+) applied \(dry-run\), (\d+) planned only, (\d+) skipped \(not applicable\), (\d+) failed;/.exec(
        out,
      );
    expect(counts).not.toBeNull();
    const [total, ...buckets] = counts!.slice(1).map(Number);
    expect(buckets.reduce((a, b) => a + b, 0)).toBe(total);
    expect(buckets[2]).toBeGreaterThan(0);
    expect(out).toMatch(
      /- `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z` T\+00:00:\d\d\.\d{3} \*\*system\*\* incident\.opened/,
    );
    expect(out).toContain('k8s.quarantine not applied (no cluster configured: planned only)');
    expect(io.stderr).toEqual([]);
  });

  it('drill with an unknown scenario names the known ones; bad flags are usage errors', async () => {
    const io = capture();
    expect(await main(['drill', 'nope'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('no drill scenario "nope"');
    expect(io.stderr.join('\n')).toContain('exfil-unknown-fqdn');
    const bad = capture();
    expect(await main(['drill', '--format', 'pdf', 'x'], bad)).toBe(2);
    expect(bad.stderr.join('\n')).toContain('--format must be md or json, not "pdf"');
    expect(await main(['frobnicate'], capture())).toBe(2);
  });

  it('validate exits 1 with file and field for a broken playbook', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'er-validate-'));
    await writeFile(
      join(dir, 'p.yaml'),
      'id: p\ntitle: P\nmode: soft\nsteps:\n  - id: a\n    title: A\n    actions:\n      - uses: k8s.quarntine\n',
    );
    const io = capture();
    expect(await main(['validate', '--playbooks', dir], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain(`error ${join(dir, 'p.yaml')}: invalid playbook`);
    expect(io.stderr.join('\n')).toContain('steps[0].actions[0].uses: unknown action');
    const ok = capture();
    expect(await main(['validate'], ok)).toBe(0);
    expect(ok.stdout.at(-1)).toMatch(
      /^1 playbook\(s\), 3 contract\(s\), 8 drill\(s\); 0 error\(s\), 0 warning\(s\)$/,
    );
  });

  it('timeline without REDIS_URL says why it cannot read anything', async () => {
    const io = capture();
    expect(await main(['timeline', 'EGR-1'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('REDIS_URL is not set');
  });

  it('a broken config file is reported field by field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'er-config-'));
    const file = join(dir, 'config.yaml');
    await writeFile(file, 'modes: { prod: loud }\nslack: { incidentChanel: C1 }\n');
    const io = capture();
    expect(await main(['drill', 'exfil-unknown-fqdn', '--config', file], io)).toBe(1);
    const err = io.stderr.join('\n');
    expect(err).toContain(`${file}: invalid config`);
    expect(err).toContain(
      'modes.prod: Invalid option: expected one of "observe"|"soft"|"hard" (line 1) (got "loud")',
    );
    expect(err).toContain('slack.incidentChanel: unknown field (check the spelling) (line 2)');
  });
});

describe('drill --cluster', () => {
  let kube: FakeKubeApi;
  beforeAll(async () => {
    kube = await startFakeKubeApi();
    seedDeployment(kube, { namespace: 'prod', name: 'payments-api', replicas: 2 });
  });
  afterAll(() => kube.close());

  it('exercises the real API server with every change as dryRun=All and changes nothing', async () => {
    const io = capture({ KUBECONFIG: kube.kubeconfig() });
    const code = await main(['drill', 'exfil-unknown-fqdn', '--cluster'], io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const writes = kube.requests.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
    expect(writes.length).toBeGreaterThan(3);
    expect(writes.filter((r) => r.query.dryRun !== 'All')).toEqual([]);
    expect(kube.get('NetworkPolicy', 'prod', 'quarantine-deny-egress')).toBeUndefined();
    const pods = kube.list('Pod', 'prod') as { metadata: { labels?: Record<string, string> } }[];
    expect(pods.some((p) => p.metadata.labels?.quarantine)).toBe(false);
    const out = io.stdout.join('\n');
    expect(out).toContain('Verification: contained');
    // The server-side dry-run was admitted and verified: contained in dry-run, and only then PASSED.
    expect(out).toContain('Drill scorecard: exfil-unknown-fqdn — PASSED (score 100/100)');
    expect(out).toMatch(
      / {2}contained: in dry-run — verified in a dry run \(nothing was changed\): contained at L3\/L4 \(verified, dry-run\)/,
    );
    expect(out).toMatch(/time to contain: \d\d:\d\d:\d\d\.\d{3} \(dry-run\)/);
    expect(out).toContain('Step "B) Contain" completed: contained at L3/L4 (verified, dry-run); L7: no mesh');
  });

  it('--cluster without KUBECONFIG is a clear error', async () => {
    const io = capture({});
    expect(await main(['drill', 'exfil-unknown-fqdn', '--cluster'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('--cluster needs KUBECONFIG');
  });
});

describe('egress-responder serve when Redis cannot be reached', () => {
  it('exits 1 within a few seconds with one clear line (no hang, no stack trace)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'er-serve-'));
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      'slack:\n  incidentChannel: C0INCIDENT\n  responders: [U0AAA]\n  approvers: [U0CCC]\n',
    );
    const io = capture({
      SLACK_BOT_TOKEN: 'xoxb-x',
      SLACK_SIGNING_SECRET: 's',
      ALERT_WEBHOOK_TOKEN: 't',
      REDIS_URL: 'redis://127.0.0.1:1',
      LOG_LEVEL: 'silent',
      PORT: '0',
    });
    const started = Date.now();
    expect(await main(['serve', '--config', config], io)).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(io.stderr).toEqual([
      expect.stringMatching(/^egress-responder serve: cannot start: the store does not answer \(/),
    ]);
    expect(io.stderr.join('\n')).not.toMatch(/\n\s+at /);
  });
});
