import { ACTION_IDS } from '../../../src/slack/blocks/index.js';
import { type Bot, bootBot, CHANNEL, egressAlert, eventually } from '../../support/slack-harness.js';

// Trust under fire, through the front door: a real Bolt app behind its guard, signed requests, the
// fake Slack Web API. Replays act once, clocks from the future are refused, a response_url must be
// Slack's, clicks count only in the incident's channel, and reading or writing the audit trail needs a role.

const alert = egressAlert;

describe('Slack requests under fire', () => {
  let bot: Bot;
  beforeEach(async () => {
    bot = await bootBot({
      configYaml: `
slack:
  incidentChannel: ${CHANNEL}
  responders: [U0AAA, U0BBB]
  approvers: [U0CCC]
  viewers: [U0VIEW]
`,
    });
  });
  afterEach(() => bot.close());

  const notes = async (id: string) =>
    (await bot.server.store.timeline.read(id)).filter((e) => e.kind === 'note').map((e) => e.summary);

  it('a signed request replayed within the window acts once (409 the second time, across the shared store)', async () => {
    const id = await bot.openIncident(alert());
    const req = bot.slashRequest('U0AAA', `note ${id} the proxy team is looking`);
    expect((await bot.rawSlack(req.body, req.headers)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await bot.rawSlack(req.body, req.headers)).status).toBe(409);
    await eventually(async () => ((await notes(id)).length > 0 ? true : undefined), 'the note');
    await bot.server.slack.presenter.flush();
    expect(await notes(id)).toEqual(['the proxy team is looking']);
  });

  it('a timestamp more than a minute in the future is refused; so is a stale one', async () => {
    const future = bot.slashRequest('U0AAA', 'help', { ageSeconds: -120 });
    expect((await bot.rawSlack(future.body, future.headers)).status).toBe(401);
    const stale = bot.slashRequest('U0AAA', 'help', { ageSeconds: 6 * 60 });
    expect((await bot.rawSlack(stale.body, stale.headers)).status).toBe(401);
  });

  it('a response_url that is not Slack is refused before anything runs', async () => {
    const id = await bot.openIncident(alert());
    const req = bot.slashRequest('U0AAA', `note ${id} exfiltrate me`, {
      responseUrl: 'https://evil.example/hook',
    });
    expect((await bot.rawSlack(req.body, req.headers)).status).toBe(400);
    await new Promise((r) => setTimeout(r, 200));
    expect(await notes(id)).toEqual([]);
  });

  it('a click from another channel is refused and changes nothing; from the incident channel it acts', async () => {
    const id = await bot.openIncident(alert());
    await bot.server.slack.presenter.flush();
    const other = await bot.click('U0AAA', ACTION_IDS.ack, id, { channel: 'C0ELSEWHERE' });
    expect((await bot.responsesTo(other.responseUrl))[0]).toContain('thread in another channel');
    expect((await bot.server.engine.get(id)).status).toBe('open');
    const here = await bot.click('U0AAA', ACTION_IDS.ack, id);
    expect(here.res.status).toBe(200);
    await eventually(
      async () => ((await bot.server.engine.get(id)).status === 'acknowledged' ? true : undefined),
      'ack',
    );
  });

  it('note needs a responder; status and timeline a viewer; anyone else is refused (and the refusal recorded)', async () => {
    const id = await bot.openIncident(alert());
    await bot.server.slack.presenter.flush();
    const stranger = await bot.slash('U0STRANGER', `note ${id} I was here`);
    expect((await bot.responsesTo(stranger.responseUrl))[0]).toContain('it needs the responder role');
    const peek = await bot.slash('U0STRANGER', `status ${id}`);
    expect((await bot.responsesTo(peek.responseUrl))[0]).toContain('it needs the viewer role');
    const list = await bot.slash('U0STRANGER', 'status');
    expect((await bot.responsesTo(list.responseUrl))[0]).toContain('it needs the viewer role');
    const viewer = await bot.slash('U0VIEW', `status ${id}`);
    expect((await bot.responsesTo(viewer.responseUrl))[0]).toContain(`${id}: open`);
    const viewerNote = await bot.slash('U0VIEW', `note ${id} viewers read, they do not write`);
    expect((await bot.responsesTo(viewerNote.responseUrl))[0]).toContain('it needs the responder role');
    expect(await notes(id)).toEqual([]);
    const refusals = (await bot.server.store.timeline.read(id)).filter((e) => e.kind === 'refusal');
    expect(refusals.map((e) => e.actor)).toEqual(['slack:U0STRANGER', 'slack:U0STRANGER', 'slack:U0VIEW']);
  });

  it('alert text with newlines and bidi overrides reaches Slack on one line, without the overrides', async () => {
    const id = await bot.openIncident(
      alert({ dst_name: 'evil\u202Etxt.exe.example', request_id: 'line1\nFAKE: contained' }),
    );
    await bot.server.slack.presenter.flush();
    const root = bot.rootMessages().find((m) => m.text.includes(id))!;
    const shown = JSON.stringify(root.blocks);
    expect(shown).not.toContain('\\u202e');
    expect(shown).not.toContain('\u202E');
  });
});
