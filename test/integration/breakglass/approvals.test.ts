import { A, breakglassHarness, forensicsRequest, policyOf, writesOf } from '../../builders/breakglass.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// Who may do what to a grant, and the paths that end it early: self-approval and a requester's
// second approval refused (and recorded), deny, revoke, the request window, extensions.

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());

const refusalsOf = async (h: ReturnType<typeof breakglassHarness>, id: string) =>
  (await h.store.timeline.read(id)).filter((e) => e.kind === 'refusal').map((e) => e.summary);

describe('two-person approval', () => {
  it('refuses self-approval, recorded, and leaves the grant pending', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    const g = await h.bg.request(forensicsRequest(inc.id), A.requester);
    // U0AAA is a responder and an approver: the role alone never lets them approve their own grant.
    await expect(h.bg.approve(g.id, A.requester)).rejects.toMatchObject({
      code: 'approval_refused',
      message: 'you may not approve it: the requester may not decide their own request (two-person rule)',
    });
    await expect(h.bg.deny(g.id, A.requester, 'never mind')).rejects.toMatchObject({
      code: 'approval_refused',
    });
    expect((await h.bg.get(g.id)).status).toBe('pending');
    expect(await refusalsOf(h, inc.id)).toEqual([
      `Refused: ${A.requester} may not approve it (${g.id}): the requester may not decide their own request (two-person rule)`,
      `Refused: ${A.requester} may not deny it (${g.id}): the requester may not decide their own request (two-person rule)`,
    ]);
    expect(policyOf(fake, g)).toBeUndefined();
  });

  it('with two approvals needed: the requester approving after someone else confirmed is refused', async () => {
    const h = breakglassHarness({ fake, config: { approvals: 2 } });
    const inc = await h.contained();
    const g = await h.bg.request(forensicsRequest(inc.id), A.requester);
    const once = await h.bg.approve(g.id, A.approver);
    expect(once).toMatchObject({ status: 'pending', approvals: [{ by: A.approver }] });
    await expect(h.bg.approve(g.id, A.requester)).rejects.toMatchObject({ code: 'approval_refused' });
    await expect(h.bg.approve(g.id, A.approver)).rejects.toMatchObject({
      code: 'approval_refused',
      message: `you may not approve it: ${A.approver} has already approved it`,
    });
    expect(policyOf(fake, g)).toBeUndefined();
    const active = await h.bg.approve(g.id, A.approver2);
    expect(active.status).toBe('active');
    expect(active.approvals.map((a) => a.by)).toEqual([A.approver, A.approver2]);
    expect(
      (policyOf(fake, g)!.metadata as { annotations: Record<string, string> }).annotations[
        'egress-responder.io/grant-approvers'
      ],
    ).toBe(`${A.approver}, ${A.approver2}`);
    // Decided: nothing waits for approval any more.
    await expect(h.bg.approve(g.id, 'slack:U0CCC')).rejects.toMatchObject({ code: 'transition_invalid' });
  });

  it('needs the roles: a viewer may not request, a responder may not approve', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    await expect(h.bg.request(forensicsRequest(inc.id), 'slack:U0VIEW')).rejects.toMatchObject({
      code: 'not_authorized',
    });
    const g = await h.bg.request(forensicsRequest(inc.id), A.requester);
    await expect(h.bg.approve(g.id, 'slack:U0BBB')).rejects.toMatchObject({ code: 'not_authorized' });
    expect(await h.bg.list({ limit: 10 })).toHaveLength(1);
  });
});

