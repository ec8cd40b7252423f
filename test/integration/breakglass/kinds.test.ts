import { A, breakglassHarness, forensicsRequest, writesOf } from '../../builders/breakglass.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// The other shapes of grant: an access elevation (a RoleBinding to an allow-listed ClusterRole), an
// FQDN exception where Cilium enforces it, and a drill's grant, which creates nothing.

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());

const elevation = (incidentId: string, over: Record<string, unknown> = {}) => ({
  incidentId,
  spec: {
    kind: 'access-elevation',
    namespace: 'prod',
    subjects: [{ kind: 'User', name: 'alice@example.com' }],
    clusterRole: 'egress-responder-forensics',
    ...over,
  },
  durationMs: 3_600_000,
  reason: 'exec into the quarantined pod to read /proc',
});

describe('access elevation', () => {
  it('binds the allow-listed ClusterRole in the incident namespace, verified by reading it back, removed at expiry', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    const g = await h.bg.request(elevation(inc.id) as never, A.requester);
    const active = await h.bg.approve(g.id, A.approver);
    const rb = fake.get('RoleBinding', 'prod', `breakglass-${g.id}`)!;
    expect(rb.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'egress-responder-forensics',
    });
    expect(rb.subjects).toEqual([
      { kind: 'User', name: 'alice@example.com', apiGroup: 'rbac.authorization.k8s.io' },
    ]);
    expect((rb.metadata as { labels: Record<string, string> }).labels['egress-responder.io/grant']).toBe(
      g.id,
    );
    expect(active.verification).toBe(
      `Verification: bound — ClusterRole egress-responder-forensics to User alice@example.com in prod (RoleBinding breakglass-${g.id}), read back as applied; nothing else: exactly these subjects, exactly this role`,
    );
    h.clock.advance(3_600_000);
    await h.work();
    expect(fake.get('RoleBinding', 'prod', `breakglass-${g.id}`)).toBeUndefined();
    expect((await h.bg.get(g.id)).status).toBe('expired');
  });

  it('refuses a ClusterRole off the allow-list (even cluster-admin, even "constructor") and another namespace', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    for (const role of ['cluster-admin', 'constructor', '__proto__']) {
      const err = await h.bg
        .request(elevation(inc.id, { clusterRole: role }) as never, A.requester)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'command_invalid',
        issues: [
          {
            path: 'spec.clusterRole',
            message:
              'expected one of the ClusterRoles on breakglass.accessRoles (egress-responder-forensics); nothing else can be granted',
            value: JSON.stringify(role),
          },
        ],
      });
    }
    const other = await h.bg
      .request(elevation(inc.id, { namespace: 'staging' }) as never, A.requester)
      .catch((e: unknown) => e);
    expect(other).toMatchObject({ issues: [{ path: 'spec.namespace', value: '"staging"' }] });
    const system = await h.bg
      .request(elevation(inc.id, { namespace: 'kube-system' }) as never, A.requester)
      .catch((e: unknown) => e);
    expect(system).toMatchObject({ code: 'namespace_refused' });
    expect(await h.bg.list({ limit: 10 })).toEqual([]);
    expect(writesOf(fake).filter((r) => r.path.includes('rolebindings'))).toEqual([]);
  });
});

