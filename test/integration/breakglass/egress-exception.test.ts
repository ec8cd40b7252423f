import { GRANT_ANNOTATIONS } from '../../../src/domain/grant.js';
import { NS, PODS } from '../../builders/additive-trap.js';
import { A, breakglassHarness, forensicsRequest, policyOf, writesOf } from '../../builders/breakglass.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// An egress exception on the seed's quarantined pods, end to end over the real containment actions,
// the real Kubernetes client and the fake API server: quarantine + isolate first, then the grant.

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());

describe('egress exception on the quarantined pods', () => {
  it('is applied (dry run first), verified open for exactly its path, and ends on time', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    expect(inc.status).toBe('contained');

    const pending = await h.bg.request(forensicsRequest(inc.id), { actor: A.requester, requestId: 'trig-1' });
    expect(pending.status).toBe('pending');
    expect(pending.sourceSelector).toEqual({ quarantine: 'true', app: 'payments-api' });
    expect(policyOf(fake, pending)).toBeUndefined();

    fake.requests.length = 0;
    const active = await h.bg.approve(pending.id, A.approver);
    expect(active.status).toBe('active');
    expect(active.expiresAt).toBe('2026-11-25T15:03:12.123Z');

    // Server-side apply: a dry run, then the real one, with our field manager.
    const applies = writesOf(fake).filter((r) => r.contentType === 'application/apply-patch+yaml');
    expect(applies.map((r) => [r.path, r.query.dryRun ?? 'real', r.query.fieldManager])).toEqual([
      [
        `/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies/breakglass-${pending.id}`,
        'All',
        'egress-responder',
      ],
      [
        `/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies/breakglass-${pending.id}`,
        'real',
        'egress-responder',
      ],
    ]);

    const policy = policyOf(fake, active)!;
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { quarantine: 'true', app: 'payments-api' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '203.0.113.7/32' } }], ports: [{ protocol: 'TCP', port: 443 }] }],
    });
    const meta = policy.metadata as { labels: Record<string, string>; annotations: Record<string, string> };
    expect(meta.labels).toEqual({
      'egress-responder.io/grant': active.id,
      'app.kubernetes.io/managed-by': 'egress-responder',
    });
    expect(meta.annotations).toEqual({
      [GRANT_ANNOTATIONS.id]: active.id,
      [GRANT_ANNOTATIONS.incident]: inc.id,
      [GRANT_ANNOTATIONS.requester]: A.requester,
      [GRANT_ANNOTATIONS.approvers]: A.approver,
      [GRANT_ANNOTATIONS.reason]: 'copy the memory dump to the forensics bucket',
      [GRANT_ANNOTATIONS.ticket]: 'SEC-1234',
      [GRANT_ANNOTATIONS.expiresAt]: '2026-11-25T15:03:12.123Z',
    });

    // The path is open on both quarantined pods, and nothing else is.
    expect(active.verification).toBe(
      `Verification: open — TCP/443 to 203.0.113.7/32 for 2 pods (NetworkPolicy breakglass-${active.id}); nothing else: 2 pods isolated by breakglass-${active.id}, quarantine-deny-egress, no other egress allowed`,
    );
    expect(await h.kinds(inc.id)).toEqual([
      'grant.requested',
      'grant.approved',
      'grant.applied',
      'grant.verified',
    ]);
    const events = (await h.store.timeline.read(inc.id)).filter((e) => e.kind.startsWith('grant.'));
    expect(events.map((e) => [e.actor, e.details.grant])).toEqual([
      [A.requester, active.id],
      [A.approver, active.id],
      ['system', active.id],
      ['system', active.id],
    ]);
    expect(events.map((e) => e.id)).toEqual(
      ['requested', `approved:${A.approver}`, 'applied', 'verified'].map(
        (w) => `${inc.id}:grant:${active.id}:${w}`,
      ),
    );

    // One millisecond before its expiry the worker leaves it; at its expiry the object is gone.
    h.clock.advance(3_600_000 - 1);
    await h.work();
    expect(policyOf(fake, active)).toBeDefined();
    h.clock.advance(1);
    const done = await h.work();
    expect(done.grants).toBe(1);
    expect(policyOf(fake, active)).toBeUndefined();
    const ended = await h.bg.get(active.id);
    expect(ended).toMatchObject({
      status: 'expired',
      ended: { by: 'system', at: '2026-11-25T15:03:12.123Z' },
      removal: { attempts: 1, removedAt: '2026-11-25T15:03:12.123Z' },
    });
    expect((await h.kinds(inc.id)).slice(-2)).toEqual(['grant.expired', 'grant.removed']);
    // Nothing is due for it any more, and the quarantine is untouched.
    expect(await h.store.schedule.due(h.clock.now() + 365 * 86_400_000)).toEqual([]);
    expect(fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')).toBeDefined();
    for (const pod of PODS) expect(fake.get('Pod', NS, pod)).toBeDefined();
  });

  it('the same request delivered twice makes one grant, recorded once', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    const by = { actor: A.requester, requestId: 'trigger-dup' };
    const [a, b] = await Promise.all([
      h.bg.request(forensicsRequest(inc.id), by),
      h.bg.request(forensicsRequest(inc.id), by),
    ]);
    expect(a.id).toBe(b.id);
    expect(await h.bg.list({ incidentId: inc.id, limit: 10 })).toHaveLength(1);
    expect(await h.kinds(inc.id)).toEqual(['grant.requested']);
  });

  it('refuses pods that are not egress-isolated: the allow would cut all their other egress', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.open({ mode: 'hard' }); // not contained: nothing quarantined
    const err = await h.bg.request(forensicsRequest(inc.id), A.requester).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'request_refused' });
    expect((err as Error).message).toContain(
      'no running pods match quarantine=true,app=payments-api in prod',
    );

    fake.reset();
    fake.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'prod', name: 'web-1', labels: { app: 'web' } },
      spec: { containers: [{ name: 'web' }] },
    });
    const open = await h.bg
      .preview(
        forensicsRequest(inc.id, {
          spec: {
            ...forensicsRequest(inc.id).spec,
            source: { kind: 'selector', podSelector: { app: 'web' } },
          },
        }) as never,
        A.requester,
      )
      .catch((e: unknown) => e);
    expect((open as Error).message).toBe(
      'refused: web-1 (app=web in prod) is not egress-isolated (no egress NetworkPolicy selects it). An allow policy on non-isolated pods would isolate them and cut all their other egress. Contain them first (quarantine), or choose pods that are already isolated.',
    );
    expect(writesOf(fake)).toEqual([]);
  });

  it('a pods destination renders namespace and pod selectors; the preview shows it before anything is stored', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    const input = forensicsRequest(inc.id, {
      spec: {
        kind: 'egress-exception',
        namespace: 'prod',
        source: { kind: 'quarantined' },
        destination: { kind: 'pods', namespace: 'forensics', podSelector: { app: 'collector' } },
        ports: [{ port: 8443 }, { port: 514, protocol: 'UDP' }],
      },
    });
    const preview = await h.bg.preview(input as never, A.requester);
    expect(preview.maxDurationMs).toBe(4 * 3_600_000);
    expect(preview.objects[0]!.spec).toEqual({
      podSelector: { matchLabels: { quarantine: 'true', app: 'payments-api' } },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'forensics' } },
              podSelector: { matchLabels: { app: 'collector' } },
            },
          ],
          ports: [
            { protocol: 'TCP', port: 8443 },
            { protocol: 'UDP', port: 514 },
          ],
        },
      ],
    });
    expect(preview.yaml).toContain(
      'egress-responder.io/grant-expires-at: approval time + 1h (set at approval)',
    );
    expect(preview.warnings.join('\n')).toContain('selects the quarantined pods themselves');
    expect(await h.bg.list({ limit: 10 })).toEqual([]);

    const g = await h.bg.request(input as never, A.requester);
    const active = await h.bg.approve(g.id, A.approver);
    expect(active.verification).toBe(
      `Verification: open — TCP/8443, UDP/514 to ns forensics: app=collector for 2 pods (NetworkPolicy breakglass-${g.id}); nothing else: 2 pods isolated by breakglass-${g.id}, quarantine-deny-egress, no other egress allowed`,
    );
    // The stored grant's preview is what was applied.
    expect(h.bg.preview(active).objects[0]).toMatchObject({
      metadata: { annotations: { [GRANT_ANNOTATIONS.expiresAt]: active.expiresAt } },
    });
  });

  it('with the Kyverno label on, every object carries the absolute cleanup time', async () => {
    const h = breakglassHarness({ fake, config: { kyvernoCleanup: true } });
    const inc = await h.contained();
    const g = await h.bg.request(forensicsRequest(inc.id, { durationMs: 90 * 60_000 }), A.requester);
    await h.bg.approve(g.id, A.approver);
    const labels = (policyOf(fake, g)!.metadata as { labels: Record<string, string> }).labels;
    expect(labels['cleanup.kyverno.io/ttl']).toBe('2026-11-25T153313Z');
  });
});
