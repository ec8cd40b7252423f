import { anIncident } from '../../builders/incident.js';
import { redisUrl } from '../../support/redis.js';
import { type Bot, bootBot, CHANNEL, egressAlert, eventually, signed } from '../../support/slack-harness.js';

const alert = egressAlert;

describe('the Slack bot end to end (real Bolt over HTTP, fake Slack Web API)', () => {
  let bot: Bot;
  beforeEach(async () => {
    bot = await bootBot();
  });
  afterEach(() => bot.close());

  it('an alert opens one thread; 500 repeats fold into it with the right count and few updates', async () => {
    const id = await bot.openIncident(alert());
    for (let batch = 0; batch < 5; batch++) {
      const res = await bot.postAlerts(Array.from({ length: 100 }, () => alert()));
      expect(res.status).toBe(202);
    }
    await bot.server.slack.presenter.flush();
    const roots = bot.rootMessages();
    expect(roots).toHaveLength(1);
    expect(roots[0]!.text).toContain(id);
    expect(JSON.stringify(roots[0]!.blocks)).toContain('501 alerts');
    // Coalesced: far fewer root updates than alerts.
    const rootUpdates = bot.fake.callsTo('chat.update').filter((c) => c.body.ts === roots[0]!.ts);
    expect(rootUpdates.length).toBeGreaterThan(0);
    expect(rootUpdates.length).toBeLessThan(60);
    expect((await bot.server.engine.get(id)).slack?.ts).toBe(roots[0]!.ts);
    expect(bot.fake.thread(CHANNEL, roots[0]!.ts).some((m) => m.text.includes('Triage'))).toBe(true);
  });

  it('rejects unsigned, wrongly signed and stale requests', async () => {
    const body = new URLSearchParams({ command: '/egress', text: 'help', user_id: 'U0AAA' }).toString();
    const post = (headers: Record<string, string>) =>
      fetch(`${bot.base}/slack/events`, { method: 'POST', headers, body });
    expect((await post({ 'Content-Type': 'application/x-www-form-urlencoded' })).status).toBe(401);
    expect((await post(signed(body, { secret: 'nope' }))).status).toBe(401);
    expect((await post(signed(body, { ageSeconds: 600 }))).status).toBe(401);
  });

  it('/egress help lists every subcommand; unknown subcommands get a helpful answer', async () => {
    const help = await bot.slash('U0AAA', 'help');
    expect(help.res.status).toBe(200);
    const [helpText] = await bot.responsesTo(help.responseUrl);
    for (const sub of [
      'status',
      'ack',
      'contain',
      'release',
      'rotate',
      'note',
      'timeline',
      'breakglass',
      'grants',
      'drill',
      'close',
    ]) {
      expect(helpText).toContain(`/egress ${sub}`);
    }
    const bad = await bot.slash('U0AAA', 'frobnicate');
    expect((await bot.responsesTo(bad.responseUrl))[0]).toContain('unknown subcommand');
  });

  it('/egress ack, note, status and close drive the incident; a non-responder is refused and recorded', async () => {
    const id = await bot.openIncident(alert());
    const refused = await bot.slash('U0ZZZ', `ack ${id}`);
    expect((await bot.responsesTo(refused.responseUrl))[0]).toContain('responder role');
    const acked = await bot.slash('U0AAA', `ack ${id}`);
    expect((await bot.responsesTo(acked.responseUrl))[0]).toContain(`You have command of ${id}`);
    const noted = await bot.slash('U0AAA', `note ${id} proxy logs show 2 GB out <!channel>`);
    await bot.responsesTo(noted.responseUrl);
    const status = await bot.slash('U0BBB', `status ${id}`);
    expect((await bot.responsesTo(status.responseUrl))[0]).toContain('acknowledged');
    await bot.server.slack.presenter.flush();
    const events = await bot.server.store.timeline.read(id);
    expect(events.find((e) => e.kind === 'refusal')?.actor).toBe('slack:U0ZZZ');
    expect(events.find((e) => e.kind === 'note')).toMatchObject({
      actor: 'slack:U0AAA',
      summary: 'proxy logs show 2 GB out <!channel>',
    });
    const root = bot.rootMessages()[0]!;
    const blocks = JSON.stringify(bot.fake.message(CHANNEL, root.ts)?.blocks);
    expect(blocks).toContain('acknowledged');
    expect(blocks).not.toContain('<!channel>');
    // What was typed is answered as typed: backticks stay backticks (rich_text text is literal), and
    // the notification text keeps `<!channel>` inert.
    const closed = await bot.slash(
      'U0AAA',
      `close ${id} false positive: ran \`curl paste.example\` <!channel>`,
    );
    const answer = JSON.parse((await bot.responsesTo(closed.responseUrl))[0]!) as {
      text: string;
      blocks: { type: string; elements: { elements: { text?: string }[] }[] }[];
    };
    expect(answer.blocks[0]!.type).toBe('rich_text');
    expect(answer.blocks[0]!.elements[0]!.elements.map((e) => e.text).join('')).toBe(
      `${id} closed: false positive: ran \`curl paste.example\` <!channel>.`,
    );
    expect(answer.text).toContain('ran `curl paste.example` &lt;!channel&gt;');
    expect(JSON.stringify(answer)).not.toContain('\u02CB');
    expect(JSON.stringify(answer)).not.toContain('ˋ');
  });

  it('a click from someone who is not a responder is refused ephemerally and recorded', async () => {
    const id = await bot.openIncident(alert());
    const { res, responseUrl } = await bot.click('U0ZZZ', 'incident.ack', id);
    expect(res.status).toBe(200);
    const [answer] = await bot.responsesTo(responseUrl);
    expect(answer).toContain('responder role');
    expect(answer).toContain('"response_type":"ephemeral"');
    const refusal = (await bot.server.store.timeline.read(id)).find((e) => e.kind === 'refusal');
    expect(refusal?.actor).toBe('slack:U0ZZZ');
    expect((await bot.server.engine.get(id)).status).toBe('open');
  });

  it('the Timeline button attaches the Markdown timeline to the thread', async () => {
    const id = await bot.openIncident(alert());
    await bot.server.slack.presenter.flush();
    const { responseUrl } = await bot.click('U0AAA', 'incident.timeline', id);
    expect((await bot.responsesTo(responseUrl))[0]).toContain('attached to its thread');
    const upload = [...bot.fake.uploads.values()].find((u) => u.filename === `${id}-timeline.md`);
    expect(upload?.content?.toString()).toContain(`# Incident ${id}`);
  });

  it('a :pushpin: on a thread message adds it to the timeline once, with its author and time', async () => {
    const id = await bot.openIncident(alert());
    await bot.server.slack.presenter.flush();
    const root = bot.rootMessages()[0]!;
    const ts = bot.fake.addMessage({
      channel: CHANNEL,
      user: 'U0BBB',
      text: 'found the cron job that does it',
      thread_ts: root.ts,
    });
    const event = {
      type: 'reaction_added',
      user: 'U0AAA',
      reaction: 'pushpin',
      item: { type: 'message', channel: CHANNEL, ts },
      event_ts: ts,
    };
    expect((await bot.event(event, { eventId: 'Ev0PIN1' })).status).toBe(200);
    expect((await bot.event(event, { eventId: 'Ev0PIN1', retryNum: 1 })).status).toBe(200);
    const notes = await eventually(async () => {
      const n = (await bot.server.store.timeline.read(id)).filter((e) => e.kind === 'note');
      return n.length > 0 ? n : undefined;
    }, 'the pinned note');
    await new Promise((r) => setTimeout(r, 100));
    expect((await bot.server.store.timeline.read(id)).filter((e) => e.kind === 'note')).toHaveLength(1);
    expect(notes[0]).toMatchObject({
      actor: 'slack:U0BBB',
      summary: ':pushpin: found the cron job that does it',
    });
    expect(notes[0]!.at).toBe(new Date(Math.round(Number(ts) * 1000)).toISOString());
  });

  it('a mention inside the thread answers with the incident implicit', async () => {
    const id = await bot.openIncident(alert());
    await bot.server.slack.presenter.flush();
    const root = bot.rootMessages()[0]!;
    const mention = (text: string) =>
      bot.event({
        type: 'app_mention',
        user: 'U0AAA',
        text: `<@${bot.fake.bot.userId}> ${text}`,
        channel: CHANNEL,
        ts: bot.fake.nextTs(),
        thread_ts: root.ts,
      });
    await mention('note the proxy team is looking');
    await eventually(
      async () => (await bot.server.store.timeline.read(id)).find((e) => e.kind === 'note'),
      'the note',
    );
    await mention('status');
    const reply = await eventually(
      () => bot.fake.thread(CHANNEL, root.ts).find((m) => m.text.startsWith(`${id}: open`)),
      'the status reply',
    );
    expect(reply.text).toContain('paste.exfil.example.net');
  });

  it('a mention in an old thread is found by its index, behind 600 newer open incidents', async () => {
    const id = await bot.openIncident(alert());
    await bot.server.slack.presenter.flush();
    const root = bot.rootMessages()[0]!;
    // 600 newer open incidents (the old lookup scanned the newest 500 and missed this thread).
    const later = new Date(Date.now() + 60_000).toISOString();
    for (let i = 0; i < 600; i++) {
      await bot.server.store.incidents.createOrGetByFingerprint(
        anIncident({ id: `EGR-LATER-${i}`, fingerprint: `later-${i}`, createdAt: later }),
      );
    }
    expect(
      (await bot.server.store.incidents.list({ activeOnly: true, limit: 500 })).some((i) => i.id === id),
    ).toBe(false);
    await bot.event({
      type: 'app_mention',
      user: 'U0AAA',
      text: `<@${bot.fake.bot.userId}> status`,
      channel: CHANNEL,
      ts: bot.fake.nextTs(),
      thread_ts: root.ts,
    });
    const reply = await eventually(
      () => bot.fake.thread(CHANNEL, root.ts).find((m) => m.text.startsWith(`${id}: open`)),
      'the status reply in the old thread',
    );
    expect(reply.text).toContain('paste.exfil.example.net');
  });

  it('an SLA overrun is announced in the thread', async () => {
    const id = await bot.openIncident(alert());
    await eventually(
      async () => (await bot.server.engine.get(id)).steps[0]?.status === 'awaiting_input',
      'triage to wait',
    );
    expect((await bot.server.engine.work(Date.now() + 16 * 60_000)).reminders).toBe(1);
    await bot.server.slack.presenter.flush();
    const root = bot.rootMessages()[0]!;
    expect(bot.fake.thread(CHANNEL, root.ts).some((m) => m.text.includes('SLA breached: step'))).toBe(true);
  });
});

