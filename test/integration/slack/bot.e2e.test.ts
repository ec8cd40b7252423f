import { createHmac } from 'node:crypto';
import { parseConfig, readEnv } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { type RunningServer, startServer } from '../../../src/main.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';
import { deleteKeys, redisUrl, uniquePrefix } from '../../support/redis.js';

const SIGNING_SECRET = 'test-signing-secret';
const ALERT_TOKEN = 'test-alert-token';
const CHANNEL = 'C0INCIDENT';

const configYaml = `
slack:
  incidentChannel: ${CHANNEL}
  responders: [U0AAA, U0BBB]
  approvers: [U0CCC, U0DDD]
`;

async function boot(fake: FakeSlackApi, extraEnv: Record<string, string> = {}): Promise<RunningServer> {
  const env = readEnv({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
    SLACK_API_URL: fake.url,
    PORT: '0',
    ...extraEnv,
  });
  const config = parseConfig(configYaml, 'test-config.yaml', packageRoot, env);
  return startServer(config, silentLogger(), { coalesceMs: 30, slackRetries: 0 });
}

function signed(body: string, opts: { secret?: string; ageSeconds?: number; contentType?: string } = {}) {
  const ts = Math.floor(Date.now() / 1000) - (opts.ageSeconds ?? 0);
  const sig = createHmac('sha256', opts.secret ?? SIGNING_SECRET)
    .update(`v0:${ts}:${body}`)
    .digest('hex');
  return {
    'Content-Type': opts.contentType ?? 'application/x-www-form-urlencoded',
    'X-Slack-Request-Timestamp': String(ts),
    'X-Slack-Signature': `v0=${sig}`,
  };
}

const alert = (over: Record<string, unknown> = {}) => ({
  src_service: 'payments-api',
  src_namespace: 'prod',
  dst_type: 'fqdn',
  dst_name: 'paste.exfil.example.net',
  dst_port: 443,
  protocol: 'https',
  ...over,
});

