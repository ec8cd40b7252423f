import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import {
  createSlackGuard,
  type GuardVerdict,
  isAllowedResponseUrl,
  replayKey,
  SLACK_BODY_LIMIT,
  SLACK_REPLAY_TTL_MS,
  type SlackGuardOptions,
} from '../../../src/server/slack-guard.js';

const SECRET = 'unit-signing-secret';
const NOW = 1_800_000_000_000; // epoch ms, fixed
const FORM = 'application/x-www-form-urlencoded';

function sign(body: string, tsSec: number, secret = SECRET): Record<string, string> {
  const sig = createHmac('sha256', secret).update(`v0:${tsSec}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(tsSec), 'x-slack-signature': `v0=${sig}` };
}

/** A request as the guard sees it: a readable body with headers. */
function req(body: string | Buffer | Readable, headers: Record<string, string | string[]>): IncomingMessage {
  const stream = body instanceof Readable ? body : Readable.from([Buffer.from(body)]);
  return Object.assign(stream, { headers }) as unknown as IncomingMessage;
}

function harness(over: Partial<SlackGuardOptions> = {}) {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const claimed = new Map<string, number>();
  const calls: [string, number][] = [];
  const claim = async (key: string, ttlMs: number) => {
    calls.push([key, ttlMs]);
    if (claimed.has(key)) return false;
    claimed.set(key, ttlMs);
    return true;
  };
  const guard = createSlackGuard({ signingSecret: SECRET, claim, now: () => NOW, log, ...over });
  return { guard, calls, claimed, lines };
}

const tsNow = Math.floor(NOW / 1000);

function slashBody(responseUrl = 'https://hooks.slack.com/commands/T1/1/abc'): string {
  return new URLSearchParams({
    command: '/egress',
    text: 'status',
    user_id: 'U0AAA',
    channel_id: 'C0INCIDENT',
    team_id: 'T1',
    response_url: responseUrl,
    trigger_id: '1.2.3',
  }).toString();
}

function signedSlash(body = slashBody(), ts = tsNow) {
  return req(body, { 'content-type': FORM, ...sign(body, ts) });
}

function refused(v: GuardVerdict): { status: number; reason: string } {
  if (v.ok) throw new Error('expected a refusal');
  return { status: v.status, reason: v.reason };
}

describe('createSlackGuard: signature and replay', () => {
  it('passes a correctly signed slash command with its exact bytes, claiming its signature for 6 minutes', async () => {
    const h = harness();
    const body = slashBody();
    const headers = sign(body, tsNow);
    const v = await h.guard(req(body, { 'content-type': FORM, ...headers }));
    expect(v).toEqual({ ok: true, rawBody: Buffer.from(body) });
    const sigHash = createHash('sha256').update(headers['x-slack-signature']!).digest('hex');
    expect(h.calls).toEqual([[`slack:request:${sigHash}`, SLACK_REPLAY_TTL_MS]]);
    expect(replayKey(headers['x-slack-signature']!)).toBe(`slack:request:${sigHash}`);
    expect(SLACK_REPLAY_TTL_MS).toBeGreaterThan(5 * 60_000);
    expect(h.lines).toEqual([]);
  });

  it('refuses a byte-for-byte replay with 409 and one log line', async () => {
    const h = harness();
    const body = slashBody();
    const headers = { 'content-type': FORM, ...sign(body, tsNow) };
    expect((await h.guard(req(body, headers))).ok).toBe(true);
    expect(refused(await h.guard(req(body, headers)))).toEqual({ status: 409, reason: 'replayed' });
    expect(h.lines).toHaveLength(1);
    expect(h.lines[0]).toMatchObject({ reason: 'replayed', status: 409, msg: 'slack request refused' });
  });

  it("lets Slack's retry through: same body, new timestamp and signature, X-Slack-Retry-Num", async () => {
    const h = harness();
    const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: { type: 'app_mention' } });
    const json = { 'content-type': 'application/json' };
    expect((await h.guard(req(body, { ...json, ...sign(body, tsNow - 10) }))).ok).toBe(true);
    const retry = {
      ...json,
      ...sign(body, tsNow),
      'x-slack-retry-num': '1',
      'x-slack-retry-reason': 'http_timeout',
    };
    expect((await h.guard(req(body, retry))).ok).toBe(true);
    expect(h.calls).toHaveLength(2);
  });

  it.each([
    ['no signature', { 'x-slack-request-timestamp': String(tsNow) }, 'signature_missing'],
    ['no timestamp', { 'x-slack-signature': `v0=${'a'.repeat(64)}` }, 'signature_missing'],
    ['a wrong secret', sign(slashBody(), tsNow, 'another-secret'), 'signature_mismatch'],
    [
      'an unknown version',
      { ...sign(slashBody(), tsNow), 'x-slack-signature': `v1=${'a'.repeat(64)}` },
      'signature_malformed',
    ],
    ['a short hash', { ...sign(slashBody(), tsNow), 'x-slack-signature': 'v0=abc' }, 'signature_malformed'],
    [
      'a non-numeric timestamp',
      { ...sign(slashBody(), tsNow), 'x-slack-request-timestamp': 'soon' },
      'timestamp_invalid',
    ],
    [
      'a padded timestamp',
      { ...sign(slashBody(), tsNow), 'x-slack-request-timestamp': `0${tsNow}` },
      'timestamp_invalid',
    ],
    [
      'a repeated signature header',
      { ...sign(slashBody(), tsNow), 'x-slack-signature': ['v0=a', 'v0=b'] },
      'signature_missing',
    ],
  ])('refuses %s with 401 and claims nothing', async (_name, headers, reason) => {
    const h = harness();
    const v = await h.guard(req(slashBody(), { 'content-type': FORM, ...headers }));
    expect(refused(v)).toEqual({ status: 401, reason });
    expect(h.calls).toEqual([]);
    expect(h.lines).toHaveLength(1);
  });

  it('refuses a body that was changed after signing', async () => {
    const h = harness();
    const headers = sign(slashBody(), tsNow);
    const v = await h.guard(
      req(slashBody().replace('status', 'close'), { 'content-type': FORM, ...headers }),
    );
    expect(refused(v)).toEqual({ status: 401, reason: 'signature_mismatch' });
  });

  it('refuses timestamps older than 5 minutes and more than 60 s ahead; accepts the range between', async () => {
    const h = harness();
    const at = async (ts: number) => h.guard(signedSlash(slashBody(), ts));
    expect(refused(await at(tsNow - 5 * 60 - 1))).toEqual({ status: 401, reason: 'timestamp_stale' });
    expect(refused(await at(tsNow + 61))).toEqual({ status: 401, reason: 'timestamp_future' });
    expect(refused(await at(tsNow + 3600))).toEqual({ status: 401, reason: 'timestamp_future' });
    expect((await at(tsNow - 4 * 60)).ok).toBe(true);
    expect((await at(tsNow + 59)).ok).toBe(true);
    expect(h.calls).toHaveLength(2);
    expect(h.lines.map((l) => l.reason)).toEqual(['timestamp_stale', 'timestamp_future', 'timestamp_future']);
  });

  it('answers 503 (fail closed) when the shared replay cache cannot be reached', async () => {
    const h = harness({
      claim: async () => {
        throw new Error('store unreachable');
      },
    });
    expect(refused(await h.guard(signedSlash()))).toEqual({
      status: 503,
      reason: 'replay_cache_unavailable',
    });
    expect(h.lines).toHaveLength(1);
  });

  it('never logs the signature, the secret or the body', async () => {
    const h = harness();
    const body = slashBody('https://evil.example/steal?token=xoxb-leaked');
    const headers: Record<string, string> = {
      'content-type': FORM,
      ...sign(body, tsNow),
      authorization: 'Bearer hunter2',
    };
    await h.guard(req(body, headers));
    await h.guard(req(body, { ...headers, 'x-slack-signature': `v0=${'0'.repeat(64)}` }));
    const text = JSON.stringify(h.lines);
    expect(h.lines).toHaveLength(2);
    for (const secret of [
      SECRET,
      headers['x-slack-signature']!.slice(3),
      'xoxb-leaked',
      'hunter2',
      'C0INCIDENT',
      'U0AAA',
    ])
      expect(text).not.toContain(secret);
  });

  it("passes Slack's unsigned ssl_check with nothing but the flag", async () => {
    const h = harness();
    const v = await h.guard(req('ssl_check=1&token=x&command=%2Fegress', { 'content-type': FORM }));
    expect(v).toEqual({ ok: true, rawBody: Buffer.from('ssl_check=1') });
    expect(h.calls).toEqual([]);
  });
});

describe('createSlackGuard: response_url', () => {
  const payloadBody = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const signedForm = (body: string) => req(body, { 'content-type': FORM, ...sign(body, tsNow) });

  it.each([
    'https://evil.example/hook',
    'http://hooks.slack.com/commands/1',
    'https://hooks.slack.com.evil.example/x',
    'https://evilslack.com/x',
    'https://user:pw@hooks.slack.com/x',
    'https://hooks.slack.com:8443/x',
    'http://127.0.0.1:9/respond/x',
    'not a url',
  ])('refuses a signed slash command answering to %s with 400, before the replay claim', async (url) => {
    const h = harness();
    expect(refused(await h.guard(signedSlash(slashBody(url))))).toEqual({
      status: 400,
      reason: 'response_url_not_slack',
    });
    expect(h.calls).toEqual([]);
    expect(h.lines).toHaveLength(1);
  });

  it('refuses an interaction payload whose response_url is not Slack', async () => {
    const h = harness();
    const payload = {
      type: 'block_actions',
      user: { id: 'U0AAA' },
      response_url: 'https://attacker.example/collect',
      actions: [{ action_id: 'approve', value: 'EGR-1' }],
    };
    expect(refused(await h.guard(signedForm(payloadBody(payload))))).toEqual({
      status: 400,
      reason: 'response_url_not_slack',
    });
  });

  it('refuses a view submission with a foreign entry in response_urls', async () => {
    const h = harness();
    const payload = {
      type: 'view_submission',
      response_urls: [
        { response_url: 'https://hooks.slack.com/app/T1/1/ok', channel_id: 'C1' },
        { response_url: 'https://attacker.example/collect', channel_id: 'C2' },
      ],
    };
    expect(refused(await h.guard(signedForm(payloadBody(payload))))).toMatchObject({ status: 400 });
  });

  it('refuses two response_url fields, or a payload that is not JSON, with 400', async () => {
    const h = harness();
    const twice = `${slashBody()}&response_url=${encodeURIComponent('https://evil.example/')}`;
    expect(refused(await h.guard(signedForm(twice)))).toEqual({
      status: 400,
      reason: 'response_url_not_slack',
    });
    expect(refused(await h.guard(signedForm('payload=%7Bnot-json')))).toEqual({
      status: 400,
      reason: 'body_malformed',
    });
  });

  it('passes Slack hosts and an exact extra origin (a local fake of the Slack API)', async () => {
    const h = harness({ allowedResponseHosts: ['http://127.0.0.1:4567'] });
    for (const url of [
      'https://hooks.slack.com/commands/T1/1/abc',
      'https://hooks.slack.com/app/T1/1/abc',
      'https://acme.enterprise.slack.com/x',
      'http://127.0.0.1:4567/respond/cmd-1',
    ])
      expect((await h.guard(signedSlash(slashBody(url)))).ok).toBe(true);
    expect(
      refused(await h.guard(signedSlash(slashBody('http://127.0.0.1:4568/respond/cmd-1')))),
    ).toMatchObject({
      status: 400,
    });
    const payload = { type: 'block_actions', response_url: 'http://127.0.0.1:4567/respond/click-1' };
    expect((await h.guard(signedForm(payloadBody(payload)))).ok).toBe(true);
  });

  it('isAllowedResponseUrl: origins match exactly, bare host names only over https', () => {
    expect(isAllowedResponseUrl('https://hooks.slack-gov.com/x', ['hooks.slack-gov.com'])).toBe(true);
    expect(isAllowedResponseUrl('http://hooks.slack-gov.com/x', ['hooks.slack-gov.com'])).toBe(false);
    expect(isAllowedResponseUrl('http://127.0.0.1:4567/x', ['http://127.0.0.1:4567'])).toBe(true);
    expect(isAllowedResponseUrl('https://127.0.0.1:4567/x', ['http://127.0.0.1:4567'])).toBe(false);
    expect(isAllowedResponseUrl('http://localhost:4567/x', ['http://127.0.0.1:4567'])).toBe(false);
    expect(isAllowedResponseUrl('https://slack.com.evil.example/', [])).toBe(false);
    expect(isAllowedResponseUrl('https://x.slack.com/', ['::not a url'])).toBe(true);
  });
});

describe('createSlackGuard: body', () => {
  it('answers 413 for a declared length over the limit without reading it', async () => {
    const h = harness();
    let pulled = 0;
    const body = Readable.from(
      (function* () {
        for (;;) {
          pulled++;
          yield Buffer.alloc(1024);
          if (pulled > 10) return;
        }
      })(),
    );
    const v = await h.guard(
      req(body, { 'content-type': FORM, 'content-length': String(SLACK_BODY_LIMIT + 1), ...sign('', tsNow) }),
    );
    expect(refused(v)).toEqual({ status: 413, reason: 'body_too_large' });
    expect(h.calls).toEqual([]);
  });

  it('answers 413 for a streamed body as soon as it passes the limit, without buffering the rest', async () => {
    const h = harness({ bodyLimit: 64 * 1024 });
    let pulled = 0;
    const total = 4096; // 64 MiB in 16 KiB chunks
    const body = Readable.from(
      (async function* () {
        for (; pulled < total; ) {
          pulled++;
          await new Promise((r) => setImmediate(r)); // a client sending over time
          yield Buffer.alloc(16 * 1024, 0x61);
        }
      })(),
    );
    const v = await h.guard(req(body, { 'content-type': FORM, ...sign('', tsNow) }));
    expect(refused(v)).toEqual({ status: 413, reason: 'body_too_large' });
    expect(pulled).toBeLessThan(total / 10);
    body.destroy();
  });

  it('answers 400 for a body stream that fails mid-way', async () => {
    const h = harness();
    const body = new Readable({ read() {} });
    body.push('command=%2Fegress&te');
    setTimeout(() => body.destroy(new Error('aborted')), 5);
    const v = await h.guard(req(body, { 'content-type': FORM, ...sign('', tsNow) }));
    expect(refused(v)).toEqual({ status: 400, reason: 'body_aborted' });
    expect(h.lines).toHaveLength(1);
  });
});