describe('ending early', () => {
  it('deny needs a reason and ends the request; nothing is ever applied', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    const g = await h.bg.request(forensicsRequest(inc.id), A.requester);
    await expect(h.bg.deny(g.id, A.approver, '  ')).rejects.toMatchObject({ code: 'command_invalid' });
    const denied = await h.bg.deny(g.id, A.approver, 'use the bastion instead');
    expect(denied).toMatchObject({
      status: 'denied',
      denial: { by: A.approver, reason: 'use the bastion instead' },
    });
    expect(await h.kinds(inc.id)).toEqual(['grant.requested', 'grant.denied']);
    expect(await h.store.schedule.due(h.clock.now() + 86_400_000)).toEqual([]);
    expect(await h.bg.list({ live: true, limit: 10 })).toEqual([]);
  });

  it('revoke: by the requester or an approver, never by someone else; removes the object', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    const g = await h.bg.approve((await h.bg.request(forensicsRequest(inc.id), A.requester)).id, A.approver);
    await expect(h.bg.revoke(g.id, 'slack:U0BBB', 'done')).rejects.toMatchObject({ code: 'not_authorized' });
    expect(policyOf(fake, g)).toBeDefined();
    const revoked = await h.bg.revoke(g.id, A.requester, 'dump copied');
    expect(revoked).toMatchObject({ status: 'revoked', ended: { by: A.requester, reason: 'dump copied' } });
    expect(revoked.removal?.removedAt).toBeDefined();
    expect(policyOf(fake, g)).toBeUndefined();
    expect((await h.kinds(inc.id)).slice(-2)).toEqual(['grant.revoked', 'grant.removed']);
    await expect(h.bg.revoke(g.id, A.approver, 'again')).rejects.toMatchObject({
      code: 'transition_invalid',
    });
  });

  it('a request nobody decides expires at the end of its window (breakglass.requestTtl)', async () => {
    const h = breakglassHarness({ fake, config: { requestTtl: '10m' } });
    const inc = await h.contained();
    const g = await h.bg.request(forensicsRequest(inc.id), A.requester);
    expect(g.requestExpiresAt).toBe('2026-11-25T14:13:12.123Z');
    h.clock.advance(10 * 60_000 - 1);
    await h.work();
    expect((await h.bg.get(g.id)).status).toBe('pending');
    h.clock.advance(1);
    await h.work();
    expect(await h.bg.get(g.id)).toMatchObject({ status: 'request_expired', ended: { by: 'system' } });
    expect(await h.kinds(inc.id)).toEqual(['grant.requested', 'grant.request_expired']);
    await expect(h.bg.approve(g.id, A.approver)).rejects.toMatchObject({ code: 'transition_invalid' });
    expect(policyOf(fake, g)).toBeUndefined();
  });

  it('a failed apply is recorded as failed, and whatever it created is removed', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    const g = await h.bg.request(forensicsRequest(inc.id), A.requester);
    fake.fail({
      method: 'PATCH',
      path: `/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies/breakglass-${g.id}`,
      status: 422,
      message: 'admission webhook "policy.example" denied the request',
    });
    const failed = await h.bg.approve(g.id, A.approver);
    expect(failed.status).toBe('failed');
    expect(failed.ended?.reason).toContain('admission webhook "policy.example" denied the request');
    expect(policyOf(fake, g)).toBeUndefined();
    expect(await h.kinds(inc.id)).toEqual([
      'grant.requested',
      'grant.approved',
      'grant.failed',
      'grant.removed',
    ]);
  });
  it('a verification that fails fails the grant, and the applied object is removed', async () => {
    const h = breakglassHarness({ fake });
    const inc = await h.contained();
    const g = await h.bg.request(forensicsRequest(inc.id), A.requester);
    // The preflight's list of the namespace's policies goes through; the read-back after the apply fails.
    fake.fail({
      method: 'GET',
      path: '/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies',
      status: 403,
      skip: 1,
    });
    const failed = await h.bg.approve(g.id, A.approver);
    expect(failed.status).toBe('failed');
    expect(failed.ended?.reason).toMatch(/^Verification: failed — could not read back: .*may not list/);
    expect(policyOf(fake, g)).toBeUndefined();
    expect(await h.kinds(inc.id)).toEqual([
      'grant.requested',
      'grant.approved',
      'grant.applied',
      'grant.failed',
      'grant.removed',
    ]);
  });
});

describe('extensions', () => {
  it('are approved like the grant, move the expiry, re-annotate the object, and stay within the maximum', async () => {
    const h = breakglassHarness({ fake, config: { maxDuration: { 'egress-exception': '2h' } } });
    const inc = await h.contained();
    const g = await h.bg.approve((await h.bg.request(forensicsRequest(inc.id), A.requester)).id, A.approver);
    h.clock.advance(30 * 60_000);
    await expect(h.bg.requestExtension(g.id, 'slack:U0BBB', 90 * 60_000, 'more')).rejects.toMatchObject({
      code: 'command_invalid',
    });
    const asked = await h.bg.requestExtension(
      g.id,
      'slack:U0BBB',
      30 * 60_000,
      'the dump is larger than expected',
    );
    expect(asked.extension).toMatchObject({ requester: 'slack:U0BBB', durationMs: 30 * 60_000 });
    await expect(h.bg.approve(g.id, 'slack:U0BBB')).rejects.toMatchObject({ code: 'not_authorized' });
    // The original requester is not the extension's requester: they may approve it.
    fake.requests.length = 0;
    const extended = await h.bg.approve(g.id, A.requester);
    expect(extended.expiresAt).toBe('2026-11-25T15:33:12.123Z');
    expect(extended.extension).toBeUndefined();
    expect(
      (policyOf(fake, g)!.metadata as { annotations: Record<string, string> }).annotations[
        'egress-responder.io/grant-expires-at'
      ],
    ).toBe('2026-11-25T15:33:12.123Z');
    expect(writesOf(fake).map((r) => r.query.dryRun ?? 'real')).toEqual(['All', 'real']);
    expect((await h.kinds(inc.id)).slice(-3)).toEqual([
      'grant.extension_requested',
      'grant.approved',
      'grant.extended',
    ]);
    // The old expiry passes: still there. The new one: gone.
    h.clock.advance(30 * 60_000);
    await h.work();
    expect(policyOf(fake, g)).toBeDefined();
    h.clock.advance(30 * 60_000);
    await h.work();
    expect(policyOf(fake, g)).toBeUndefined();
    expect((await h.bg.get(g.id)).status).toBe('expired');
  });

  it('an extension nobody decides lapses; the grant still ends at its first expiry', async () => {
    const h = breakglassHarness({ fake, config: { requestTtl: '5m' } });
    const inc = await h.contained();
    const g = await h.bg.approve((await h.bg.request(forensicsRequest(inc.id), A.requester)).id, A.approver);
    await h.bg.requestExtension(g.id, A.requester, 60 * 60_000, 'more time');
    h.clock.advance(5 * 60_000);
    await h.work();
    const after = await h.bg.get(g.id);
    expect(after).toMatchObject({ status: 'active', expiresAt: g.expiresAt });
    expect(after.extension).toBeUndefined();
    expect((await h.kinds(inc.id)).slice(-1)).toEqual(['grant.request_expired']);
  });
});
