import type { Incident } from '../../../src/domain/incident.js';
import { containHarness, NS, runContain, seedAdditiveTrap } from '../../builders/additive-trap.js';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// k8s.l7-deny binds its DENY where Istio enforces it: the mesh root namespace (no selector: every
// sidecar) and the egress gateway. Real client against the fake API with the istio extension.

const ROOT = 'istio-system';
const MESH_POLICY = 'quarantine-deny-prod-payments-api';
const GW_POLICY = `${MESH_POLICY}-egressgateway`;
const PRINCIPAL = 'cluster.local/ns/prod/sa/payments-api';
const DENY_RULES = [{ from: [{ source: { principals: [PRINCIPAL] } }] }];

function playbookYaml(opts: { optional?: boolean; l7Only?: boolean } = {}): string {
  const l7 = `      - uses: k8s.l7-deny${opts.optional === false ? '' : '\n        optional: true'}\n`;
  const l3 = `      - uses: k8s.quarantine
      - uses: k8s.deny-egress
        with: { remedy: isolate }
`;
  return `
id: l7-test
title: L7 test
mode: hard
steps:
  - id: contain
    title: Contain
    role: contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
${opts.l7Only ? '' : l3}${l7}`;
}

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi({ extensions: ['istio'] });
});
afterAll(() => fake.close());

function seed(opts: { istio?: boolean; gateway?: boolean } = {}): void {
  seedAdditiveTrap(fake);
  fake.serve('istio', opts.istio ?? true);
  if (opts.gateway) {
    seedDeployment(fake, {
      namespace: ROOT,
      name: 'istio-egressgateway',
      replicas: 1,
      labels: { app: 'istio-egressgateway', istio: 'egressgateway' },
    });
  }
}

const l7Of = (inc: Incident) => inc.steps[0]!.actions.find((a) => a.uses === 'k8s.l7-deny')!;
const policies = () =>
  fake.list('AuthorizationPolicy') as { metadata: Record<string, unknown>; spec: unknown }[];
