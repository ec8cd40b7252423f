import { coverageFindings, reviewFindings, unlabelled } from '../../../src/contracts/coverage.js';
import { parseContract } from '../../../src/contracts/load.js';
import { readManifests } from '../../../src/contracts/manifests.js';

const OPTS = { appLabel: 'app', defaultNamespace: 'default' };

const TEXT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: payments-api, namespace: prod, labels: { app: wrong } }
spec:
  template:
    metadata: { labels: { app: payments-api } }
---
apiVersion: v1
kind: List
items:
  - kind: StatefulSet
    metadata: { name: cache, namespace: prod, labels: { app: cache } }
  - kind: CronJob
    metadata: { name: nightly, namespace: prod }
    spec: { jobTemplate: { spec: { template: { metadata: { labels: { app: report-job } } } } } }
  - kind: Service
    metadata: { name: payments-api, namespace: prod, labels: { app: payments-api } }
---
{"kind": "DaemonSet", "metadata": {"name": "agent"}, "spec": {}}
`;

describe('readManifests', () => {
  it('reads workloads from multi-document YAML, Lists and JSON; the pod template label wins; other kinds skipped', () => {
    const { workloads, problems } = readManifests(TEXT, 'all.yaml', OPTS);
    expect(problems).toEqual([]);
    expect(workloads.map((w) => [w.kind, w.name, w.namespace, w.app, w.line])).toEqual([
      ['Deployment', 'payments-api', 'prod', 'payments-api', 1],
      ['StatefulSet', 'cache', 'prod', 'cache', 11],
      ['CronJob', 'nightly', 'prod', 'report-job', 13],
      ['DaemonSet', 'agent', 'default', undefined, 19],
    ]);
  });

  it('a configurable label; `constructor` and `__proto__` keys are plain labels', () => {
    const text = 'kind: Deployment\nmetadata: { name: x, labels: { constructor: svc, __proto__: p } }\n';
    expect(readManifests(text, 'f', { ...OPTS, appLabel: 'constructor' }).workloads[0]!.app).toBe('svc');
    expect(readManifests(text, 'f', { ...OPTS, appLabel: 'toString' }).workloads[0]!.app).toBeUndefined();
  });

  it('bad YAML is a problem with line and column; the good documents still read', () => {
    const { workloads, problems } = readManifests(`${TEXT}---\nkind: [Deployment\n`, 'bad.yaml', OPTS);
    expect(workloads).toHaveLength(4);
    expect(problems).toEqual([expect.objectContaining({ file: 'bad.yaml', line: expect.any(Number) })]);
    expect(problems[0]!.message).toMatch(/^not valid YAML: /);
  });

  it('an alias bomb is refused, not expanded', () => {
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
`;
    const { problems } = readManifests(bomb, 'bomb.yaml', OPTS);
    expect(problems[0]?.message).toMatch(/cannot read the YAML/);
  });
});

const contract = (text: string, file = 'c.yaml') => parseContract(text, file);

describe('coverageFindings', () => {
  const contracts = [contract('service: payments-api\nnamespace: prod\n'), contract('service: cache\n')];
  it('names each workload with the label and no contract for its namespace and app', () => {
    const { workloads } = readManifests(TEXT, 'all.yaml', OPTS);
    const findings = coverageFindings(workloads, contracts);
    expect(findings.map((f) => f.message)).toEqual([
      'missing egress contract for prod/report-job (CronJob/nightly, all.yaml:13)',
    ]);
    expect(unlabelled(workloads, 'app')).toEqual([
      'DaemonSet/agent in default has no app label: not checked (all.yaml:19)',
    ]);
  });

  it('a contract for another namespace does not cover the workload', () => {
    const { workloads } = readManifests(
      TEXT.replace('namespace: prod, labels: { app: wrong }', 'namespace: staging'),
      'a.yaml',
      OPTS,
    );
    expect(coverageFindings(workloads, contracts).map((f) => f.message)).toContain(
      'missing egress contract for staging/payments-api (Deployment/payments-api, a.yaml:1)',
    );
  });
});

describe('reviewFindings', () => {
  const now = Date.UTC(2026, 11, 3);
  const withReview = (last: string, days: unknown) =>
    contract(
      `service: s\nnamespace: prod\nmetadata: { last_reviewed: "${last}", review_interval_days: ${days} }\n`,
    );
  it('past its interval: reported with the due date and how long ago', () => {
    expect(reviewFindings([withReview('2026-08-01', 90)], now).map((f) => f.message)).toEqual([
      'egress contract for prod/s (c.yaml) is past its review: last reviewed 2026-08-01, every 90 days, due 2026-10-30 (34 day(s) ago)',
    ]);
  });
  it('within its interval, or without a review date: nothing', () => {
    expect(reviewFindings([withReview('2026-11-01', 90)], now)).toEqual([]);
    expect(reviewFindings([contract('service: s\nmetadata: { review_interval_days: 1 }\n')], now)).toEqual(
      [],
    );
  });
  it('an impossible date or interval says what is expected', () => {
    for (const [last, days] of [
      ['2026-02-31', 90],
      ['yesterday', 90],
      ['2026-01-01', '"ninety"'],
      ['2026-01-01', 0],
    ] as const) {
      const f = reviewFindings([withReview(last, days)], now);
      expect(f).toEqual([expect.objectContaining({ kind: 'review-date-invalid' })]);
      expect(f[0]!.message).toContain('must be a date YYYY-MM-DD');
    }
  });
});
