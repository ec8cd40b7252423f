import { anpName, NO_CNI_DENY_REASON } from '../../../src/actions/k8s/contain/cni-deny.js';
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
import {
  type FakeExtension,
  type FakeKubeApi,
  type JsonObject,
  startFakeKubeApi,
} from '../../fakes/kube-api/index.js';

const CNP = 'quarantine-deny-egress-cilium';
const ANP_SPEC = (priority: number) => ({
  priority,
  subject: {
    pods: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS } },
      podSelector: { matchLabels: { quarantine: 'true' } },
    },
  },
  egress: [
    {
      name: 'deny-all-egress',
      action: 'Deny',
      to: [{ networks: ['0.0.0.0/0', '::/0'] }, { namespaces: {} }],
    },
  ],
});

function playbookYaml(withs: string): string {
  return `
id: contain-cni
title: Containment with a CNI deny
mode: hard
steps:
  - id: contain
    title: Contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - uses: k8s.quarantine
      - uses: k8s.deny-egress
        with: { ${withs} }
`;
}

let fake: FakeKubeApi;

beforeAll(async () => {
  fake = await startFakeKubeApi();
});

afterAll(async () => {
  await fake.close();
});

function seed(extensions: FakeExtension[]): void {
  seedAdditiveTrap(fake);
  for (const ext of extensions) fake.serve(ext, true);
}

const harness = (withs = 'remedy: cni-deny') => containHarness(fake, playbookYaml(withs));
const run = runContain;

const verifications = (lines: string[]) => lines.filter((l) => l.includes('Verification:'));
const labelsOf = (name: string) =>
  (fake.get('Pod', NS, name)!.metadata as { labels?: Record<string, string> }).labels ?? {};
const annotationsOf = (o: JsonObject) =>
  (o.metadata as { annotations?: Record<string, string> }).annotations ?? {};
const writes = () => fake.requests.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
const denyEgressOf = (inc: Incident) => inc.steps[0]!.actions.find((a) => a.uses === 'k8s.deny-egress')!;