const meta = (o: unknown) =>
  (
    o as {
      metadata: { namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
    }
  ).metadata;

describe('k8s.l7-deny at the points that enforce it', () => {
  it('no gateway: one DENY in the mesh root namespace, no selector, nothing in the source namespace; the line says what it covers', async () => {
    seed();
    const h = containHarness(fake, playbookYaml());
    const { inc, lines } = await runContain(h);
    expect(policies().map((p) => `${meta(p).namespace}/${p.metadata.name}`)).toEqual([
      `${ROOT}/${MESH_POLICY}`,
    ]);
    const mesh = fake.get('AuthorizationPolicy', ROOT, MESH_POLICY)!;
    expect(mesh.spec).toEqual({ action: 'DENY', rules: DENY_RULES });
    expect(meta(mesh).labels).toEqual({ 'app.kubernetes.io/managed-by': 'egress-responder' });
    expect(meta(mesh).annotations).toMatchObject({
      'egress-responder.io/incident': inc.id,
      'egress-responder.io/l7-scope': 'east-west',
      'egress-responder.io/applied-by': 'system',
    });
    expect(fake.list('AuthorizationPolicy', NS)).toEqual([]);

    const verified = lines.find((l) => l.startsWith('L7 block'))!;
    expect(verified).toContain(`east-west: every sidecar in the mesh refuses ${PRINCIPAL}`);
    expect(verified).toContain(
      'no egress gateway (no running pods with istio=egressgateway in istio-system): external traffic relies on the NetworkPolicy',
    );
    expect(verified).toContain('workloads outside the mesh (no sidecar) are not covered');
    expect(verified).not.toMatch(/\bcontained\b/);
    expect(inc.status).toBe('contained');
    expect(inc.steps[0]!.result).toEqual({
      state: 'applied',
      line: 'contained at L3/L4 (verified); L7: applied',
    });
    expect(lines).toContain('Step "Contain" completed: contained at L3/L4 (verified); L7: applied');
  });

  it('with an egress gateway: the plan shows both objects, the gateway one selects its pods in its namespace; revert deletes only what this incident created', async () => {
    seed({ gateway: true });
    // Someone else's policy under the mesh-wide name: applied over (SSA) but kept on revert.
    fake.put({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { namespace: ROOT, name: MESH_POLICY },
      spec: { action: 'DENY', rules: DENY_RULES },
    });
    const h = containHarness(fake, playbookYaml());
    const { inc, lines } = await runContain(h);
    const plan = l7Of(inc).plan as { summary: string; preview: string };
    expect(plan.summary).toContain(`on egress gateway ${ROOT}/istio-egressgateway`);
    expect(plan.preview).toContain(
      '# north-south: the egress gateway istio-system/istio-egressgateway refuses it',
    );
    expect(plan.preview.match(/kind: AuthorizationPolicy/g)).toHaveLength(2);

    const gw = fake.get('AuthorizationPolicy', ROOT, GW_POLICY)!;
    expect(gw.spec).toEqual({
      selector: { matchLabels: { istio: 'egressgateway' } },
      action: 'DENY',
      rules: DENY_RULES,
    });
    expect(meta(gw).annotations['egress-responder.io/l7-scope']).toBe('north-south');
    expect(lines.find((l) => l.startsWith('L7 block'))).toContain(
      'north-south: egress gateway istio-system/istio-egressgateway refuses it',
    );

    fake.requests.length = 0;
    const reverted = await h.engine.revertStep(inc.id, 'contain', 'slack:U1');
    expect(l7Of(reverted).status).toBe('reverted');
    expect(
      fake.requestsMatching({ method: 'DELETE', path: /authorizationpolicies/ }).map((r) => r.path),
    ).toEqual([`/apis/security.istio.io/v1/namespaces/${ROOT}/authorizationpolicies/${GW_POLICY}`]);
    expect(fake.get('AuthorizationPolicy', ROOT, MESH_POLICY)).toBeDefined();
    const events = await h.store.timeline.read(inc.id);
    expect(
      events.find((e) => e.kind === 'action.reverted' && e.details.action === 'k8s.l7-deny')?.summary,
    ).toContain(`AuthorizationPolicy ${ROOT}/${MESH_POLICY} existed before this incident: kept`);
  });

  it('no mesh: skipped with the reason, and the step line says L7: no mesh', async () => {
    seed({ istio: false });
    const { inc } = await runContain(containHarness(fake, playbookYaml()));
    expect([l7Of(inc).status, l7Of(inc).reason]).toEqual([
      'skipped',
      'Istio AuthorizationPolicy API not served: no L7 block (no mesh)',
    ]);
    expect(inc.status).toBe('contained');
    expect(inc.steps[0]!.result?.line).toBe('contained at L3/L4 (verified); L7: no mesh');
  });

  it('a 403 on the Istio policy: the optional layer fails with its reason, the step completes and the incident is contained', async () => {
    seed();
    fake.deny({ verb: 'patch', resource: 'authorizationpolicies', namespace: ROOT });
    const h = containHarness(fake, playbookYaml());
    const { inc, lines } = await runContain(h);
    expect(l7Of(inc).status).toBe('failed');
    expect(l7Of(inc).reason).toBe('forbidden (RBAC: patch authorizationpolicies in istio-system)');
    expect(inc.steps[0]!.status).toBe('completed');
    expect(inc.status).toBe('contained');
    const line =
      'contained at L3/L4 (verified); L7: not applied: forbidden (RBAC: patch authorizationpolicies in istio-system)';
    expect(inc.steps[0]!.result?.line).toBe(line);
    expect(lines).toContain(`Step "Contain" completed: ${line}`);
  });

  it('the same 403 on a required (not optional) L7 action fails the step', async () => {
    seed();
    fake.deny({ verb: 'patch', resource: 'authorizationpolicies', namespace: ROOT });
    const { inc } = await runContain(containHarness(fake, playbookYaml({ optional: false })));
    expect(inc.steps[0]!.status).toBe('failed');
    expect(inc.status).toBe('open');
  });

  it('L7 alone is never reported as contained', async () => {
    seed();
    const { inc } = await runContain(containHarness(fake, playbookYaml({ l7Only: true, optional: false })));
    expect(l7Of(inc).status).toBe('verified');
    expect(inc.status).toBe('containment_incomplete');
    expect(inc.steps[0]!.result?.line).toBe('L7: applied');
  });

  it('a drill sends both policies as dryRun=All, stores nothing and says its verification is as sent', async () => {
    seed({ gateway: true });
    const { inc, lines } = await runContain(containHarness(fake, playbookYaml()), { drill: true });
    const sent = fake.requestsMatching({ method: 'PATCH', path: /authorizationpolicies/ });
    expect(sent.map((r) => [r.path, r.query.dryRun])).toEqual([
      [`/apis/security.istio.io/v1/namespaces/${ROOT}/authorizationpolicies/${MESH_POLICY}`, 'All'],
      [`/apis/security.istio.io/v1/namespaces/${ROOT}/authorizationpolicies/${GW_POLICY}`, 'All'],
    ]);
    expect(policies()).toEqual([]);
    expect(lines.find((l) => l.includes('L7 block'))).toContain('(dry-run: as the API server accepted them)');
    expect(inc.steps[0]!.result?.line).toBe('contained at L3/L4 (verified, dry-run); L7: applied (dry-run)');
  });

  it('soft mode: an egress gateway deployed after the preview is drift, asked again before anything is applied', async () => {
    seed();
    const h = containHarness(fake, playbookYaml().replace('mode: hard', 'mode: soft'));
    const { id } = await h.open({ mode: 'soft' });
    await h.engine.advance(id);
    seedDeployment(fake, {
      namespace: ROOT,
      name: 'istio-egressgateway',
      replicas: 1,
      labels: { app: 'istio-egressgateway', istio: 'egressgateway' },
    });
    const after = await h.engine.confirm(id, 'contain', 'slack:U1');
    expect(after.steps[0]!.status).toBe('awaiting_confirmation');
    expect(policies()).toEqual([]);
    const drift = (await h.store.timeline.read(id)).find((e) => e.kind === 'plan.drift');
    expect(drift?.summary).toContain('an egress gateway is deployed now: istio-system/istio-egressgateway');
  });
});
