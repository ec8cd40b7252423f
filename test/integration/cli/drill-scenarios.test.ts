import { main } from '../../../src/cli/index.js';
import type { Io } from '../../../src/cli/io.js';

// Every shipped scenario (playbooks/drills/) validates and runs end to end through the CLI on the
// embedded defaults, with the outcome its file describes. What containment amounts to depends on what
// the drill runs against (the example snapshot, or nothing: planned only); the expectations checked
// here hold either way, and the verdict line follows the scorecard's rule.

const SHIPPED = [
  'allowed-stripe-call',
  'cloud-metadata',
  'dns-tunnel',
  'east-west-no-contract',
  'exfil-unknown-fqdn',
  'falco-c2-ip',
  'rbac-gap',
  'slack-rate-limited',
];

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), env: {} };
}

async function drill(id: string): Promise<{ code: number; out: string }> {
  const io = capture();
  const code = await main(['drill', id], io);
  expect(io.stderr).toEqual([]);
  return { code, out: io.stdout.join('\n') };
}

/** The scorecard's verdict, and the exit code that must go with it (FAILED is 1, the others 0). */
function verdictOf(id: string, run: { code: number; out: string }): string {
  const m = new RegExp(
    `^Drill scorecard: ${id} — (PASSED|PLAYED, NOT CONTAINED|FAILED) \\(score \\d+/100\\)$`,
    'm',
  ).exec(run.out);
  expect(m).not.toBeNull();
  expect(run.code).toBe(m![1] === 'FAILED' ? 1 : 0);
  return m![1]!;
}

