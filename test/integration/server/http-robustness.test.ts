import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type RequestListener, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, HTTPReceiver, HTTPReceiverDeferredRequestError, LogLevel } from '@slack/bolt';
import { transformFileSync } from '@swc/core';
import { pino } from 'pino';
import { packageRoot } from '../../../src/config/paths.js';
import { systemClock } from '../../../src/observability/clock.js';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.js';
import type { AlertsEndpoint } from '../../../src/server/alerts.js';
import { createHttpServer } from '../../../src/server/http.js';
import {
  FATAL_EXIT_CODE,
  type GuardedProcess,
  installProcessGuards,
} from '../../../src/server/process-guard.js';
import { createSlackGuard, SLACK_BODY_LIMIT } from '../../../src/server/slack-guard.js';
import { createMemoryStore } from '../../../src/store/memory.js';

// A real server on port 0, real Bolt behind it, and requests nobody should send. Whatever arrives,
// the process stays up, answers 4xx/5xx, and writes one log line without secrets.

const SECRET = 'robustness-signing-secret';
const ALERT_TOKEN = 'robustness-alert-token';
const FORM = 'application/x-www-form-urlencoded';
const FAKE_SLACK_ORIGIN = 'http://127.0.0.1:9'; // where a local fake of Slack would answer

type Line = Record<string, unknown>;