describe('FQDN destinations', () => {
  const fqdnRequest = (incidentId: string) =>
    forensicsRequest(incidentId, {
      spec: {
        kind: 'egress-exception',
        namespace: 'prod',
        source: { kind: 'quarantined' },
        destination: { kind: 'fqdn', fqdn: 'forensics.example.com' },
        ports: [{ port: 443 }],
      },
    });

  it('are refused unless breakglass.fqdnPolicy is cilium', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    await expect(h.bg.preview(fqdnRequest(inc.id) as never, A.requester)).rejects.toMatchObject({
      code: 'command_invalid',
      issues: [{ path: 'spec.destination.fqdn', value: '"forensics.example.com"' }],
    });
  });

  it('with Cilium: a CiliumNetworkPolicy with toFQDNs and the DNS rule it needs, said in the preview', async () => {
    const h = breakglassHarness({ fake, config: { fqdnPolicy: 'cilium' } });
    fake.serve('cilium');
    const inc = await h.contained();
    const preview = await h.bg.preview(fqdnRequest(inc.id) as never, A.requester);
    expect(preview.warnings.join('\n')).toContain(
      'the policy also allows DNS (port 53) to kube-dns, for that name only',
    );
    const g = await h.bg.request(fqdnRequest(inc.id) as never, A.requester);
    const active = await h.bg.approve(g.id, A.approver);
    const cnp = fake.get('CiliumNetworkPolicy', 'prod', `breakglass-${g.id}`)!;
    expect(cnp.spec).toEqual({
      endpointSelector: { matchLabels: { quarantine: 'true', app: 'payments-api' } },
      egress: [
        {
          toFQDNs: [{ matchName: 'forensics.example.com' }],
          toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
        },
        {
          toEndpoints: [
            { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } },
          ],
          toPorts: [
            {
              ports: [{ port: '53', protocol: 'ANY' }],
              rules: { dns: [{ matchName: 'forensics.example.com' }] },
            },
          ],
        },
      ],
    });
    expect(active.verification).toBe(
      `Verification: open — TCP/443 to forensics.example.com for 2 pods (CiliumNetworkPolicy breakglass-${g.id}, read back as applied; DNS to kube-dns for that name only); nothing else: 2 pods isolated by quarantine-deny-egress, no other egress allowed`,
    );
    await h.bg.revoke(g.id, A.requester, 'done');
    expect(fake.get('CiliumNetworkPolicy', 'prod', `breakglass-${g.id}`)).toBeUndefined();
    fake.serve('cilium', false);
  });
});

describe("a drill's grant", () => {
  it('sends only server-side dry runs: the cluster is unchanged, and the timeline says (dry-run)', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained(); // the seed, contained for real
    const drill = await h.open({ mode: 'hard', drill: true });
    const before = fake.list('NetworkPolicy', 'prod');
    fake.requests.length = 0;
    const g = await h.bg.request(forensicsRequest(drill.id), A.requester);
    expect(g.drill).toBe(true);
    const active = await h.bg.approve(g.id, A.approver);
    expect(active.status).toBe('active');
    expect(active.verification).toBe(
      `Verification (dry-run): open — TCP/443 to 203.0.113.7/32 for 2 pods (NetworkPolicy breakglass-${g.id}); nothing else: 2 pods isolated by quarantine-deny-egress, breakglass-${g.id}, no other egress allowed`,
    );
    h.clock.advance(3_600_000);
    await h.work();
    expect((await h.bg.get(g.id)).status).toBe('expired');

    expect(fake.list('NetworkPolicy', 'prod')).toEqual(before);
    const writes = writesOf(fake);
    expect(writes.map((r) => r.method).sort()).toEqual(['DELETE', 'PATCH']);
    expect(writes.every((r) => r.query.dryRun === 'All')).toBe(true);
    const lines = (await h.store.timeline.read(drill.id)).filter((e) => e.kind.startsWith('grant.'));
    expect(lines.map((e) => e.kind)).toEqual([
      'grant.requested',
      'grant.approved',
      'grant.applied',
      'grant.verified',
      'grant.expired',
      'grant.removed',
    ]);
    expect(lines.every((e) => e.summary.endsWith('(dry-run)'))).toBe(true);
    expect(lines[2]!.summary).toContain('nothing was created');
    // The real incident's timeline holds none of it.
    expect(await h.kinds(inc.id)).toEqual([]);
  });

  it('with no cluster at all: recorded and planned only; a real incident is refused', async () => {
    const h = breakglassHarness();
    const drill = await h.open({ mode: 'hard', drill: true });
    const g = await h.bg.approve(
      (await h.bg.request(forensicsRequest(drill.id), A.requester)).id,
      A.approver,
    );
    expect(g.verification).toBe(
      'Verification (dry-run): planned only — no cluster is configured, nothing was sent',
    );
    const real = await h.open({ mode: 'hard' });
    await expect(h.bg.request(forensicsRequest(real.id), A.requester)).rejects.toMatchObject({
      code: 'cluster_unavailable',
    });
  });
});