describe('the Slack bot end to end (real Bolt over HTTP, fake Slack Web API)', () => {
  let fake: FakeSlackApi;
  let server: RunningServer;
  let base: string;

  const postAlerts = (body: unknown) =>
    fetch(`${base}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
      body: JSON.stringify(body),
    });
  const slash = async (user: string, text: string) => {
    const responseUrl = fake.responseUrl(`cmd-${Math.random()}`);
    const body = new URLSearchParams({
      command: '/egress',
      text,
      user_id: user,
      user_name: user.toLowerCase(),
      channel_id: CHANNEL,
      team_id: fake.team.id,
      response_url: responseUrl,
      trigger_id: '123.456.abc',
    }).toString();
    const res = await fetch(`${base}/slack/events`, { method: 'POST', headers: signed(body), body });
    return { res, responseUrl };
  };
  const click = async (user: string, actionId: string, value: string) => {
    const responseUrl = fake.responseUrl(`click-${Math.random()}`);
    const payload = {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), team_id: fake.team.id },
      team: { id: fake.team.id, domain: 'test' },
      channel: { id: CHANNEL, name: 'incidents' },
      container: { type: 'message', channel_id: CHANNEL, message_ts: '1.1' },
      trigger_id: '123.456.abc',
      response_url: responseUrl,
      actions: [
        { type: 'button', action_id: actionId, block_id: 'b', value, action_ts: `${Date.now() / 1000}` },
      ],
    };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const res = await fetch(`${base}/slack/events`, { method: 'POST', headers: signed(body), body });
    return { res, responseUrl };
  };
  const responsesTo = async (url: string) => {
    const id = new URL(url).pathname.split('/').pop()!;
    for (let i = 0; i < 100 && fake.responses(id).length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    return fake.responses(id).map((r) => JSON.stringify(r.body));
  };
  const rootMessages = () => fake.messages(CHANNEL).filter((m) => !m.thread_ts || m.thread_ts === m.ts);

  beforeEach(async () => {
    fake = await startFakeSlackApi();
    server = await boot(fake);
    base = `http://127.0.0.1:${server.port}`;
  });
  afterEach(async () => {
    await server.close();
    await fake.close();
  });

  it('an alert opens one thread; 500 repeats fold into it with the right count and few updates', async () => {
    const first = await postAlerts(alert());
    expect(first.status).toBe(202);
    const { incidents } = (await first.json()) as { incidents: { id: string; status: string }[] };
    const id = incidents[0]!.id;
    for (let batch = 0; batch < 5; batch++) {
      const res = await postAlerts(Array.from({ length: 100 }, () => alert()));
      expect(res.status).toBe(202);
    }
    await server.slack.presenter.flush();
    const roots = rootMessages();
    expect(roots).toHaveLength(1);
    expect(roots[0]!.text).toContain(id);
    expect(JSON.stringify(roots[0]!.blocks)).toContain('501 alerts');
    // Coalesced: far fewer root updates than alerts.
    const rootUpdates = fake.callsTo('chat.update').filter((c) => c.body.ts === roots[0]!.ts);
    expect(rootUpdates.length).toBeGreaterThan(0);
    expect(rootUpdates.length).toBeLessThan(60);
    expect((await server.engine.get(id)).slack?.ts).toBe(roots[0]!.ts);
    // The triage step is posted in the thread.
    expect(fake.thread(CHANNEL, roots[0]!.ts).some((m) => m.text.includes('Triage'))).toBe(true);
  });

  it('rejects unsigned, wrongly signed and stale requests', async () => {
    const body = new URLSearchParams({ command: '/egress', text: 'help', user_id: 'U0AAA' }).toString();
    const unsigned = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(unsigned.status).toBe(401);
    const wrong = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: signed(body, { secret: 'nope' }),
      body,
    });
    expect(wrong.status).toBe(401);
    const stale = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: signed(body, { ageSeconds: 600 }),
      body,
    });
    expect(stale.status).toBe(401);
  });

  it('/egress help lists every subcommand; unknown subcommands get a helpful answer', async () => {
    const help = await slash('U0AAA', 'help');
    expect(help.res.status).toBe(200);
    const [helpText] = await responsesTo(help.responseUrl);
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
    const bad = await slash('U0AAA', 'frobnicate');
    expect((await responsesTo(bad.responseUrl))[0]).toContain('unknown subcommand');
  });

  it('/egress ack, note, status and close drive the incident; a non-responder is refused and recorded', async () => {
    const { incidents } = (await (await postAlerts(alert())).json()) as { incidents: { id: string }[] };
    const id = incidents[0]!.id;
    const refused = await slash('U0ZZZ', `ack ${id}`);
    expect((await responsesTo(refused.responseUrl))[0]).toContain('responder role');
    const acked = await slash('U0AAA', `ack ${id}`);
    expect((await responsesTo(acked.responseUrl))[0]).toContain(`You have command of ${id}`);
    await slash('U0AAA', `note ${id} proxy logs show 2 GB out <!channel>`);
    const status = await slash('U0BBB', `status ${id}`);
    expect((await responsesTo(status.responseUrl))[0]).toContain('acknowledged');
    await server.slack.presenter.flush();
    const events = await server.store.timeline.read(id);
    expect(events.find((e) => e.kind === 'refusal')?.actor).toBe('slack:U0ZZZ');
    expect(events.find((e) => e.kind === 'note')).toMatchObject({
      actor: 'slack:U0AAA',
      summary: 'proxy logs show 2 GB out <!channel>',
    });
    const root = rootMessages()[0]!;
    expect(JSON.stringify(fake.message(CHANNEL, root.ts)?.blocks)).toContain('acknowledged');
    expect(JSON.stringify(fake.message(CHANNEL, root.ts)?.blocks)).not.toContain('<!channel>');
  });

  it('a click from someone who is not a responder is refused ephemerally and recorded', async () => {
    const { incidents } = (await (await postAlerts(alert())).json()) as { incidents: { id: string }[] };
    const id = incidents[0]!.id;
    const { res, responseUrl } = await click('U0ZZZ', 'incident.ack', id);
    expect(res.status).toBe(200);
    expect((await responsesTo(responseUrl))[0]).toContain('responder role');
    const refusal = (await server.store.timeline.read(id)).find((e) => e.kind === 'refusal');
    expect(refusal?.actor).toBe('slack:U0ZZZ');
    expect((await server.engine.get(id)).status).toBe('open');
  });

  it('a :pushpin: on a thread message adds it to the timeline with its author and time', async () => {
    const { incidents } = (await (await postAlerts(alert())).json()) as { incidents: { id: string }[] };
    const id = incidents[0]!.id;
    await server.slack.presenter.flush();
    const root = rootMessages()[0]!;
    const ts = fake.addMessage({
      channel: CHANNEL,
      user: 'U0BBB',
      text: 'found the cron job that does it',
      thread_ts: root.ts,
    });
    const body = JSON.stringify({
      type: 'event_callback',
      team_id: fake.team.id,
      api_app_id: fake.bot.appId,
      event_id: 'Ev0PIN1',
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: 'reaction_added',
        user: 'U0AAA',
        reaction: 'pushpin',
        item: { type: 'message', channel: CHANNEL, ts },
        event_ts: ts,
      },
    });
    for (const retry of [0, 1]) {
      const headers: Record<string, string> = { ...signed(body, { contentType: 'application/json' }) };
      if (retry) headers['X-Slack-Retry-Num'] = '1';
      expect((await fetch(`${base}/slack/events`, { method: 'POST', headers, body })).status).toBe(200);
    }
    let notes: { actor: string; at: string; summary: string }[] = [];
    for (let i = 0; i < 50 && notes.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      notes = (await server.store.timeline.read(id)).filter((e) => e.kind === 'note');
    }
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({
      actor: 'slack:U0BBB',
      summary: ':pushpin: found the cron job that does it',
    });
    expect(notes[0]!.at).toBe(new Date(Math.round(Number(ts) * 1000)).toISOString());
  });
});