function sign(body: string, opts: { ts?: number; secret?: string } = {}): Record<string, string> {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', opts.secret ?? SECRET)
    .update(`v0:${ts}:${body}`)
    .digest('hex');
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${sig}` };
}

function slashBody(over: Record<string, string> = {}): string {
  return new URLSearchParams({
    command: '/egress',
    text: 'status',
    user_id: 'U0AAA',
    channel_id: 'C0INCIDENT',
    team_id: 'T0TEAM',
    response_url: `${FAKE_SLACK_ORIGIN}/respond/cmd-${Math.random()}`,
    trigger_id: '1.2.3',
    ...over,
  }).toString();
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** False when the connection was cut before the response ended. */
  complete: boolean;
}

/** One request with the path exactly as given (no normalisation of `..`, unlike fetch). */
function send(
  port: number,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path, headers: o.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            complete: res.complete,
          });
        res.on('end', done);
        res.on('error', done);
        res.on('aborted', done);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Raw bytes on a socket; what came back (possibly nothing) once the server closed or `waitMs` passed. */
function raw(port: number, data: string | Buffer, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = connect(port, '127.0.0.1', () => sock.write(data));
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(finish, waitMs);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', finish);
    sock.on('error', () => undefined);
  });
}

const silentBolt = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.INFO,
  setName: () => undefined,
};

interface Booted {
  server: Server;
  port: number;
  lines: Line[];
  boltLines: string[];
  calls: { command: number; action: number; event: number };
  close(): Promise<void>;
}

/** The HTTP server as main.ts builds it: real Bolt HTTPReceiver + App, the guard, a memory store. */
async function boot(
  opts: { guard?: boolean; slack?: RequestListener; metrics?: Metrics; bodyLimit?: number } = {},
): Promise<Booted> {
  const lines: Line[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
  const boltLines: string[] = [];
  const keep = (...m: unknown[]) => {
    boltLines.push(m.join(' '));
  };
  const boltLog = { ...silentBolt, warn: keep, error: keep };
  const store = createMemoryStore();
  const receiver = new HTTPReceiver({
    signingSecret: SECRET,
    endpoints: '/slack/events',
    logger: boltLog,
    unhandledRequestTimeoutMillis: 3001,
  });
  const app = new App({
    token: 'xoxb-test-token',
    tokenVerificationEnabled: false,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    logger: boltLog,
    receiver,
  });
  const calls = { command: 0, action: 0, event: 0 };
  app.command('/egress', async ({ ack }) => {
    calls.command++;
    await ack();
  });
  app.action(/.*/, async ({ ack }) => {
    calls.action++;
    await ack();
  });
  app.event('app_mention', async () => {
    calls.event++;
  });
  const server = createHttpServer({
    // Only the token check is ever reached: no request here carries the alert token.
    alerts: {
      token: ALERT_TOKEN,
      parse: {},
      log,
      storeTimeoutMs: 2000,
      now: Date.now,
    } as unknown as AlertsEndpoint,
    store,
    clock: systemClock,
    log,
    metrics: opts.metrics ?? createMetrics(),
    slack: opts.slack ?? receiver.requestListener,
    ...(opts.guard === false
      ? {}
      : {
          slackGuard: createSlackGuard({
            signingSecret: SECRET,
            claim: (key, ttlMs) => store.dedupe.claim(key, ttlMs),
            allowedResponseHosts: [FAKE_SLACK_ORIGIN],
            log,
            ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}),
          }),
        }),
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    lines,
    boltLines,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await store.close();
    },
  };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  for (let waited = 0; !cond() && waited < ms; waited += 10) await new Promise((r) => setTimeout(r, 10));
}

async function expectHealthy(port: number): Promise<void> {
  const res = await send(port, { path: '/healthz' });
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
}

const VERBS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'];
const PATHS = [
  '/slack/events',
  '/slack/events?ssl_check=0',
  '/slack/anything',
  '/slack/',
  '/slack',
  '/slack/install',
  '/slack/oauth_redirect',
  '/alerts',
  '/metrics',
  '/healthz',
  '/readyz',
  '/',
  '/slack/../alerts',
  '/slack/events/../events',
  '/slack/%2e%2e/metrics',
  '/slack/%2E%2E%2Fhealthz',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/..%2f..%2fetc/passwd',
  '//slack/events',
  '/slack//events',
  '/SLACK/EVENTS',
  '/slack/events%00',
  `/slack/${'a'.repeat(8000)}`,
  `/alerts?${'q'.repeat(8000)}`,
];

describe('HTTP server under hostile requests', () => {
  let b: Booted;
  beforeAll(async () => {
    b = await boot();
  });
  afterAll(() => b.close());

  it('answers every verb on every path with a status, never by dying; unknown paths 404, wrong verbs 405 + Allow', async () => {
    const ok = new Set([
      'GET /healthz',
      'HEAD /healthz',
      'GET /readyz',
      'HEAD /readyz',
      'GET /metrics',
      'HEAD /metrics',
    ]);
    for (const path of PATHS) {
      for (const method of VERBS) {
        const before = b.lines.length;
        const res = await send(b.port, {
          method,
          path,
          headers: { authorization: 'Bearer not-the-token', 'content-type': FORM },
          ...(method === 'GET' || method === 'HEAD' ? {} : { body: 'password=hunter2&token=xoxb-stolen' }),
        });
        const key = `${method} ${path}`;
        if (ok.has(key)) expect(res.status).toBe(200);
        else expect([key, res.status >= 400 && res.status < 500]).toEqual([key, true]);
        // One line for each refusal the server decides itself (the /alerts 401 is the endpoint's answer).
        if (
          res.status === 404 ||
          res.status === 405 ||
          (path.startsWith('/slack/events') && res.status === 401)
        )
          expect([key, b.lines.length - before]).toEqual([key, 1]);
      }
    }
    const at = async (method: string, path: string) => send(b.port, { method, path });
    for (const m of ['GET', 'PUT', 'DELETE', 'HEAD']) {
      const r = await at(m, '/slack/events');
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('POST');
    }
    expect((await at('POST', '/slack/anything')).status).toBe(404);
    expect((await at('GET', '/slack/install')).status).toBe(404);
    expect((await at('GET', '/alerts')).headers.allow).toBe('POST');
    expect((await at('POST', '/metrics')).headers.allow).toBe('GET, HEAD');
    expect((await at('GET', '/slack/../healthz')).status).toBe(404);
    expect((await at('GET', '/slack/%2e%2e/metrics')).status).toBe(404);
    expect((await at('POST', '/slack/events')).status).toBe(401);
    const text = JSON.stringify(b.lines);
    for (const secret of ['hunter2', 'xoxb-stolen', 'not-the-token']) expect(text).not.toContain(secret);
    expect(b.boltLines).toEqual([]); // Bolt saw none of it
    const metrics = (await send(b.port, { path: '/metrics' })).body;
    expect(metrics).toContain('egress_responder_http_refused_total{status="404",reason="not_found"}');
    expect(metrics).toContain(
      'egress_responder_http_refused_total{status="405",reason="method_not_allowed"}',
    );
    expect(metrics).toContain('egress_responder_slack_requests_refused_total{reason="signature_missing"}');
    await expectHealthy(b.port);
  }, 60_000);

  it('logs a refused request as one line with method, path and reason, never the request or its headers', async () => {
    const before = b.lines.length;
    const res = await send(b.port, {
      method: 'PUT',
      path: '/slack/events?token=xoxb-in-query',
      headers: { authorization: 'Bearer sekrit-value', cookie: 'session=abc' },
      body: 'x',
    });
    expect(res.status).toBe(405);
    const mine = b.lines.slice(before);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      method: 'PUT',
      path: '/slack/events',
      status: 405,
      reason: 'method_not_allowed',
    });
    expect(Object.keys(mine[0]!)).not.toEqual(expect.arrayContaining(['req', 'headers', 'res']));
    for (const s of ['sekrit-value', 'session=abc', 'xoxb-in-query'])
      expect(JSON.stringify(mine)).not.toContain(s);
  });

  it('refuses malformed framing the way Node does (400/431), one line each, and keeps serving', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'content-length not a number',
        'POST /alerts HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
        /^HTTP\/1\.1 400/,
      ],
      [
        'negative content-length',
        'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
        /^HTTP\/1\.1 400/,
      ],
      [
        'two different content-lengths',
        'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
        /^HTTP\/1\.1 400/,
      ],
      [
        'content-length with chunked',
        'POST /alerts HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        /^HTTP\/1\.1 400/,
      ],
      [
        'huge headers',
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`,
        /^HTTP\/1\.1 431/,
      ],
      ['a huge URL', `GET /slack/${'b'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, /^HTTP\/1\.1 431/],
      [
        'an invalid header name',
        'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
        /^HTTP\/1\.1 400/,
      ],
      ['an unknown method', 'FROB /healthz HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400/],
      ['binary garbage', '\x00\x01\x02\xff GARBAGE\r\n\r\n', /^HTTP\/1\.1 400/],
      ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', /^(HTTP\/1\.1 400|$)/],
      ['a CONNECT', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', /^HTTP\/1\.1 405/],
      [
        'an absolute-form URL',
        'GET http://evil.example/slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        /^HTTP\/1\.1 404/,
      ],
      ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 404/],
      [
        'a target of constructor',
        'GET constructor HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        /^HTTP\/1\.1 (404|400)/,
      ],
      [
        'a target of __proto__',
        'GET __proto__ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        /^HTTP\/1\.1 (404|400)/,
      ],
      [
        'a websocket upgrade',
        'GET /slack/events HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n',
        /^HTTP\/1\.1 405/,
      ],
      [
        'HTTP/1.0 without Host',
        'POST /slack/events HTTP/1.0\r\nContent-Length: 0\r\n\r\n',
        /^HTTP\/1\.1 401/,
      ],
    ];
    for (const [name, bytes, expected] of cases) {
      const before = b.lines.length;
      const got = await raw(b.port, bytes);
      expect([name, got.split('\r\n')[0]]).toEqual([name, expect.stringMatching(expected)]);
      expect([name, b.lines.length - before]).toEqual([name, 1]);
    }
    await expectHealthy(b.port);
  }, 30_000);

  it('handles a body that is aborted mid-way or has bad chunking, on /alerts and /slack/events', async () => {
    for (const path of ['/alerts', '/slack/events']) {
      const before = b.lines.length;
      const sock = connect(b.port, '127.0.0.1');
      sock.on('error', () => undefined);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nContent-Length: 100000\r\n\r\n`,
      );
      sock.write('command=%2Fegress&text=st');
      await new Promise((r) => setTimeout(r, 50));
      sock.destroy();
      await until(() => b.lines.length > before);
      await new Promise((r) => setTimeout(r, 50));
      const mine = b.lines.slice(before);
      expect([path, mine.length]).toEqual([path, 1]);
      expect(mine[0]).toMatchObject({ reason: 'body_aborted' });

      const badChunk = await raw(
        b.port,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n`,
      );
      expect(badChunk).toMatch(/^$|^HTTP\/1\.1 400/);
    }
    expect(b.calls).toEqual({ command: 0, action: 0, event: 0 });
    await expectHealthy(b.port);
  });

  it('answers 413 to a Slack body over the limit, declared or streamed, without waiting for all of it', async () => {
    const declared = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: b.port,
        method: 'POST',
        path: '/slack/events',
        agent: false,
        headers: { 'content-type': FORM, 'content-length': String(SLACK_BODY_LIMIT + 1), ...sign('') },
      });
      req.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders(); // and never send the body
    });
    expect(declared).toBe(413);

    const streamed = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: b.port,
        method: 'POST',
        path: '/slack/events',
        agent: false,
        headers: { 'content-type': FORM, 'transfer-encoding': 'chunked', ...sign('') },
      });
      let sent = 0;
      let answered = false;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      req.on('response', (res) => {
        answered = true;
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (err) => (answered ? undefined : reject(err)));
      const pump = () => {
        // Up to 4× the limit; the answer must come long before.
        while (!answered && sent < 4 * SLACK_BODY_LIMIT) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!answered) req.end();
      };
      pump();
    });
    expect(streamed).toBe(413);
    await expectHealthy(b.port);
  });

  it('survives 100 concurrent bad requests and still answers /healthz', async () => {
    const bad = Array.from({ length: 100 }, (_, i) => {
      const kind = i % 5;
      if (kind === 0) return send(b.port, { method: 'GET', path: '/slack/events' });
      if (kind === 1) return send(b.port, { method: 'POST', path: `/slack/x${i}`, body: 'junk' });
      if (kind === 2)
        return send(b.port, {
          method: 'POST',
          path: '/slack/events',
          headers: { 'content-type': FORM },
          body: slashBody(),
        });
      if (kind === 3) return send(b.port, { method: 'DELETE', path: '/metrics' });
      return raw(b.port, 'POST /alerts HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n').then((r) => ({
        status: Number(r.slice(9, 12)),
      }));
    });
    const statuses = (await Promise.all(bad)).map((r) => r.status);
    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
    expect(new Set(statuses)).toEqual(new Set([405, 404, 401, 400]));
    expect(b.calls.command).toBe(0);
    await expectHealthy(b.port);
  });
});

describe('Slack requests through the guard to Bolt', () => {
  let b: Booted;
  beforeAll(async () => {
    b = await boot();
  });
  afterAll(() => b.close());
  const post = (body: string, headers: Record<string, string>) =>
    send(b.port, { method: 'POST', path: '/slack/events', headers, body });

  it('a signed slash command reaches app.command exactly once; its replay is refused 409 and Bolt never sees it', async () => {
    const body = slashBody();
    const headers = { 'content-type': FORM, ...sign(body) };
    const first = await post(body, headers);
    expect(first.status).toBe(200);
    expect(b.calls.command).toBe(1);
    const before = b.lines.length;
    const replay = await post(body, headers);
    expect(replay.status).toBe(409);
    expect(b.lines.slice(before)).toEqual([expect.objectContaining({ reason: 'replayed', status: 409 })]);
    expect(b.calls.command).toBe(1);
    expect(b.boltLines).toEqual([]);
  });

  it("passes Slack's retry of an event (new timestamp and signature, X-Slack-Retry-Num)", async () => {
    const body = JSON.stringify({
      type: 'event_callback',
      team_id: 'T0TEAM',
      api_app_id: 'A0APP',
      event_id: 'Ev0RETRY',
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'app_mention', user: 'U0AAA', text: '<@U0BOT> hi', channel: 'C0INCIDENT', ts: '1.1' },
    });
    const json = { 'content-type': 'application/json' };
    const ts = Math.floor(Date.now() / 1000);
    expect((await post(body, { ...json, ...sign(body, { ts: ts - 5 }) })).status).toBe(200);
    const retry = await post(body, {
      ...json,
      ...sign(body, { ts }),
      'x-slack-retry-num': '1',
      'x-slack-retry-reason': 'http_timeout',
    });
    expect(retry.status).toBe(200);
    await until(() => b.calls.event >= 2);
    expect(b.calls.event).toBe(2); // deduplicating event_ids is the listeners' job (events.ts), not the guard's
  });

  it('refuses future (> 60 s), stale (> 5 min) and badly signed requests with 401, one line each, before Bolt', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Record<string, string>, string][] = [
      ['future', sign(slashBody(), { ts: now + 120 }), 'timestamp_future'],
      ['stale', sign(slashBody(), { ts: now - 301 }), 'timestamp_stale'],
      ['wrong secret', sign(slashBody(), { secret: 'not-ours' }), 'signature_mismatch'],
      ['unsigned', {}, 'signature_missing'],
    ];
    for (const [name, sig, reason] of cases) {
      const body = slashBody();
      // sign() above signed another slashBody(): re-sign this body for the timestamp cases
      const headers =
        name === 'future' || name === 'stale'
          ? sign(body, { ts: Number(sig['x-slack-request-timestamp']) })
          : name === 'wrong secret'
            ? sign(body, { secret: 'not-ours' })
            : {};
      const before = b.lines.length;
      const res = await post(body, { 'content-type': FORM, ...headers });
      expect([name, res.status]).toEqual([name, 401]);
      expect(b.lines.slice(before)).toEqual([expect.objectContaining({ reason })]);
    }
    expect(b.calls.command).toBe(1); // only the first test's command
    expect(b.boltLines).toEqual([]);
  });

  it('refuses a signed command or interaction whose response_url is not Slack with 400; the listener never runs', async () => {
    const commands = b.calls.command;
    const cmd = slashBody({ response_url: 'https://attacker.example/collect' });
    expect((await post(cmd, { 'content-type': FORM, ...sign(cmd) })).status).toBe(400);
    const payload = {
      type: 'block_actions',
      user: { id: 'U0AAA', team_id: 'T0TEAM' },
      team: { id: 'T0TEAM' },
      channel: { id: 'C0INCIDENT' },
      response_url: 'https://hooks.slack.com.attacker.example/x',
      trigger_id: '1.2.3',
      actions: [{ type: 'button', action_id: 'approve', block_id: 'b', value: 'EGR-1', action_ts: '1.1' }],
    };
    const click = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    expect((await post(click, { 'content-type': FORM, ...sign(click) })).status).toBe(400);
    expect(b.calls).toMatchObject({ command: commands, action: 0 });
    // The same click answering to the allowed origin goes through.
    const fine = `payload=${encodeURIComponent(JSON.stringify({ ...payload, response_url: `${FAKE_SLACK_ORIGIN}/respond/c1` }))}`;
    expect((await post(fine, { 'content-type': FORM, ...sign(fine) })).status).toBe(200);
    expect(b.calls.action).toBe(1);
  });

  it("answers Slack's url_verification and ssl_check through Bolt", async () => {
    const challenge = JSON.stringify({ type: 'url_verification', challenge: 'ch4llenge', token: 'x' });
    const v = await post(challenge, { 'content-type': 'application/json', ...sign(challenge) });
    expect(v.status).toBe(200);
    expect(JSON.parse(v.body)).toEqual({ challenge: 'ch4llenge' });
    expect((await post('ssl_check=1&token=x', { 'content-type': FORM })).status).toBe(200);
  });
});

describe('handlers that fail', () => {
  it('a handler that throws before answering gives a 500 and one line; one that throws after the headers has its connection cut', async () => {
    let mode: 'before' | 'after' | 'reject' | 'deferred' = 'before';
    const slack: RequestListener = (req, res) => {
      if (mode === 'deferred') throw new HTTPReceiverDeferredRequestError('Unhandled HTTP request', req, res);
      if (mode === 'reject') return Promise.reject(new Error('listener rejected')) as unknown as undefined;
      if (mode === 'after') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial answer');
      }
      throw new Error('boom');
    };
    const b = await boot({ guard: false, slack });
    try {
      const post = () =>
        send(b.port, {
          method: 'POST',
          path: '/slack/events',
          headers: { authorization: 'Bearer top-secret' },
          body: 'x',
        });
      let before = b.lines.length;
      expect((await post()).status).toBe(500);
      expect(b.lines.slice(before)).toEqual([
        expect.objectContaining({ msg: 'http request failed', path: '/slack/events' }),
      ]);

      mode = 'after';
      before = b.lines.length;
      const cut = await post();
      expect(cut.status).toBe(200);
      expect(cut.complete).toBe(false); // not a clean end a client could mistake for the whole answer
      expect(b.lines.slice(before)).toHaveLength(1);

      mode = 'reject';
      expect((await post()).status).toBe(500);

      // What crashed main: Bolt's "not mine" error, which carries the request and response objects.
      mode = 'deferred';
      before = b.lines.length;
      expect((await post()).status).toBe(404);
      const mine = b.lines.slice(before);
      expect(mine).toHaveLength(1);
      expect(JSON.stringify(mine)).not.toContain('top-secret');
      expect(JSON.stringify(mine).length).toBeLessThan(1000);
      await expectHealthy(b.port);
    } finally {
      await b.close();
    }
  });

  it('GET /metrics whose rendering throws is a clean 500, not an empty 200', async () => {
    // The real metrics, with a render that fails (a collector throwing, say).
    const real = createMetrics({ process: false });
    const metrics: Metrics = {
      ...real,
      contentType: real.contentType,
      render: () => Promise.reject(new Error('render failed')),
    };
    const b = await boot({ metrics });
    try {
      expect((await send(b.port, { path: '/metrics' })).status).toBe(500);
      await expectHealthy(b.port);
    } finally {
      await b.close();
    }
  });

  it('without a guard, a signed command still reaches Bolt (Bolt reads the body itself)', async () => {
    const b = await boot({ guard: false });
    try {
      const body = slashBody();
      const res = await send(b.port, {
        method: 'POST',
        path: '/slack/events',
        headers: { 'content-type': FORM, ...sign(body) },
        body,
      });
      expect(res.status).toBe(200);
      expect(b.calls.command).toBe(1);
    } finally {
      await b.close();
    }
  });
});

describe('installProcessGuards', () => {
  function fakeProcess() {
    const emitter = new EventEmitter();
    const exits: number[] = [];
    const proc = Object.assign(emitter, {
      exit: (code: number) => {
        exits.push(code);
        return undefined;
      },
    });
    return { proc: proc as unknown as GuardedProcess & EventEmitter, exits };
  }

  it('logs an unhandled rejection as one line without the error’s properties, and keeps running', () => {
    const lines: Line[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
    const { proc, exits } = fakeProcess();
    const uninstall = installProcessGuards(log, proc);
    const err = Object.assign(new Error('redis went away'), {
      code: 'ECONNREFUSED',
      config: { password: 'p4ssw0rd' },
      headers: { authorization: 'Bearer tok' },
    });
    proc.emit('unhandledRejection', err, Promise.resolve());
    proc.emit('unhandledRejection', 'xoxb-a-string-reason', Promise.resolve());
    expect(exits).toEqual([]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 50,
      kind: 'unhandledRejection',
      error: { type: 'Error', message: 'redis went away', code: 'ECONNREFUSED' },
    });
    expect(JSON.stringify(lines)).not.toMatch(/p4ssw0rd|Bearer tok|xoxb-a-string-reason/);
    uninstall();
    expect(proc.listenerCount('unhandledRejection')).toBe(0);
    expect(proc.listenerCount('uncaughtException')).toBe(0);
  });

  it('logs an uncaught exception as one fatal line and exits non-zero, once', () => {
    const lines: Line[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
    const { proc, exits } = fakeProcess();
    installProcessGuards(log, proc);
    proc.emit('uncaughtException', new TypeError('cannot read x of undefined'), 'uncaughtException');
    proc.emit('uncaughtException', new Error('while exiting'), 'uncaughtException');
    expect(exits).toEqual([FATAL_EXIT_CODE]);
    expect(FATAL_EXIT_CODE).not.toBe(0);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 60,
        kind: 'uncaughtException',
        error: expect.objectContaining({ type: 'TypeError' }),
      }),
    ]);
  });

  it('in a real Node process: survives an unhandled rejection, exits 1 with one line on an uncaught exception', () => {
    const dir = mkdtempSync(join(tmpdir(), 'process-guard-'));
    try {
      const compiled = transformFileSync(join(packageRoot, 'src', 'server', 'process-guard.ts'), {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      });
      writeFileSync(join(dir, 'process-guard.mjs'), compiled.code);
      const pinoPath = createRequire(join(packageRoot, 'package.json')).resolve('pino');
      writeFileSync(
        join(dir, 'child.mjs'),
        `import pinoModule from ${JSON.stringify(pathToFileURL(pinoPath).href)};
import { installProcessGuards } from './process-guard.mjs';
const log = pinoModule.pino(pinoModule.destination(1));
installProcessGuards(log);
Promise.reject(new Error('nobody awaited this'));
setTimeout(() => { log.info('still serving'); }, 20);
setTimeout(() => { throw new Error('state is broken'); }, 40);
setTimeout(() => { log.info('should never print'); }, 2000);
`,
      );
      const child = spawnSync(process.execPath, [join(dir, 'child.mjs')], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      const out = child.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line);
      expect(child.status).toBe(FATAL_EXIT_CODE);
      expect(out.map((l) => l.msg)).toEqual([
        'unhandled promise rejection (continuing)',
        'still serving',
        'uncaught exception: exiting so the supervisor restarts the process',
      ]);
      expect(child.stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