describe('k8s.deny-egress remedy cni-deny', () => {
  it('AdminNetworkPolicy served: its Deny overrides the allow-policy → contained; revert deletes exactly it', async () => {
    seed(['adminnetworkpolicy', 'cilium']);
    const h = harness();
    const { inc, lines } = await run(h);
    const name = anpName('prod', inc.id);
    expect(name).toBe('quarantine-prod-egr-test-1');
    expect(denyEgressOf(inc).status).toBe('verified');
    expect(inc.status).toBe('contained');
    expect(verifications(lines)).toEqual([
      `Verification: contained — AdminNetworkPolicy ${name} denies all egress of 2 pod(s) (NetworkPolicies that still allow egress are overridden: ${ALLOW})`,
    ]);

    // The object: cluster-scoped, v1alpha1 shape, annotated for audit.
    const anp = fake.get('AdminNetworkPolicy', undefined, name)!;
    expect(anp.apiVersion).toBe('policy.networking.k8s.io/v1alpha1');
    expect((anp.metadata as { namespace?: string }).namespace).toBeUndefined();
    expect(anp.spec).toEqual(ANP_SPEC(10));
    expect(annotationsOf(anp)).toMatchObject({
      'egress-responder.io/incident': inc.id,
      'egress-responder.io/approved-by': 'n/a',
      'egress-responder.io/applied-by': 'system',
    });
    expect(annotationsOf(anp)['egress-responder.io/spec-sha256']).toMatch(/^[0-9a-f]{64}$/);
    // Server-side apply with the field manager; AdminNetworkPolicy preferred, so no Cilium object.
    const apply = fake.requests.find(
      (r) => r.contentType === 'application/apply-patch+yaml' && r.path.includes('adminnetworkpolicies'),
    );
    expect(apply?.path).toBe(`/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies/${name}`);
    expect(apply?.query.fieldManager).toBe('egress-responder');
    expect(apply?.query.dryRun).toBeUndefined();
    expect(fake.list('CiliumNetworkPolicy', NS)).toEqual([]);
    // The NetworkPolicy deny is in too, and the allow-policy is untouched.
    expect(fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')).toBeDefined();
    expect(fake.get('NetworkPolicy', NS, ALLOW)!.spec).toEqual(ALLOW_SPEC);

    // The plan previewed the object as YAML and the verdict to expect.
    const plan = denyEgressOf(inc).plan as { summary: string; preview: string };
    expect(plan.summary).toContain(`remedy cni-deny (AdminNetworkPolicy ${name})`);
    expect(plan.preview).toContain('kind: AdminNetworkPolicy');
    expect(plan.preview).toContain('action: Deny');
    expect(plan.preview).toContain(
      `# expected after apply: Verification: contained — AdminNetworkPolicy ${name} denies all egress of 2 pod(s)`,
    );
    // The outcome records which object was made.
    const outcome = denyEgressOf(inc).outcome as { summary: string; data: { cni: Record<string, unknown> } };
    expect(outcome.data.cni).toMatchObject({
      kind: 'AdminNetworkPolicy',
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      name,
      created: true,
      ok: true,
    });
    expect(outcome.data.cni.namespace).toBeUndefined();
    expect(outcome.summary).toContain(
      `AdminNetworkPolicy ${name} applied (deny all egress of quarantine=true, priority 10)`,
    );

    const reverted = await h.engine.revertStep(inc.id, 'contain', 'slack:U1');
    expect(reverted.steps[0]!.actions.map((a) => a.status)).toEqual(['reverted', 'reverted']);
    expect(fake.get('AdminNetworkPolicy', undefined, name)).toBeUndefined();
    expect(
      fake.requestsMatching({ method: 'DELETE', path: /adminnetworkpolicies/ }).map((r) => r.path),
    ).toEqual([`/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies/${name}`]);
    expect(fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')).toBeUndefined();
    expect(fake.get('NetworkPolicy', NS, ALLOW)!.spec).toEqual(ALLOW_SPEC);
    for (const pod of PODS) expect(labelsOf(pod)).toEqual({ app: 'payments-api' });
  });

  it('anp_priority sets spec.priority', async () => {
    seed(['adminnetworkpolicy']);
    const { inc } = await run(harness('remedy: cni-deny, anp_priority: 3'));
    expect(inc.status).toBe('contained');
    expect(fake.get('AdminNetworkPolicy', undefined, anpName(NS, inc.id))!.spec).toEqual(ANP_SPEC(3));
  });

  it('an AdminNetworkPolicy evaluated first that may Pass or Allow the pods’ egress → incomplete, naming it', async () => {
    seed(['adminnetworkpolicy']);
    fake.put({
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'AdminNetworkPolicy',
      metadata: { name: 'platform-pass-dns' },
      spec: {
        priority: 5,
        subject: { namespaces: {} },
        egress: [{ name: 'pass-dns', action: 'Pass', to: [{ namespaces: {} }] }],
      },
    });
    // Another that selects only kube-system, and one evaluated after ours: neither counts.
    fake.put({
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'AdminNetworkPolicy',
      metadata: { name: 'kube-system-allow' },
      spec: {
        priority: 1,
        subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
        egress: [{ name: 'allow', action: 'Allow', to: [{ namespaces: {} }] }],
      },
    });
    fake.put({
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'AdminNetworkPolicy',
      metadata: { name: 'later-allow' },
      spec: {
        priority: 50,
        subject: { namespaces: {} },
        egress: [{ name: 'allow', action: 'Allow', to: [{ namespaces: {} }] }],
      },
    });
    const { inc, lines } = await run(harness());
    expect(inc.status).toBe('containment_incomplete');
    expect(verifications(lines)).toEqual([
      `Verification: incomplete — AdminNetworkPolicy platform-pass-dns (priority 5) may Pass egress first, before AdminNetworkPolicy ${anpName(NS, inc.id)} (priority 10) denies it`,
    ]);
  });

  it('only Cilium served: a CiliumNetworkPolicy egressDeny → contained; revert deletes it', async () => {
    seed(['cilium']);
    const h = harness();
    const { inc, lines } = await run(h);
    expect(inc.status).toBe('contained');
    expect(verifications(lines)).toEqual([
      `Verification: contained — CiliumNetworkPolicy ${CNP} denies all egress of 2 pod(s) (NetworkPolicies that still allow egress are overridden: ${ALLOW})`,
    ]);
    const cnp = fake.get('CiliumNetworkPolicy', NS, CNP)!;
    expect(cnp.apiVersion).toBe('cilium.io/v2');
    expect(cnp.spec).toEqual({
      endpointSelector: { matchLabels: { quarantine: 'true' } },
      egressDeny: [{ toEntities: ['all'] }],
    });
    expect(annotationsOf(cnp)['egress-responder.io/incident']).toBe(inc.id);
    expect(
      fake.requests.find(
        (r) => r.contentType === 'application/apply-patch+yaml' && r.path.includes('ciliumnetworkpolicies'),
      )?.query.fieldManager,
    ).toBe('egress-responder');
    const outcome = denyEgressOf(inc).outcome as { data: { cni: Record<string, unknown> } };
    expect(outcome.data.cni).toMatchObject({
      kind: 'CiliumNetworkPolicy',
      namespace: NS,
      name: CNP,
      ok: true,
    });

    await h.engine.revertStep(inc.id, 'contain', 'slack:U1');
    expect(fake.get('CiliumNetworkPolicy', NS, CNP)).toBeUndefined();
    expect(fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')).toBeUndefined();
  });

  it('a pod quarantine could not label is not selected by the deny → incomplete, naming the pod and its leak', async () => {
    seed(['adminnetworkpolicy']);
    fake.deny({ verb: 'patch', resource: 'pods', namespace: NS, name: PODS[1]! });
    const { inc, lines } = await run(harness());
    const name = anpName(NS, inc.id);
    expect(inc.status).toBe('containment_incomplete');
    expect(verifications(lines)).toEqual([
      `Verification: incomplete — AdminNetworkPolicy ${name} does not select ${PODS[1]}: ${ALLOW} still allows UDP/53, TCP/53 to kube-dns; TCP/443 to app=orders-api; AdminNetworkPolicy ${name} denies all egress of 1 pod(s) (NetworkPolicies that still allow egress are overridden: ${ALLOW})`,
    ]);
  });

  it('neither served: the plan says so, apply reports only with the reason, the incident stays containment_incomplete', async () => {
    seed([]);
    const { inc, lines } = await run(harness());
    const action = denyEgressOf(inc);
    expect(action.status).toBe('verified');
    expect((action.plan as { summary: string }).summary).toContain(`remedy cni-deny: ${NO_CNI_DENY_REASON}`);
    expect((action.plan as { preview: string }).preview).toContain(
      `# ${NO_CNI_DENY_REASON} (apply falls back to report-only)`,
    );
    expect(NO_CNI_DENY_REASON).toBe(
      'cni-deny: neither AdminNetworkPolicy nor CiliumNetworkPolicy is served; reporting only',
    );
    const outcome = action.outcome as { reason?: string; data: { cni: unknown; fallback: string } };
    expect(outcome.reason).toBe(NO_CNI_DENY_REASON);
    expect(outcome.data).toMatchObject({ cni: null, fallback: NO_CNI_DENY_REASON });
    expect(action.reason).toBe(NO_CNI_DENY_REASON);
    expect(
      lines.some((l) => l.startsWith('k8s.deny-egress applied:') && l.endsWith(`(${NO_CNI_DENY_REASON})`)),
    ).toBe(true);
    expect(verifications(lines)).toEqual([TRAP_LINE]);
    expect(inc.status).toBe('containment_incomplete');
    expect(writes().filter((w) => /adminnetworkpolicies|ciliumnetworkpolicies/.test(w.path))).toEqual([]);
  });

  it('403 on the AdminNetworkPolicy apply: recorded as FAILED next to the applied deny policy → incomplete', async () => {
    seed(['adminnetworkpolicy']);
    fake.deny({ verb: 'patch', resource: 'adminnetworkpolicies' });
    const h = harness();
    const { inc, lines } = await run(h);
    const action = denyEgressOf(inc);
    const outcome = action.outcome as { summary: string; data: { cni: { ok: boolean; error: string } } };
    expect(outcome.summary).toContain('applied in prod');
    expect(outcome.summary).toContain(`FAILED: AdminNetworkPolicy ${anpName(NS, inc.id)}:`);
    expect(outcome.data.cni.ok).toBe(false);
    expect(outcome.data.cni.error).toContain('adminnetworkpolicies');
    expect(verifications(lines)).toEqual([TRAP_LINE]);
    expect(inc.status).toBe('containment_incomplete');
    // Revert deletes only what was applied: the deny policy, no AdminNetworkPolicy.
    fake.requests.length = 0;
    await h.engine.revertStep(inc.id, 'contain', 'slack:U1');
    expect(fake.requestsMatching({ method: 'DELETE', path: /adminnetworkpolicies/ })).toEqual([]);
    expect(fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')).toBeUndefined();
  });

  it('a drill sends dryRun=All on the AdminNetworkPolicy apply and stores nothing; revert too', async () => {
    seed(['adminnetworkpolicy']);
    const before = JSON.stringify([fake.list('Pod', NS), fake.list('NetworkPolicy', NS)]);
    const h = harness();
    const { inc, lines } = await run(h, { drill: true });
    const name = anpName(NS, inc.id);
    expect(inc.steps[0]!.actions.map((a) => [a.status, a.dryRun])).toEqual([
      ['applied', true],
      ['verified', true],
    ]);
    const anpApply = writes().filter((w) => w.path.includes('adminnetworkpolicies'));
    expect(anpApply.map((w) => [w.method, w.contentType, w.query.dryRun])).toEqual([
      ['PATCH', 'application/apply-patch+yaml', 'All'],
    ]);
    for (const w of writes()) expect(w.query.dryRun).toBe('All');
    expect(fake.get('AdminNetworkPolicy', undefined, name)).toBeUndefined();
    expect(fake.list('AdminNetworkPolicy')).toEqual([]);
    expect(JSON.stringify([fake.list('Pod', NS), fake.list('NetworkPolicy', NS)])).toBe(before);
    expect(lines).toContain(
      `[dry-run] Verification: contained — AdminNetworkPolicy ${name} denies all egress of 2 pod(s) (NetworkPolicies that still allow egress are overridden: ${ALLOW}) (dry-run)`,
    );

    fake.requests.length = 0;
    await h.engine.revertStep(inc.id, 'contain', 'slack:U1');
    const deletes = fake.requestsMatching({ method: 'DELETE', path: /adminnetworkpolicies/ });
    expect(deletes.map((d) => d.query.dryRun)).toEqual(['All']);
    for (const w of writes()) expect(w.query.dryRun).toBe('All');
    expect(JSON.stringify([fake.list('Pod', NS), fake.list('NetworkPolicy', NS)])).toBe(before);
  });

  it('the AdminNetworkPolicy name is a DNS label of at most 63 characters, the same every time', () => {
    expect(anpName('prod', 'EGR-CNI-1')).toBe('quarantine-prod-egr-cni-1');
    expect(anpName('prod', 'EGR_2026/11.25#7')).toBe('quarantine-prod-egr-2026-11-25-7');
    const long = anpName('a-very-long-namespace-name-for-payments', 'EGR-2026-11-25-0001-ABCDEFGHIJKLMNOP');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(anpName('a-very-long-namespace-name-for-payments', 'EGR-2026-11-25-0001-ABCDEFGHIJKLMNOP')).toBe(
      long,
    );
    expect(
      anpName('a-very-long-namespace-name-for-payments', 'EGR-2026-11-25-0001-ABCDEFGHIJKLMNOQ'),
    ).not.toBe(long);
  });
});
