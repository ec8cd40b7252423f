import { containmentGaps } from '../../../src/actions/k8s/index.js';
import type { Incident } from '../../../src/domain/incident.js';
import {
  ALLOW,
  ALLOW_SPEC,
  containHarness,
  NS,
  PODS,
  runContain,
  seedAdditiveTrap,
  TRAP_LINE,
} from '../../builders/additive-trap.js';
import { anAlert } from '../../builders/alert.js';
import { aPod, type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

function playbookYaml(remedy: string): string {
  return `
id: contain-test
title: Containment test
mode: hard
steps:
  - id: contain
    title: Contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - uses: k8s.quarantine
      - uses: k8s.deny-egress
        with: { remedy: ${remedy} }
      - uses: k8s.l7-deny
`;
}

let fake: FakeKubeApi;

beforeAll(async () => {
  fake = await startFakeKubeApi();
});

afterAll(async () => {
  await fake.close();
});

function seed(opts: { pods?: boolean; istio?: boolean } = {}): void {
  seedAdditiveTrap(fake, opts);
  fake.serve('istio', opts.istio ?? true);
}

const harness = (remedy = 'report-only') => containHarness(fake, playbookYaml(remedy));
const run = runContain;

const labelsOf = (name: string) =>
  (fake.get('Pod', NS, name)!.metadata as { labels?: Record<string, string> }).labels ?? {};
const annotationsOf = (name: string) =>
  (fake.get('Pod', NS, name)!.metadata as { annotations?: Record<string, string> }).annotations ?? {};
const writes = () => fake.requests.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
const actionsOf = (inc: Incident) => inc.steps[0]!.actions;

describe('k8s containment through the engine', () => {
  it('report-only: labels and the deny policy are applied, but the allow-policy keeps egress open → incomplete', async () => {
    seed();
    const { inc, lines } = await run(harness('report-only'));
    expect(actionsOf(inc).map((a) => [a.key, a.status])).toEqual([
      ['k8s.quarantine', 'applied'],
      ['k8s.deny-egress', 'verified'],
      ['k8s.l7-deny', 'verified'],
    ]);
    expect(inc.status).toBe('containment_incomplete');
    expect(lines.filter((l) => l.startsWith('Verification:'))).toEqual([TRAP_LINE]);

    for (const pod of PODS) {
      expect(labelsOf(pod)).toEqual({ app: 'payments-api', quarantine: 'true' });
      expect(annotationsOf(pod)['egress-responder.io/incident']).toBe(inc.id);
      expect(annotationsOf(pod)['egress-responder.io/quarantined-at']).toBe('2026-11-25T14:03:12.123Z');
    }
    const deny = fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')!;
    expect(deny.spec).toEqual({
      podSelector: { matchLabels: { quarantine: 'true' } },
      policyTypes: ['Egress'],
      egress: [],
    });
    expect((deny.metadata as { annotations: Record<string, string> }).annotations).toMatchObject({
      'egress-responder.io/incident': inc.id,
      'egress-responder.io/contract': 'none',
      'egress-responder.io/approved-by': 'n/a',
      'egress-responder.io/applied-by': 'system',
    });
    expect(
      (deny.metadata as { annotations: Record<string, string> }).annotations[
        'egress-responder.io/spec-sha256'
      ],
    ).toMatch(/^[0-9a-f]{64}$/);
    // Server-side apply with the field manager.
    const apply = fake.requests.find(
      (r) => r.contentType === 'application/apply-patch+yaml' && r.path.includes('networkpolicies'),
    );
    expect(apply?.query.fieldManager).toBe('egress-responder');
    // The allow-policy is untouched.
    expect(fake.get('NetworkPolicy', NS, ALLOW)!.spec).toEqual(ALLOW_SPEC);
    // The plan showed the YAML and the other policy selecting the pods.
    const plan = actionsOf(inc)[1]!.plan as { preview: string };
    expect(plan.preview).toContain('kind: NetworkPolicy');
    expect(plan.preview).toContain(`# other policies selecting them: ${ALLOW}`);
    const qplan = actionsOf(inc)[0]!.plan as { preview: string };
    for (const pod of PODS) expect(qplan.preview).toContain(pod);
  });

  it('isolate: the allow-policy stops selecting quarantined pods → contained; revert restores it byte for byte', async () => {
    seed();
    const h = harness('isolate');
    const { inc, lines } = await run(h);
    expect(inc.status).toBe('contained');
    expect(lines.filter((l) => l.startsWith('Verification:'))).toEqual([
      'Verification: contained — 2 pods isolated by quarantine-deny-egress',
    ]);
    const patched = fake.get('NetworkPolicy', NS, ALLOW)!.spec as typeof ALLOW_SPEC;
    expect(patched.podSelector).toEqual({
      matchLabels: { app: 'payments-api' },
      matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }],
    });
    const outcome = actionsOf(inc)[1]!.outcome as {
      data: { remedied: { name: string; original: { spec: unknown } }[] };
    };
    expect(outcome.data.remedied.map((r) => r.name)).toEqual([ALLOW]);
    expect(outcome.data.remedied[0]!.original.spec).toEqual(ALLOW_SPEC);

    const reverted = await h.engine.revertStep(inc.id, 'contain', 'slack:U1');
    expect(actionsOf(reverted).map((a) => a.status)).toEqual(['reverted', 'reverted', 'reverted']);
    expect(JSON.stringify(fake.get('NetworkPolicy', NS, ALLOW)!.spec)).toBe(JSON.stringify(ALLOW_SPEC));
    expect(fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')).toBeUndefined();
    expect(fake.list('AuthorizationPolicy')).toEqual([]);
    for (const pod of PODS) {
      expect(labelsOf(pod)).toEqual({ app: 'payments-api' });
      expect(annotationsOf(pod)).toEqual({});
    }
  });

  it('detach: the workload label is removed from the quarantined pods → contained; revert puts it back', async () => {
    seed();
    const h = harness('detach');
    const { inc, lines } = await run(h);
    expect(inc.status).toBe('contained');
    expect(lines.filter((l) => l.startsWith('Verification:'))).toEqual([
      'Verification: contained — 2 pods isolated by quarantine-deny-egress',
    ]);
    for (const pod of PODS) expect(labelsOf(pod)).toEqual({ quarantine: 'true' });
    expect(fake.get('NetworkPolicy', NS, ALLOW)!.spec).toEqual(ALLOW_SPEC);

    await h.engine.revertStep(inc.id, 'contain', 'slack:U1');
    for (const pod of PODS) expect(labelsOf(pod)).toEqual({ app: 'payments-api' });
    expect(fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')).toBeUndefined();
  });

  it('a drill sends dryRun=All on every write and changes nothing; the verdict is computed as the cluster would be', async () => {
    seed();
    const before = JSON.stringify([fake.list('Pod', NS), fake.list('NetworkPolicy', NS)]);
    const { inc, lines } = await run(harness('isolate'), { drill: true });
    expect(actionsOf(inc).map((a) => [a.status, a.dryRun])).toEqual([
      ['applied', true],
      ['verified', true],
      ['verified', true],
    ]);
    expect(writes().length).toBeGreaterThanOrEqual(4);
    for (const w of writes()) expect([w.method, w.path, w.query.dryRun]).toEqual([w.method, w.path, 'All']);
    expect(JSON.stringify([fake.list('Pod', NS), fake.list('NetworkPolicy', NS)])).toBe(before);
    expect(fake.list('AuthorizationPolicy')).toEqual([]);
    expect(lines).toContain(
      '[dry-run] Verification: contained — 2 pods isolated by quarantine-deny-egress (dry-run)',
    );
  });

  it('refuses a denied namespace before any request', async () => {
    seed();
    const { inc, lines } = await run(harness(), {
      alert: anAlert({
        source: {
          namespace: 'kube-system',
          identity: 'spiffe://cluster.local/ns/kube-system/sa/payments-api',
        },
      }),
    });
    expect(actionsOf(inc)[0]!.status).toBe('failed');
    expect(actionsOf(inc)[0]!.error?.code).toBe('namespace_refused');
    expect(actionsOf(inc)[0]!.error?.message).toContain('Refusing to act in namespace "kube-system"');
    expect(
      lines.some((l) =>
        l.includes('k8s.quarantine failed during plan: Refusing to act in namespace "kube-system"'),
      ),
    ).toBe(true);
    expect(inc.steps[0]!.status).toBe('failed');
    expect(fake.requests).toEqual([]);
  });

  it('no matching pods → failed with "no pods matched"', async () => {
    seed({ pods: false });
    const { inc } = await run(harness());
    expect(actionsOf(inc)[0]!.status).toBe('failed');
    expect(actionsOf(inc)[0]!.error).toEqual({
      code: 'k8s_not_found',
      message:
        "no pods matched app=payments-api in prod: nothing to quarantine. Check the alert's source, or choose the pods with the step's `with: { selector: … }` or `by: service-account`",
      fix: 'point the step at the pods: `with: { selector: … }` or `by: service-account`',
    });
    expect(writes()).toEqual([]);
  });

  it('403 on the pod patch → failed naming the verb, resource and namespace; nothing else applied', async () => {
    seed();
    fake.deny({ verb: 'patch', resource: 'pods', namespace: NS });
    const { inc } = await run(harness());
    const q = actionsOf(inc)[0]!;
    expect(q.status).toBe('failed');
    expect(q.error?.code).toBe('action_failed');
    expect(q.error?.message).toContain('could not label any of the 2 pod(s) of the plan in prod');
    expect(q.error?.message).toContain('may not patch pods in namespace "prod"');
    expect(fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')).toBeUndefined();
  });

  it('one pod failing is reported; the others are quarantined', async () => {
    seed();
    fake.deny({ verb: 'patch', resource: 'pods', namespace: NS, name: PODS[1]! });
    const { inc, lines } = await run(harness('isolate'));
    const q = actionsOf(inc)[0]!;
    expect(q.status).toBe('applied');
    const data = (q.outcome as { data: { succeeded: string[]; failed: string[] } }).data;
    expect(data).toMatchObject({ succeeded: [PODS[0]], failed: [PODS[1]] });
    expect((q.outcome as { summary: string }).summary).toContain(`FAILED 1: ${PODS[1]}`);
    // The pod that kept its labels is not contained, and verification says so.
    expect(inc.status).toBe('containment_incomplete');
    expect(lines.filter((l) => l.startsWith('Verification:'))).toEqual([TRAP_LINE]);
  });

  it('soft mode: the confirming responder is recorded as approver; a repeated quarantine is a no-op', async () => {
    seed();
    const h = harness('isolate');
    const { id } = await h.open({ mode: 'soft' });
    let inc = await h.engine.advance(id);
    expect(inc.steps[0]!.status).toBe('awaiting_confirmation');
    expect(writes()).toEqual([]);
    inc = await h.engine.confirm(id, 'contain', 'slack:U7');
    expect(inc.status).toBe('contained');
    const deny = fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')!;
    expect((deny.metadata as { annotations: Record<string, string> }).annotations).toMatchObject({
      'egress-responder.io/approved-by': 'slack:U7',
      'egress-responder.io/applied-by': 'slack:U7',
    });
    const patches = fake.requestsMatching({ method: 'PATCH', path: /\/pods\// }).length;
    const after = await h.engine.runAction(id, { uses: 'k8s.quarantine', with: {} }, 'slack:U7');
    const again = after.steps.find((s) => s.adhoc)!.actions[0]!;
    expect((again.plan as { changes: boolean }).changes).toBe(false);
    expect((again.outcome as { summary: string }).summary).toContain('2 already quarantined (no-op');
    expect(fake.requestsMatching({ method: 'PATCH', path: /\/pods\// }).length).toBe(patches);
  });

  it('reverting a drill sends dryRun=All too and changes nothing', async () => {
    seed();
    const h = harness('detach');
    const { inc } = await run(h, { drill: true });
    fake.requests.length = 0;
    const before = JSON.stringify([fake.list('Pod', NS), fake.list('NetworkPolicy', NS)]);
    await h.engine.revertStep(inc.id, 'contain', 'slack:U1');
    expect(writes().length).toBeGreaterThan(0);
    for (const w of writes()) expect(w.query.dryRun).toBe('All');
    expect(JSON.stringify([fake.list('Pod', NS), fake.list('NetworkPolicy', NS)])).toBe(before);
  });

  it('by service-account: finds pods by spec.serviceAccountName from the alert identity', async () => {
    seed();
    fake.put(aPod({ namespace: NS, name: 'other-1', labels: { app: 'other' }, serviceAccountName: 'other' }));
    const h = harness();
    const { id } = await h.open({ drill: true });
    const after = await h.engine.runAction(
      id,
      { uses: 'k8s.quarantine', with: { by: 'service-account' } },
      'slack:U1',
    );
    const plan = after.steps.find((s) => s.adhoc)!.actions[0]!.plan as { summary: string };
    expect(plan.summary).toBe(
      'label 2 of 2 pod(s) matching serviceAccountName=payments-api in prod quarantine=true',
    );
  });

  it('without Istio, l7-deny is skipped with the reason', async () => {
    seed({ istio: false });
    const { inc, lines } = await run(harness('isolate'));
    const l7 = actionsOf(inc)[2]!;
    expect([l7.status, l7.reason]).toEqual([
      'skipped',
      'Istio AuthorizationPolicy API not served: no L7 block (no mesh)',
    ]);
    expect(lines.some((l) => l.includes('no L7 block'))).toBe(true);
    // Egress is verified contained; an L7 block that does not apply (no mesh) does not hold that back.
    expect(actionsOf(inc)[1]!.status).toBe('verified');
    expect(inc.status).toBe('contained');
  });

  // Where the L7 policies land (mesh root, egress gateway), 403s and revert: l7-deny.test.ts.

  it('states what containment does not cover', () => {
    expect(containmentGaps).toHaveLength(2);
    expect(containmentGaps[0]).toMatch(/established connections/i);
    expect(containmentGaps[1]).toMatch(/service-account token until the pod is deleted.*rotation step/);
  });
});
