import { ACTION_IDS, BG_BLOCKS } from '../../../src/slack/blocks/index.js';
import { breakglassWorld, egressForm, KIND_ACTION, type World } from '../../support/breakglass-flow.js';
import { eventually } from '../../support/slack-harness.js';
import { actInView, clickOn, lastOpenedView, submitView } from '../../support/slack-views.js';

// Break-glass under fire, through the front door: odd slash text, huge input, forged button values,
// replayed signed requests, submissions of modals the person did not open, clicks by the wrong people.
// Each is refused clearly and changes nothing.

describe('break-glass from Slack, hostile input', () => {
  let w: World;
  beforeEach(async () => {
    w = await breakglassWorld();
  });
  afterEach(() => w.close());

  const opened = () => w.bot.fake.callsTo('views.open').length;

  it('slash text: no id, .., constructor, a path, extra words — a clear answer and no modal', async () => {
    for (const [text, answer] of [
      ['breakglass', /name the incident/],
      ['breakglass ..', /is not an incident id/],
      ['breakglass ../../etc/passwd', /is not an incident id/],
      ['breakglass constructor', /constructor/],
      ['breakglass __proto__', /is not an incident id/],
      [`breakglass ${w.incident} and more`, /one incident id only/],
      ['grants constructor', /usage/],
    ] as const) {
      const { responseUrl } = await w.bot.slash('U0AAA', text);
      expect(await w.said(responseUrl)).toMatch(answer);
    }
    expect(opened()).toBe(0);
    expect(await w.grants()).toEqual([]);
  });

  it('a huge reason is refused on its field; nothing is stored', async () => {
    const form = await w.openForm();
    const { answer } = await submitView(
      w.bot,
      'U0AAA',
      form,
      egressForm({ [BG_BLOCKS.reason]: 'x'.repeat(200_000) }),
      KIND_ACTION,
    );
    expect(answer).toEqual({
      response_action: 'errors',
      errors: { [BG_BLOCKS.reason]: '200000 characters: at most 2000' },
    });
    expect(await w.grants()).toEqual([]);
  });

  it("the service's precise refusal lands on the field it is about", async () => {
    const form = await w.openForm();
    const { answer } = await submitView(
      w.bot,
      'U0AAA',
      form,
      egressForm({ [BG_BLOCKS.dest]: '10.0.0.0/33' }),
      KIND_ACTION,
    );
    expect(answer.response_action).toBe('errors');
    expect(Object.keys(answer.errors as object)).toEqual([BG_BLOCKS.dest]);
    expect(JSON.stringify(answer.errors)).toMatch(/CIDR/);
  });

  it('a view submission with tampered private_metadata, or from someone the modal was not opened for, does nothing', async () => {
    const form = await w.openForm('U0AAA');
    const rev = await w.review('U0AAA', form);
    const meta = rev.private_metadata as string;
    const tampered = { ...rev, private_metadata: meta.replace(w.incident, 'EGR-OTHER-1') };
    for (const [user, view] of [
      ['U0AAA', tampered],
      ['U0BBB', rev],
      ['U0AAA', { ...rev, private_metadata: 'x.{"p":"review","u":"U0AAA","d":{}}' }],
      ['U0AAA', { ...rev, private_metadata: undefined }],
    ] as const) {
      const { answer } = await submitView(w.bot, user, view, {});
      expect(JSON.stringify(answer)).toContain('was not opened for you');
    }
    // The form's metadata cannot be used as a review's either (another purpose).
    const swapped = await submitView(w.bot, 'U0AAA', { ...rev, private_metadata: form.private_metadata }, {});
    expect(JSON.stringify(swapped.answer)).toContain('was not opened for you');
    expect(await w.grants()).toEqual([]);
  });

  it('a replayed signed view submission is refused by the guard: one grant', async () => {
    const rev = await w.review('U0AAA', await w.openForm());
    const first = await submitView(w.bot, 'U0AAA', rev, {});
    expect(first.status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await w.bot.rawSlack(first.body, first.headers)).status).toBe(409);
    expect(await w.grants()).toHaveLength(1);
  });

  it('forged button values: garbage, an unknown grant, another grant than the message is about', async () => {
    const a = await w.requestViaModal();
    const b = await w.requestViaModal('U0BBB', egressForm({ [BG_BLOCKS.dest]: '198.51.100.9/32' }));
    const onA = (await w.grant(a.id)).message!;
    for (const [value, answer] of [
      ['garbage', /out of date/],
      ['bg-../../x', /out of date/],
      ['constructor', /out of date/],
      ['bg-ffffffffff', /"text":"no break-glass grant bg-ffffffffff"/],
      [b.id, /not on bg-/],
    ] as const) {
      const { responseUrl } = await clickOn(w.bot, 'U0CCC', ACTION_IDS.grantApprove, value, {
        ts: onA.ts,
        channel: onA.channel,
      });
      expect(await w.said(responseUrl)).toMatch(answer);
    }
    // Approve and deny only on the grant's own message, never from an ephemeral copy.
    const eph = await clickOn(w.bot, 'U0CCC', ACTION_IDS.grantApprove, b.id, { ephemeral: true });
    expect(await w.said(eph.responseUrl)).toMatch(/on its message in the incident thread/);
    expect(await w.grant(a.id)).toMatchObject({ status: 'pending', approvals: [] });
    expect(await w.grant(b.id)).toMatchObject({ status: 'pending', approvals: [] });
    expect(w.grantPolicies()).toEqual([]);
  });

  it('wrong people: a stranger cannot request, approve, deny or revoke; the list needs a role', async () => {
    const form = await w.openForm('U0ZZZ');
    const { answer } = await submitView(w.bot, 'U0ZZZ', form, egressForm(), KIND_ACTION);
    expect(answer.response_action).toBe('errors');
    expect(JSON.stringify(answer.errors)).toMatch(/responder/);

    const pending = await w.requestViaModal();
    const refused = await w.onMessage('U0ZZZ', ACTION_IDS.grantApprove, pending);
    expect(await w.said(refused.responseUrl)).toMatch(/approver|role/);
    expect(await w.grant(pending.id)).toMatchObject({ status: 'pending', approvals: [] });
    const g = await w.approve(pending);
    expect(g.status).toBe('active');
    // Revoke opens its modal for whoever clicks (Slack does not know roles); the service refuses the stranger.
    const before = w.bot.fake.views.size;
    await w.onMessage('U0ZZZ', ACTION_IDS.grantRevoke, g);
    const modal = await w.nextModal(before, 'the revoke modal');
    const res = await submitView(w.bot, 'U0ZZZ', modal, { [BG_BLOCKS.reason]: 'because' });
    expect(res.answer.response_action).toBe('errors');
    expect(JSON.stringify(res.answer)).toMatch(/approver|requester|role/);
    expect((await w.grant(g.id)).status).toBe('active');
    expect(w.grantPolicies()).toHaveLength(1);
    const list = await w.bot.slash('U0ZZZ', 'grants');
    expect(await w.said(list.responseUrl)).toMatch(/viewer role/);
  });

  it('switching the kind redraws the form for access elevation, only for the person it was opened for', async () => {
    const form = await w.openForm('U0AAA');
    const updates = () => w.bot.fake.callsTo('views.update').length;
    await actInView(w.bot, 'U0BBB', form, {
      actionId: ACTION_IDS.breakglassKind,
      blockId: BG_BLOCKS.kind,
      value: 'access-elevation',
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(updates()).toBe(0);
    await actInView(
      w.bot,
      'U0AAA',
      form,
      {
        actionId: ACTION_IDS.breakglassKind,
        blockId: BG_BLOCKS.kind,
        value: 'access-elevation',
      },
      { [BG_BLOCKS.kind]: { option: 'access-elevation' }, [BG_BLOCKS.reason]: 'kept' },
      KIND_ACTION,
    );
    await eventually(() => (updates() > 0 ? true : undefined), 'views.update');
    const redrawn = lastOpenedView(w.bot)!;
    const shown = JSON.stringify(redrawn.blocks);
    expect(shown).toContain(BG_BLOCKS.subjects);
    expect(shown).toContain('egress-responder-forensics');
    expect(shown).not.toContain(BG_BLOCKS.ports);
    expect(shown).toContain('"initial_value":"kept"');
  });
});