describe('Slack Web API trouble', () => {
  it('a bot token Slack rejects stops serve at start with one clear error', async () => {
    const { startFakeSlackApi } = await import('../../fakes/slack-api/index.js');
    const fake = await startFakeSlackApi({ tokens: ['xoxb-the-real-one'] });
    try {
      await expect(bootBot({ fake })).rejects.toMatchObject({
        code: 'config_invalid',
        message: 'Slack rejected SLACK_BOT_TOKEN (invalid_auth): check the bot token of the installed app',
      });
    } finally {
      await fake.close();
    }
  });

  it('a 429 is honoured (Retry-After) and the root message still goes out', async () => {
    const bot = await bootBot({ slackRetries: 2 });
    try {
      bot.fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 0 });
      const id = await bot.openIncident(alert());
      await bot.server.slack.presenter.flush();
      expect(bot.rootMessages()).toHaveLength(1);
      expect(bot.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === undefined)).toHaveLength(
        2,
      );
      expect((await bot.server.engine.get(id)).slack?.ts).toBe(bot.rootMessages()[0]!.ts);
    } finally {
      await bot.close();
    }
  });

  it('responders given as a user group act through its members', async () => {
    const configYaml = `slack:\n  incidentChannel: ${CHANNEL}\n  responders: [S0ONCALL]\n  approvers: [U0CCC]\n`;
    const { startFakeSlackApi } = await import('../../fakes/slack-api/index.js');
    const fake = await startFakeSlackApi();
    fake.setUsergroupUsers('S0ONCALL', ['U0EEE']);
    const bot = await bootBot({ configYaml, fake });
    try {
      const id = await bot.openIncident(alert());
      const ok = await bot.slash('U0EEE', `ack ${id}`);
      expect((await bot.responsesTo(ok.responseUrl))[0]).toContain(`You have command of ${id}`);
      const no = await bot.slash('U0FFF', `ack ${id}`);
      expect((await bot.responsesTo(no.responseUrl))[0]).toContain('responder role');
    } finally {
      await bot.close();
      await fake.close();
    }
  });
});

