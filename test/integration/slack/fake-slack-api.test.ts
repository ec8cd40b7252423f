// The fake Slack Web API, driven by the real @slack/web-api WebClient (what Bolt uses).
import {
  ErrorCode,
  LogLevel,
  type WebAPIPlatformError,
  type WebAPIRateLimitedError,
  WebClient,
  type WebClientOptions,
} from '@slack/web-api';
import { incidentView, renderIncidentRoot } from '../../../src/slack/blocks/index.js';
import { anIncident } from '../../builders/incident.js';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';

const TOKEN = 'xoxb-test-token';
const CHANNEL = 'C0INCIDENT';

let fake: FakeSlackApi;

function client(opts: WebClientOptions = {}, token: string | null = TOKEN): WebClient {
  return new WebClient(token ?? undefined, {
    slackApiUrl: fake.url,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
    ...opts,
  });
}

beforeEach(async () => {
  fake = await startFakeSlackApi({
    usergroups: { S0RESPOND: ['U0AAA', 'U0BBB'] },
    users: [{ id: 'U0AAA', name: 'alice', real_name: 'Alice A.' }],
    channels: [{ id: CHANNEL, name: 'egress-incidents' }],
  });
});

afterEach(async () => {
  await fake.close();
});

describe('fake Slack Web API through the real WebClient', () => {
  it('serves on 127.0.0.1 with a slackApiUrl ending in /api/', () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it('answers auth.test with the bot identity', async () => {
    const res = await client().auth.test();
    expect(res).toMatchObject({
      ok: true,
      user_id: fake.bot.userId,
      bot_id: fake.bot.botId,
      team_id: fake.team.id,
    });
    expect(fake.callsTo('auth.test')[0]?.token).toBe(TOKEN);
  });

  it('records chat.postMessage with the blocks parsed back from the form encoding', async () => {
    const msg = renderIncidentRoot(incidentView(anIncident()));
    const web = client();
    const res = await web.chat.postMessage({ channel: CHANNEL, ...msg });
    expect(res.ok).toBe(true);
    expect(res.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(res.channel).toBe(CHANNEL);
    expect(res.message?.bot_id).toBe(fake.bot.botId);

    const call = fake.lastCall('chat.postMessage');
    expect(call?.contentType).toBe('application/x-www-form-urlencoded');
    expect(call?.body.channel).toBe(CHANNEL);
    expect(call?.body.text).toBe(msg.text);
    expect(call?.body.blocks).toEqual(msg.blocks); // an array again, not a JSON string
  });

  it('gives unique increasing ts and threads replies under their parent', async () => {
    const web = client();
    const root = await web.chat.postMessage({ channel: CHANNEL, text: 'root' });
    const replies = [];
    for (let i = 0; i < 5; i++) {
      replies.push(
        await web.chat.postMessage({ channel: CHANNEL, text: `reply ${i}`, thread_ts: root.ts as string }),
      );
    }
    const all = [root.ts, ...replies.map((r) => r.ts)] as string[];
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort((a, b) => Number(a) - Number(b))).toEqual(all);

    const thread = await web.conversations.replies({ channel: CHANNEL, ts: root.ts as string });
    expect(thread.messages?.map((m) => m.text)).toEqual([
      'root',
      'reply 0',
      'reply 1',
      'reply 2',
      'reply 3',
      'reply 4',
    ]);
    expect(thread.messages?.[0]?.reply_count).toBe(5);

    const history = await web.conversations.history({ channel: CHANNEL });
    expect(history.messages?.map((m) => m.text)).toEqual(['root']); // top level only, newest first

    const missing = web.conversations.replies({ channel: CHANNEL, ts: '1.000000' });
    await expect(missing).rejects.toMatchObject({ data: { error: 'thread_not_found' } });
  });

  it('pages conversations.history with cursors', async () => {
    const web = client();
    for (let i = 0; i < 5; i++) await web.chat.postMessage({ channel: CHANNEL, text: `m${i}` });
    const first = await web.conversations.history({ channel: CHANNEL, limit: 2 });
    expect(first.messages?.map((m) => m.text)).toEqual(['m4', 'm3']);
    expect(first.has_more).toBe(true);
    const second = await web.conversations.history({
      channel: CHANNEL,
      limit: 2,
      cursor: first.response_metadata?.next_cursor as string,
    });
    expect(second.messages?.map((m) => m.text)).toEqual(['m2', 'm1']);
  });

  it('updates a message in place (chat.update) and answers message_not_found for unknown ts', async () => {
    const web = client();
    const open = renderIncidentRoot(incidentView(anIncident()));
    const root = await web.chat.postMessage({ channel: CHANNEL, ...open });
    const folded = renderIncidentRoot(incidentView(anIncident({ count: 51 })));
    const res = await web.chat.update({ channel: CHANNEL, ts: root.ts as string, ...folded });
    expect(res).toMatchObject({ ok: true, channel: CHANNEL, ts: root.ts });
    expect(fake.lastCall('chat.update')?.body.blocks).toEqual(folded.blocks);
    expect(fake.message(CHANNEL, root.ts as string)?.blocks).toEqual(folded.blocks);
    expect(fake.message(CHANNEL, root.ts as string)?.edited?.user).toBe(fake.bot.userId);
    expect(fake.messages(CHANNEL)).toHaveLength(1);

    await expect(web.chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'message_not_found' },
    });
  });

  it('records ephemerals, permalinks, conversations.info, users and user groups', async () => {
    const web = client();
    const eph = await web.chat.postEphemeral({ channel: CHANNEL, user: 'U0AAA', text: 'only you' });
    expect(eph.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.ephemerals).toEqual([
      expect.objectContaining({
        channel: CHANNEL,
        user: 'U0AAA',
        text: 'only you',
        message_ts: eph.message_ts,
      }),
    ]);
    expect(fake.messages(CHANNEL)).toHaveLength(0);

    const root = await web.chat.postMessage({ channel: CHANNEL, text: 'root' });
    const reply = await web.chat.postMessage({ channel: CHANNEL, text: 'r', thread_ts: root.ts as string });
    const link = await web.chat.getPermalink({ channel: CHANNEL, message_ts: reply.ts as string });
    expect(link.permalink).toBe(
      `https://fake-team.slack.com/archives/${CHANNEL}/p${(reply.ts as string).replace('.', '')}?thread_ts=${root.ts}&cid=${CHANNEL}`,
    );

    const info = await web.conversations.info({ channel: CHANNEL });
    expect(info.channel).toMatchObject({ id: CHANNEL, name: 'egress-incidents', is_member: true });
    await expect(web.conversations.info({ channel: 'nope' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });

    const group = await web.usergroups.users.list({ usergroup: 'S0RESPOND' });
    expect(group.users).toEqual(['U0AAA', 'U0BBB']);
    fake.setUsergroupUsers('S0RESPOND', ['U0CCC']);
    expect((await web.usergroups.users.list({ usergroup: 'S0RESPOND' })).users).toEqual(['U0CCC']);
    await expect(web.usergroups.users.list({ usergroup: 'S0NONE' })).rejects.toMatchObject({
      data: { error: 'no_such_subteam' },
    });

    const alice = await web.users.info({ user: 'U0AAA' });
    expect(alice.user).toMatchObject({ id: 'U0AAA', name: 'alice', real_name: 'Alice A.', is_bot: false });
  });

  it('shows reactions (a :pushpin: by a person) on reactions.get', async () => {
    const web = client();
    const root = await web.chat.postMessage({ channel: CHANNEL, text: 'root' });
    const said = fake.addMessage({
      channel: CHANNEL,
      user: 'U0AAA',
      text: 'saw it at 14:02',
      thread_ts: root.ts as string,
    });
    fake.react(CHANNEL, said, 'pushpin', 'U0BBB');
    const res = await web.reactions.get({ channel: CHANNEL, timestamp: said });
    expect(res.message).toMatchObject({
      user: 'U0AAA',
      text: 'saw it at 14:02',
      thread_ts: root.ts,
      reactions: [{ name: 'pushpin', users: ['U0BBB'], count: 1 }],
    });
  });

  it('rejects invalid blocks like Slack (invalid_blocks with json pointers)', async () => {
    const web = client();
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }];
    await expect(web.chat.postMessage({ channel: CHANNEL, text: 'x', blocks })).rejects.toMatchObject({
      data: {
        error: 'invalid_blocks',
        errors: [expect.stringContaining('[json-pointer:/blocks/0/text/text]')],
      },
    });
  });

  it('surfaces a 429 as WebAPIRateLimitedError with retryAfter (rejectRateLimitedCalls)', async () => {
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 7 });
    const web = client({ rejectRateLimitedCalls: true });
    const err = await web.chat.postMessage({ channel: CHANNEL, text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as WebAPIRateLimitedError).code).toBe(ErrorCode.RateLimitedError);
    expect((err as WebAPIRateLimitedError).retryAfter).toBe(7);
    // Only the next call was limited.
    await expect(web.chat.postMessage({ channel: CHANNEL, text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(2);
  });

  it('lets a WebClient that retries honour Retry-After and succeed', async () => {
    fake.rateLimit('chat.update', { times: 1, retryAfterSeconds: 0 });
    const web = client({ retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    const root = await web.chat.postMessage({ channel: CHANNEL, text: 'root' });
    await expect(
      web.chat.update({ channel: CHANNEL, ts: root.ts as string, text: 'v2' }),
    ).resolves.toMatchObject({
      ok: true,
    });
    expect(fake.callsTo('chat.update')).toHaveLength(2);
  });

  it('injects {ok:false} failures and delays', async () => {
    fake.fail('chat.postMessage', 'channel_is_archived', 2);
    const web = client();
    for (let i = 0; i < 2; i++) {
      const err = await web.chat.postMessage({ channel: CHANNEL, text: 'x' }).catch((e: unknown) => e);
      expect((err as WebAPIPlatformError).code).toBe(ErrorCode.PlatformError);
      expect((err as WebAPIPlatformError).data.error).toBe('channel_is_archived');
    }
    await expect(web.chat.postMessage({ channel: CHANNEL, text: 'x' })).resolves.toMatchObject({ ok: true });

    fake.delay('auth.test', 150, 1);
    const started = Date.now();
    await web.auth.test();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const quick = Date.now();
    await web.auth.test();
    expect(Date.now() - quick).toBeLessThan(140);
  });

  it('answers not_authed without a token and invalid_auth for a wrong one', async () => {
    const anonymous = client({}, null);
    await expect(anonymous.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(client({}, 'xapp-not-a-bot-token').auth.test()).rejects.toMatchObject({
      data: { error: 'invalid_auth' },
    });
    expect(fake.callsTo('auth.test')).toHaveLength(2);
  });

  it('round-trips files.uploadV2 through the upload URL it serves', async () => {
    const web = client();
    const root = await web.chat.postMessage({ channel: CHANNEL, text: 'root' });
    const markdown = '# Timeline of inc-20261125-0001\n\n- 14:03:12Z alert received\n';
    const res = await web.files.uploadV2({
      channel_id: CHANNEL,
      thread_ts: root.ts as string,
      filename: 'inc-20261125-0001.md',
      title: 'Timeline',
      content: markdown,
      initial_comment: 'Timeline export',
    });
    expect(res.ok).toBe(true);
    expect(fake.callsTo('files.getUploadURLExternal')[0]?.body).toMatchObject({
      filename: 'inc-20261125-0001.md',
      length: String(Buffer.byteLength(markdown)),
    });
    const [upload] = [...fake.uploads.values()];
    expect(upload?.content?.toString('utf8')).toBe(markdown);
    expect(upload).toMatchObject({ completed: true, title: 'Timeline', channel: CHANNEL, threadTs: root.ts });
    const complete = fake.lastCall('files.completeUploadExternal');
    expect(complete?.body.files).toEqual([
      expect.objectContaining({ id: upload?.fileId, title: 'Timeline' }),
    ]);
    // The file lands in the thread.
    const thread = fake.thread(CHANNEL, root.ts as string);
    expect(thread.at(-1)).toMatchObject({ text: 'Timeline export', files: [{ id: upload?.fileId }] });
  });

  it('opens and updates views (hash checked)', async () => {
    const web = client();
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'Break glass' },
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'why?' } }],
    };
    const opened = await web.views.open({ trigger_id: '123.456.abc', view });
    expect(opened.view?.id).toMatch(/^V/);
    expect(fake.lastCall('views.open')?.body.view).toEqual(view);
    const id = opened.view?.id as string;
    const updated = await web.views.update({ view_id: id, hash: opened.view?.hash as string, view });
    expect(updated.view?.hash).not.toBe(opened.view?.hash);
    await expect(
      web.views.update({ view_id: id, hash: opened.view?.hash as string, view }),
    ).rejects.toMatchObject({ data: { error: 'hash_conflict' } });
  });

  it('opens Socket Mode connections only with an app-level (xapp-) token', async () => {
    await expect(client().apiCall('apps.connections.open')).rejects.toMatchObject({
      data: { error: 'invalid_auth' },
    });
  });

  it('answers unknown_method for methods it does not fake', async () => {
    await expect(client().apiCall('admin.users.list')).rejects.toMatchObject({
      data: { error: 'unknown_method' },
    });
  });

  it('accepts JSON bodies (Authorization header) as well', async () => {
    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: CHANNEL, text: 'json', blocks: [{ type: 'divider' }] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: CHANNEL });
    expect(fake.lastCall('chat.postMessage')?.body).toMatchObject({
      text: 'json',
      blocks: [{ type: 'divider' }],
    });
  });

  it('records what is posted to a response_url sink', async () => {
    const url = fake.responseUrl('cmd-1');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'hello' }),
    });
    expect(res.status).toBe(200);
    expect(fake.responses('cmd-1')).toEqual([
      expect.objectContaining({ id: 'cmd-1', body: { response_type: 'ephemeral', text: 'hello' } }),
    ]);
    fake.failResponseUrl('cmd-1', 500);
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(500);
    expect(fake.responses('cmd-1')).toHaveLength(2);
  });

  it('waits for calls that happen after an ack', async () => {
    const web = client();
    const waiting = fake.waitForCalls('chat.postMessage', 2, 2000);
    setTimeout(() => {
      void web.chat.postMessage({ channel: CHANNEL, text: 'a' });
      void web.chat.postMessage({ channel: CHANNEL, text: 'b' });
    }, 20);
    await expect(waiting).resolves.toHaveLength(2);
    await expect(fake.waitForCalls('chat.delete', 1, 50)).rejects.toThrow(/waited 50 ms/);
  });
});
