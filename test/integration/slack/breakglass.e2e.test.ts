import { ACTION_IDS, BG_BLOCKS } from '../../../src/slack/blocks/index.js';
import { viewProblems } from '../../fakes/slack-api/validate.js';
import { breakglassWorld, LEAD, type World } from '../../support/breakglass-flow.js';
import { CHANNEL, eventually } from '../../support/slack-harness.js';
import { clickOn, lastOpenedView, submitView } from '../../support/slack-views.js';

// Break-glass from Slack, end to end: the real Bolt app behind its guard, signed requests, the fake
// Slack Web API and the break-glass service over a fake Kubernetes API. A responder asks through the
// modal (open → submit → review → submit), someone else approves on the grant's thread message, and
// the object is in the cluster; deny, revoke from /egress grants, extend (approved again), drills.
// Hostile input is in breakglass-hostile.e2e.test.ts.

describe('break-glass from Slack', () => {
  let w: World;
  beforeEach(async () => {
    w = await breakglassWorld();
  });
  afterEach(() => w.close());

  it('request through the modal; the requester cannot approve; another approver does; the object is in the cluster and the thread shows its end', async () => {
    // The lead is a responder and an approver: only the two-person rule stops them approving their own.
    const form = await w.openForm(LEAD);
    expect(form.callback_id).toBe('breakglass.request');
    expect(viewProblems(form)).toEqual([]);
    const rev = await w.review(LEAD, form);
    expect(rev.callback_id).toBe('breakglass.review');
    const shown = JSON.stringify(rev.blocks);
    expect(shown).toContain('NetworkPolicy');
    expect(shown).toContain('203.0.113.7/32');
    expect(w.grantPolicies()).toEqual([]); // a preview stores and applies nothing
    expect(await w.grants()).toEqual([]);

    // A double submit of the review makes one grant.
    const [a, b] = await Promise.all([submitView(w.bot, LEAD, rev, {}), submitView(w.bot, LEAD, rev, {})]);
    expect(JSON.stringify(a.answer)).toContain('is requested');
    expect(JSON.stringify(b.answer)).toContain('is requested');
    const all = await w.grants();
    expect(all).toHaveLength(1);
    const g = all[0]!;
    expect(g).toMatchObject({
      status: 'pending',
      requester: `slack:${LEAD}`,
      reason: 'copy the memory dump to the forensics bucket',
      ticket: 'IR-1234',
    });

    await w.bot.server.slack.presenter.flush();
    const posted = await w.grant(g.id);
    expect(posted.message?.channel).toBe(CHANNEL);
    const msg = w.bot.fake.message(CHANNEL, posted.message!.ts)!;
    expect(msg.thread_ts).toBe((await w.bot.server.engine.get(w.incident)).slack?.ts);
    expect(JSON.stringify(msg.blocks)).toContain('2h after approval');
    expect(JSON.stringify(msg.blocks)).toContain(ACTION_IDS.grantApprove);

    // The requester's own Approve is refused and changes nothing.
    const own = await w.onMessage(LEAD, ACTION_IDS.grantApprove, g);
    expect(await w.said(own.responseUrl)).toContain(
      'the requester may not decide their own request (two-person rule)',
    );
    const responder = await w.onMessage('U0AAA', ACTION_IDS.grantApprove, g);
    expect(await w.said(responder.responseUrl)).toContain('it needs the approver role');
    expect(await w.grant(g.id)).toMatchObject({ status: 'pending', approvals: [] });
    expect(w.grantPolicies()).toEqual([]);
    const refusals = (await w.bot.server.store.timeline.read(w.incident)).filter((e) => e.kind === 'refusal');
    expect(refusals.map((e) => e.actor)).toEqual([`slack:${LEAD}`, 'slack:U0AAA']);

    const active = await w.approve(g, 'U0DDD');
    expect(active.status).toBe('active');
    expect(active.approvals.map((x) => x.by)).toEqual(['slack:U0DDD']);
    const [policy] = w.grantPolicies();
    expect(policy?.metadata.annotations?.['egress-responder.io/grant']).toBe(g.id);
    // RFC 3339 UTC, the same instant as the record's end.
    const annotated = policy?.metadata.annotations?.['egress-responder.io/grant-expires-at'] ?? '';
    expect(annotated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Math.abs(Date.parse(annotated) - Date.parse(active.expiresAt!))).toBeLessThan(1000);
    const updated = JSON.stringify(w.bot.fake.message(CHANNEL, posted.message!.ts)!.blocks);
    expect(updated).toContain(`${active.expiresAt!.slice(0, 10)} ${active.expiresAt!.slice(11, 19)} UTC`);
    expect(updated).toContain(ACTION_IDS.grantRevoke);
    expect(updated).not.toContain(ACTION_IDS.grantApprove);

    // A second approval click after it is active acts on nothing.
    const late = await w.onMessage(LEAD, ACTION_IDS.grantApprove, g);
    await w.bot.responsesTo(late.responseUrl);
    const events = await w.bot.server.store.timeline.read(w.incident);
    expect(events.filter((e) => e.kind === 'grant.approved')).toHaveLength(1);
    expect(w.grantPolicies()).toHaveLength(1);
  });

  it('deny with a reason: the reason is required, the grant ends denied, and the thread says so', async () => {
    const g = await w.requestViaModal();
    const before = w.bot.fake.views.size;
    await w.onMessage('U0CCC', ACTION_IDS.grantDeny, g);
    await eventually(() => w.bot.fake.views.size > before || undefined, 'the deny modal');
    const modal = lastOpenedView(w.bot)!;
    expect(modal.callback_id).toBe('breakglass.deny');
    const empty = await submitView(w.bot, 'U0CCC', modal, { [BG_BLOCKS.reason]: '  ' });
    expect(empty.answer).toEqual({
      response_action: 'errors',
      errors: { [BG_BLOCKS.reason]: 'a reason is required: it is kept in the timeline' },
    });
    expect((await w.grant(g.id)).status).toBe('pending');
    const denied = await submitView(w.bot, 'U0CCC', modal, { [BG_BLOCKS.reason]: 'use the bastion instead' });
    expect(JSON.stringify(denied.answer)).toContain('denied');
    expect(await w.grant(g.id)).toMatchObject({
      status: 'denied',
      denial: { by: 'slack:U0CCC', reason: 'use the bastion instead' },
    });
    await w.bot.server.slack.presenter.flush();
    const message = JSON.stringify(w.bot.fake.message(CHANNEL, g.message!.ts)!.blocks);
    expect(message).toContain('use the bastion instead');
    expect(message).not.toContain(ACTION_IDS.grantApprove);
    expect(
      w.thread().some((m) => m.text.includes(g.id) && /denied/i.test(m.text) && m.ts !== g.message!.ts),
    ).toBe(true);
    expect(w.grantPolicies()).toEqual([]);
  });

  it('/egress grants lists it with the time left; Revoke from the list removes the object and the thread announces the end', async () => {
    const g = await w.approve(await w.requestViaModal());
    expect(w.grantPolicies()).toHaveLength(1);
    const list = await w.bot.slash('U0CCC', 'grants');
    const text = await w.said(list.responseUrl);
    expect(text).toContain(g.id);
    expect(text).toMatch(/1h59m\d*s? left|2h left/);
    expect(text).toContain(ACTION_IDS.grantRevoke);

    const before = w.bot.fake.views.size;
    await clickOn(w.bot, 'U0CCC', ACTION_IDS.grantRevoke, g.id, { ephemeral: true });
    await eventually(() => w.bot.fake.views.size > before || undefined, 'the revoke modal');
    const modal = lastOpenedView(w.bot)!;
    expect(modal.callback_id).toBe('breakglass.revoke');
    const { answer } = await submitView(w.bot, 'U0CCC', modal, { [BG_BLOCKS.reason]: 'the copy is done' });
    expect(answer.response_action).toBe('update');
    await eventually(async () => ((await w.grant(g.id)).status === 'revoked' ? true : undefined), 'revoked');
    await eventually(() => (w.grantPolicies().length === 0 ? true : undefined), 'the policy removed');
    expect((await w.grant(g.id)).ended).toMatchObject({ by: 'slack:U0CCC', reason: 'the copy is done' });
    await w.bot.server.slack.presenter.flush();
    expect(
      w.thread().some((m) => m.text.includes(g.id) && /revoked/i.test(m.text) && m.ts !== g.message!.ts),
    ).toBe(true);

    expect(await w.said((await w.bot.slash('U0CCC', 'grants')).responseUrl)).not.toContain(g.id);
    expect(await w.said((await w.bot.slash('U0CCC', 'grants all')).responseUrl)).toContain(g.id);
  });

  it('extend needs approval again, never from the requester', async () => {
    const g = await w.approve(await w.requestViaModal(LEAD), 'U0DDD');
    const before = w.bot.fake.views.size;
    await w.onMessage(LEAD, ACTION_IDS.grantExtend, g);
    await eventually(() => w.bot.fake.views.size > before || undefined, 'the extend modal');
    const modal = lastOpenedView(w.bot)!;
    expect(modal.callback_id).toBe('breakglass.extend');
    const { answer } = await submitView(w.bot, LEAD, modal, {
      [BG_BLOCKS.duration]: { option: String(3_600_000) },
      [BG_BLOCKS.reason]: 'the copy is at 70 %',
    });
    expect(JSON.stringify(answer)).toContain('Extension');
    const asked = await w.grant(g.id);
    expect(asked.extension).toMatchObject({
      durationMs: 3_600_000,
      requester: `slack:${LEAD}`,
      approvals: [],
    });
    expect(asked.expiresAt).toBe(g.expiresAt);
    await w.bot.server.slack.presenter.flush();
    expect(JSON.stringify(w.bot.fake.message(CHANNEL, g.message!.ts)!.blocks)).toContain('Approve extension');

    const own = await w.onMessage(LEAD, ACTION_IDS.grantApprove, g);
    expect(await w.said(own.responseUrl)).toContain('two-person rule');
    expect((await w.grant(g.id)).expiresAt).toBe(g.expiresAt);

    const extended = await w.approve(g, 'U0DDD');
    expect(extended.extension).toBeUndefined();
    expect(Date.parse(extended.expiresAt!) - Date.parse(g.expiresAt!)).toBe(3_600_000);
  });

  it("a drill incident's grant says DRILL and creates nothing in the cluster", async () => {
    // Drills open incidents with drill: true (drills/runner.ts); here the test's incident is made one.
    const inc = await w.bot.server.store.incidents.get(w.incident);
    await w.bot.server.store.incidents.update({ ...inc!, drill: true }, inc!.version);
    const g = await w.requestViaModal();
    expect(g.drill).toBe(true);
    const message = JSON.stringify(w.bot.fake.message(CHANNEL, g.message!.ts)!.blocks);
    expect(message).toContain('DRILL');
    expect(message).toContain('Approve (dry run)');
    const active = await w.approve(g);
    expect(active.status).toBe('active');
    expect(w.grantPolicies()).toEqual([]);
    const writes = w.kube.requests.filter((r) => r.method !== 'GET' && r.path.includes('networkpolicies'));
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) expect(w.query.dryRun).toBe('All');
  });

  it('an access elevation through the modal: the review shows the RoleBinding, approval creates it', async () => {
    const g = await w.requestViaModal('U0AAA', {
      [BG_BLOCKS.kind]: { option: 'access-elevation' },
      [BG_BLOCKS.subjects]: 'User:alice@example.com, Group:ir-team',
      [BG_BLOCKS.role]: { option: 'egress-responder-forensics' },
      [BG_BLOCKS.duration]: { option: String(3_600_000) },
      [BG_BLOCKS.reason]: 'read the quarantined pods’ logs',
    });
    expect(g.spec).toMatchObject({
      kind: 'access-elevation',
      namespace: 'prod',
      clusterRole: 'egress-responder-forensics',
    });
    expect(JSON.stringify(w.bot.fake.message(CHANNEL, g.message!.ts)!.blocks)).toContain('kind: RoleBinding');
    expect((await w.approve(g)).status).toBe('active');
    const bindings = w.kube.list('RoleBinding', 'prod') as {
      subjects?: { name: string }[];
      roleRef?: { name: string };
    }[];
    expect(bindings).toHaveLength(1);
    expect(bindings[0]?.roleRef?.name).toBe('egress-responder-forensics');
    expect(bindings[0]?.subjects?.map((x) => x.name)).toEqual(['alice@example.com', 'ir-team']);
  });

  it('a failed removal is shouted in the thread and the channel each time, until the objects are gone', async () => {
    const g = await w.approve(await w.requestViaModal());
    w.kube.fail({ method: 'DELETE', path: /networkpolicies/, status: 403, times: 1 });
    const before = w.bot.fake.views.size;
    await w.onMessage('U0CCC', ACTION_IDS.grantRevoke, g);
    const modal = await w.nextModal(before, 'the revoke modal');
    await submitView(w.bot, 'U0CCC', modal, { [BG_BLOCKS.reason]: '' });
    await eventually(
      async () => ((await w.grant(g.id)).removal?.lastError ? true : undefined),
      'a failed removal',
    );
    expect(w.grantPolicies()).toHaveLength(1);
    await w.bot.server.slack.presenter.flush();
    const shouts = w.bot.fake
      .callsTo('chat.postMessage')
      .filter((c) => String(c.body.text).includes('removal failed'));
    expect(shouts).toHaveLength(1);
    expect(shouts[0]?.body.reply_broadcast).toBe('true');
    expect((await w.grant(g.id)).ended?.reason).toBe('revoked early by slack:U0CCC');
    // The retry (the grant's schedule item, 5 s on) removes it, and the thread says so.
    await eventually(
      () => (w.grantPolicies().length === 0 ? true : undefined),
      'the retried removal',
      15_000,
    );
    await eventually(async () => ((await w.grant(g.id)).removal?.removedAt ? true : undefined), 'removedAt');
    await w.bot.server.slack.presenter.flush();
    expect(
      w.thread().some((m) => m.text.includes(g.id) && /removed/i.test(m.text) && !/failed/.test(m.text)),
    ).toBe(true);
  }, 30_000);
});