describe('a restart mid-incident with Redis', () => {
  it('keeps the incident and its thread working', async () => {
    const { startFakeSlackApi } = await import('../../fakes/slack-api/index.js');
    const fake = await startFakeSlackApi();
    const env = { REDIS_URL: redisUrl() };
    let bot = await bootBot({ fake, env });
    let id = '';
    try {
      const dst = `exfil.restart-${Date.now()}.net`; // its own registrable domain: a fresh incident
      id = await bot.openIncident(alert({ dst_name: dst }));
      await bot.server.slack.presenter.flush();
      const rootTs = (await bot.server.engine.get(id)).slack?.ts;
      expect(rootTs).toBeDefined();
      await bot.close();

      bot = await bootBot({ fake, env });
      const again = await bot.postAlerts(alert({ dst_name: dst }));
      expect(((await again.json()) as { incidents: unknown[] }).incidents[0]).toEqual({
        id,
        status: 'folded',
      });
      const acked = await bot.slash('U0AAA', `ack ${id}`);
      expect((await bot.responsesTo(acked.responseUrl))[0]).toContain(`You have command of ${id}`);
      await bot.server.slack.presenter.flush();
      const roots = fake.messages(CHANNEL).filter((m) => m.ts === rootTs);
      expect(roots).toHaveLength(1);
      expect(JSON.stringify(roots[0]!.blocks)).toContain('2 alerts');
      expect(JSON.stringify(roots[0]!.blocks)).toContain('acknowledged');
    } finally {
      if (id) await bot.server.engine.close(id, 'slack:U0AAA', 'test done').catch(() => undefined);
      await bot.close();
      await fake.close();
    }
  });
});