describe('a restart mid-incident with Redis', () => {
  it('keeps the incident and its thread working', async () => {
    const prefix = uniquePrefix('slack-restart');
    const fake = await startFakeSlackApi();
    // The store's key prefix is fixed in createStore; isolate by database-independent unique fingerprints instead.
    void prefix;
    let server = await boot(fake, { REDIS_URL: redisUrl() });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
        body: JSON.stringify(alert({ dst_name: `restart-${Date.now()}.example.net` })),
      });
      const id = ((await res.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
      await server.slack.presenter.flush();
      const rootTs = (await server.engine.get(id)).slack?.ts;
      expect(rootTs).toBeDefined();
      await server.close();

      server = await boot(fake, { REDIS_URL: redisUrl() });
      const again = await fetch(`http://127.0.0.1:${server.port}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
        body: JSON.stringify(alert({ dst_name: (await server.engine.get(id)).alert.destination.name })),
      });
      expect(((await again.json()) as { incidents: { id: string; status: string }[] }).incidents[0]).toEqual({
        id,
        status: 'folded',
      });
      await server.engine.acknowledge(id, 'slack:U0AAA');
      await server.slack.presenter.flush();
      const roots = fake.messages(CHANNEL).filter((m) => m.ts === rootTs);
      expect(roots).toHaveLength(1);
      expect(JSON.stringify(roots[0]!.blocks)).toContain('2 alerts');
      expect(JSON.stringify(roots[0]!.blocks)).toContain('acknowledged');
      await server.engine.close(id, 'slack:U0AAA', 'test done');
    } finally {
      await server.close();
      await fake.close();
      await deleteKeys(prefix);
    }
  });
});