describe('shipped drill scenarios', () => {
  it('all eight validate', async () => {
    const io = capture();
    expect(await main(['validate'], io)).toBe(0);
    for (const id of SHIPPED) expect(io.stdout.some((l) => l.startsWith(`ok  drill ${id} (`))).toBe(true);
    expect(io.stdout.at(-1)).toMatch(/, 8 drill\(s\); 0 error\(s\), 0 warning\(s\)$/);
    const list = capture();
    expect(await main(['drill', '--list'], list)).toBe(0);
    for (const id of SHIPPED) expect(list.stdout.join('\n')).toContain(`  ${id}`);
  });

  it.each(SHIPPED)('%s meets every expectation of its file', async (id) => {
    const run = await drill(id);
    expect(run.out).toContain('  expectations:');
    expect(run.out).not.toMatch(/^ {4}✗ /m);
    expect(run.out).toContain('    ✓ incidents opened: expected ');
  });

  it('dns-tunnel: 3 001 queries to 3 000 subdomains open ONE incident counting exactly 3 000 distinct hosts', async () => {
    const run = await drill('dns-tunnel');
    expect(verdictOf('dns-tunnel', run)).not.toBe('FAILED');
    expect(run.out).toMatch(/^ {2}incident EGR-\S+: resolved, verdict violation, 3001 alert\(s\)$/m);
    expect(run.out).toContain(
      '    3000 distinct hosts folded (registrable domain tunnel-example.net): mfrggzdfmztwq2lk.x7f.tunnel-example.net, 1-mfrggzdf.x7f.tunnel-example.net, 2-mfrggzdf.x7f.tunnel-example.net, 3-mfrggzdf.x7f.tunnel-example.net, 4-mfrggzdf.x7f.tunnel-example.net, …',
    );
    expect(run.out).toContain('    ✓ distinct hosts: expected 3000, got 3000');
    expect(run.out).toContain('    ✓ incidents opened: expected 1, got 1');
    expect(run.out).not.toContain('incidents opened by the scenario');
    expect(run.out).toMatch(/^ {2}- T\+00:00:00\.\d{3} alert: 2000 alert\(s\)$/m);
    expect(run.out).toContain('  - T+00:00:30.000 later[0]: 1001 alert(s) — the tunnel resumes');
    expect(run.out).toContain(
      'Incident opened: orders-api (namespace prod) called mfrggzdfmztwq2lk.x7f.tunnel-example.net',
    );
  });

  it('allowed-stripe-call: nothing is contained, and the scorecard says so', async () => {
    const run = await drill('allowed-stripe-call');
    expect(verdictOf('allowed-stripe-call', run)).toBe('PASSED');
    expect(run.out).toContain(
      '  contained: not applicable — containment step skipped (condition not met: verdict is allowed',
    );
    for (const step of ['contain', 'evidence', 'rotate', 'cleanup'])
      expect(run.out).toContain(`    ✓ step ${step}: expected skipped, got skipped`);
    expect(run.out).toMatch(/^ {2}incident EGR-\S+: resolved, verdict allowed, 2 alert\(s\)$/m);
    expect(run.out).not.toMatch(/k8s\.(quarantine|deny-egress|rollout-restart) (done|planned)/);
    expect(run.out).toMatch(
      /actions \(\d+, each by its final state\): 0 applied, \d+ applied \(dry-run\), 0 planned only/,
    );
  });

  it('cloud-metadata: the second anomaly arrives at T+45 s while containment waits, and opens its own incident', async () => {
    const run = await drill('cloud-metadata');
    expect(verdictOf('cloud-metadata', run)).not.toBe('FAILED');
    expect(run.out).toMatch(/^ {2}incident EGR-\S+: resolved, verdict violation, 1 alert\(s\)$/m);
    expect(run.out).toContain('  incidents opened by the scenario: 2');
    expect(run.out).toMatch(
      /^ {4}- EGR-\S+: resolved, verdict violation, 1 alert\(s\); 1 distinct host folded \(registrable domain ops-backup-7731\.s3\.amazonaws\.com\): ops-backup-7731\.s3\.amazonaws\.com$/m,
    );
    expect(run.out).toContain('  - T+00:00:45.000 later[0]: 1 alert(s) — a second anomaly mid-drill');
    // The first incident's containment waited from before the second anomaly and was confirmed after it.
    const waits = /T\+(\d\d:\d\d:\d\d\.\d{3}) \*\*system\*\* step\.waiting: Step "B\) Contain" waits/.exec(
      run.out,
    );
    expect((waits?.[1] ?? '99') < '00:00:45.000').toBe(true);
    expect(run.out).toMatch(
      /T\+00:00:45\.\d{3} \*\*drill:responder\*\* confirmation\.given: Confirmed step contain/,
    );
  });

  it('falco-c2-ip and exfil-unknown-fqdn: the repeat 30 s later folds into the one incident', async () => {
    const falco = await drill('falco-c2-ip');
    expect(verdictOf('falco-c2-ip', falco)).not.toBe('FAILED');
    expect(falco.out).toMatch(/^ {2}incident EGR-\S+: resolved, verdict violation, 2 alert\(s\)$/m);
    expect(falco.out).toContain(
      '  - T+00:00:30.000 later[0]: 1 alert(s) — Falco reports the same connection again',
    );
    const exfil = await drill('exfil-unknown-fqdn');
    expect(verdictOf('exfil-unknown-fqdn', exfil)).not.toBe('FAILED');
    expect(exfil.out).toMatch(/^ {2}incident EGR-\S+: resolved, verdict violation, 52 alert\(s\)$/m);
    expect(exfil.out).toMatch(/time to contain: (not reached|00:00:3\d\.\d{3})/);
  });

  it('east-west-no-contract: verdict no-contract; against the snapshot the rotation gap of a StatefulSet is found', async () => {
    const run = await drill('east-west-no-contract');
    expect(run.out).toMatch(/^ {2}incident EGR-\S+: \S+, verdict no-contract, 2 alert\(s\)$/m);
    const verdict = verdictOf('east-west-no-contract', run);
    if (run.out.includes('Against the example snapshot')) {
      expect(verdict).toBe('FAILED');
      expect(run.out).toContain(
        '    - rotate / k8s.rollout-restart: Deployment ledger not found in namespace prod',
      );
      expect(run.out).toContain('set `kind` and `name` in the step');
    } else {
      expect(verdict).toBe('PLAYED, NOT CONTAINED');
    }
  });

  it('rbac-gap: the injected denial is refused as the API server would; the scorecard names the rule to add', async () => {
    const run = await drill('rbac-gap');
    expect(run.out).toContain(
      'Complications injected: RBAC denies patch pods in prod; the API answers 20 ms late.',
    );
    expect(verdictOf('rbac-gap', run)).toBe('FAILED');
    expect(run.out).toMatch(/^ {2}contained: no — containment step failed/m);
    expect(run.out).toContain('may not patch pods in namespace "prod"');
    expect(run.out).toContain(
      'fix: the bot cannot patch pods in prod: add `patch` on `pods` to the Role bound in prod',
    );
    expect(run.out).toContain(
      '    - RBAC denies patch pods in prod: met — refused contain / k8s.quarantine (the fix is under the failed actions)',
    );
  });

  it('slack-rate-limited: a CLI drill has no Slack, so the rate limit is said to be not applicable, in the header and the scorecard', async () => {
    const run = await drill('slack-rate-limited');
    expect(run.out).toContain(
      'Complication not applicable: Slack rate limit on chat.postMessage: every 3rd call answered 429, Retry-After 2 s (a CLI drill has no Slack; play it in Slack with /egress drill slack-rate-limited).',
    );
    expect(run.out).toContain(
      '    - Slack rate limit on chat.postMessage: every 3rd call answered 429, Retry-After 2 s: not applicable — this drill had no Slack thread (a CLI drill)',
    );
    // Not applicable is not a failure: the drill plays like the exfiltration it is.
    expect(verdictOf('slack-rate-limited', run)).not.toBe('FAILED');
    const json = capture();
    expect(await main(['drill', 'slack-rate-limited', '--format', 'json'], json)).toBe(0);
    const card = (JSON.parse(json.stdout.join('\n')) as { scorecard: { complications: unknown } }).scorecard;
    expect(card.complications).toEqual([
      {
        what: 'Slack rate limit on chat.postMessage: every 3rd call answered 429, Retry-After 2 s',
        state: 'not applicable',
        detail: 'this drill had no Slack thread (a CLI drill)',
      },
    ]);
  });
});
