// A local fake of the Slack Web API over HTTP, for the real @slack/web-api WebClient (and Bolt,
// through `clientOptions.slackApiUrl`). It records every call, keeps the messages it was sent so
// history/replies/permalinks answer from them, rejects what Slack would reject (bad auth, invalid
// blocks, unknown messages), and injects faults: 429 with Retry-After, `{ok:false}`, delays.
// Also serves the file upload URLs of files.uploadV2 and a sink for `response_url` posts.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { blockProblems, viewProblems } from './validate.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Obj = Record<string, unknown>;

export interface RecordedCall {
  /** `chat.postMessage` … */
  method: string;
  /** Parsed arguments: form fields with JSON-encoded ones (`blocks`, `view`, `files` …) decoded. */
  body: Obj;
  /** Date.now() when the request arrived. */
  at: number;
  /** The token used (header or `token` field), if any. */
  token?: string;
  contentType: string;
}

export interface FakeMessage {
  type: 'message';
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  /** The poster: the bot user for everything the app posts, or whoever `addMessage` says. */
  user: string;
  bot_id?: string;
  app_id?: string;
  edited?: { user: string; ts: string };
  reactions?: { name: string; users: string[]; count: number }[];
  files?: Obj[];
  metadata?: unknown;
  reply_count?: number;
  latest_reply?: string;
  reply_users?: string[];
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  message_ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
}

export interface FakeUpload {
  fileId: string;
  filename: string;
  /** As announced to files.getUploadURLExternal. */
  length: number;
  /** The bytes posted to the upload URL (undefined until then). */
  content?: Buffer;
  completed: boolean;
  title?: string;
  channel?: string;
  threadTs?: string;
  /** Deleted with files.delete. */
  deleted?: boolean;
}

export interface FakeView {
  id: string;
  trigger_id?: string;
  external_id?: string;
  hash: string;
  view: Obj;
}

export interface FakeUser {
  id: string;
  name: string;
  real_name?: string;
  is_bot?: boolean;
  tz?: string;
  deleted?: boolean;
}

export interface FakeChannel {
  id: string;
  name: string;
  is_private?: boolean;
}

export interface ResponseUrlPost {
  id: string;
  body: unknown;
  contentType: string;
  at: number;
}

export interface FakeSlackApiOptions {
  /** Tokens accepted; default any `xoxb-…` (or `xoxp-…`) token. */
  tokens?: string[];
  team?: { id: string; name: string; domain: string };
  bot?: { userId: string; botId: string; appId: string; name: string };
  users?: FakeUser[];
  channels?: FakeChannel[];
  /** User group id (S…) → member user ids, for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
  /** Reject `invalid_blocks` like Slack does (default true). */
  validateBlocks?: boolean;
}

export interface RateLimitOptions {
  /** How many calls answer 429 (default 1; Infinity for all). */
  times?: number;
  /** The Retry-After header, in seconds (default 1). */
  retryAfterSeconds?: number;
}

interface Fault {
  method: string;
  remaining: number;
  kind: 'ratelimit' | 'fail' | 'delay';
  retryAfterSeconds?: number;
  error?: string;
  ms?: number;
}

class SlackFail extends Error {
  constructor(
    readonly error: string,
    readonly extra: Obj = {},
  ) {
    super(error);
  }
}

/** Form fields that the WebClient JSON-encodes (objects and arrays); decoded back when they parse. */
const JSON_FIELDS = new Set([
  'blocks',
  'attachments',
  'view',
  'files',
  'metadata',
  'unfurls',
  'user_auth_blocks',
  'file_uploads',
  'options',
  'channels',
]);

function decodeField(key: string, value: string): unknown {
  if (JSON_FIELDS.has(key) && /^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parse a request body the ways Slack accepts: form-encoded, JSON, multipart. */
async function parseArgs(raw: Buffer, contentType: string): Promise<Obj> {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json') {
    const parsed: unknown = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new SlackFail('invalid_json');
    return parsed as Obj;
  }
  if (type === 'multipart/form-data') {
    const form = await new Response(new Uint8Array(raw), {
      headers: { 'content-type': contentType },
    }).formData();
    const out: Obj = {};
    for (const [key, value] of form.entries()) {
      out[key] = typeof value === 'string' ? decodeField(key, value) : Buffer.from(await value.arrayBuffer());
    }
    return out;
  }
  if (type === 'application/x-www-form-urlencoded' || type === '' || raw.length === 0) {
    const out: Obj = {};
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) out[key] = decodeField(key, value);
    return out;
  }
  return { _raw: raw };
}

const asString = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

function cursorOffset(cursor: unknown): number {
  const text = asString(cursor);
  if (!text) return 0;
  const m = /^offset:(\d+)$/.exec(Buffer.from(text, 'base64').toString('utf8'));
  if (!m) throw new SlackFail('invalid_cursor');
  return Number(m[1]);
}

function page<T>(items: T[], args: Obj, fallbackLimit = 100): { items: T[]; next: string } {
  const limit = Math.max(1, Math.min(1000, Number(asString(args.limit) ?? fallbackLimit) || fallbackLimit));
  const offset = cursorOffset(args.cursor);
  const slice = items.slice(offset, offset + limit);
  const next =
    offset + limit < items.length ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '';
  return { items: slice, next };
}

export class FakeSlackApi {
  /** `http://127.0.0.1:<port>/api/`: pass as `slackApiUrl`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly team: { id: string; name: string; domain: string };
  readonly bot: { userId: string; botId: string; appId: string; name: string };
  /** Every Web API call, in arrival order (including rejected ones). */
  readonly calls: RecordedCall[] = [];
  readonly ephemerals: FakeEphemeral[] = [];
  readonly uploads = new Map<string, FakeUpload>();
  readonly views = new Map<string, FakeView>();

  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<WebSocket>();
  #envelopes = 0;
  readonly #opts: FakeSlackApiOptions;
  readonly #events = new EventEmitter();
  readonly #faults: Fault[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #channels = new Map<string, FakeChannel>();
  readonly #messages = new Map<string, FakeMessage[]>();
  readonly #users = new Map<string, FakeUser>();
  readonly #usergroups = new Map<string, string[]>();
  readonly #responses = new Map<string, ResponseUrlPost[]>();
  readonly #responseStatus = new Map<string, { status: number; remaining: number }>();
  #lastMicros = 0;
  #seq = 0;

  constructor(server: Server, opts: FakeSlackApiOptions) {
    this.#server = server;
    this.#opts = opts;
    const { port } = server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    this.url = `${this.origin}/api/`;
    this.team = opts.team ?? { id: 'T0FAKE001', name: 'Fake Team', domain: 'fake-team' };
    this.bot = opts.bot ?? {
      userId: 'U0BOT0001',
      botId: 'B0BOT0001',
      appId: 'A0APP0001',
      name: 'egress-responder',
    };
    for (const c of opts.channels ?? []) this.addChannel(c);
    for (const u of opts.users ?? []) this.addUser(u);
    this.addUser({ id: this.bot.userId, name: this.bot.name, is_bot: true });
    for (const [id, members] of Object.entries(opts.usergroups ?? {})) this.setUsergroupUsers(id, members);
    this.#events.setMaxListeners(100);
    // Socket Mode: apps.connections.open hands out ws://…/socket; Bolt connects, gets `hello`, and
    // answers each envelope with an ack carrying its envelope_id.
    server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/socket')) return socket.destroy();
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        this.#sockets.add(ws);
        ws.on('close', () => this.#sockets.delete(ws));
        ws.on('message', (data) => {
          const msg = JSON.parse(String(data)) as { envelope_id?: string };
          if (msg.envelope_id) this.#events.emit(`ack:${msg.envelope_id}`, msg);
        });
        ws.send(
          JSON.stringify({
            type: 'hello',
            num_connections: this.#sockets.size,
            debug_info: { host: 'fake', approximate_connection_time: 3600 },
            connection_info: { app_id: this.bot.appId },
          }),
        );
        this.#events.emit('socket');
      });
    });
  }

  /** Resolves once a Socket Mode client has connected and been greeted. */
  waitForSocket(timeoutMs = 5000): Promise<void> {
    if (this.#sockets.size > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no Socket Mode connection')), timeoutMs);
      this.#events.once('socket', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Send an envelope (slash_commands, interactive, events_api) and wait for the app's ack. */
  socketSend(
    type: string,
    payload: Obj,
    timeoutMs = 5000,
  ): Promise<{ envelope_id: string; payload?: unknown }> {
    const envelopeId = `env-${++this.#envelopes}`;
    const ack = new Promise<{ envelope_id: string; payload?: unknown }>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ack for ${envelopeId}`)), timeoutMs);
      this.#events.once(`ack:${envelopeId}`, (msg) => {
        clearTimeout(t);
        resolve(msg);
      });
    });
    const envelope = {
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: type !== 'events_api',
      retry_attempt: 0,
      retry_reason: '',
    };
    for (const ws of this.#sockets) ws.send(JSON.stringify(envelope));
    return ack;
  }

  // ---------------------------------------------------------------------------------------------
  // Inspection

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  lastCall(method: string): RecordedCall | undefined {
    return this.callsTo(method).at(-1);
  }

  /** Resolve once `count` calls to `method` have been recorded (work often continues after an ack). */
  waitForCalls(method: string, count = 1, timeoutMs = 5000): Promise<RecordedCall[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const got = this.callsTo(method);
        if (got.length >= count) {
          cleanup();
          resolve(got);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `waited ${timeoutMs} ms for ${count} ${method} call(s); got ${this.callsTo(method).length}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#events.off('call', check);
      };
      this.#events.on('call', check);
      check();
    });
  }

  /** Messages of a channel (top level and replies), oldest first, as they are now (after updates). */
  messages(channel: string): FakeMessage[] {
    return [...(this.#messages.get(channel) ?? [])];
  }

  /** A thread: the parent then its replies, oldest first. */
  thread(channel: string, ts: string): FakeMessage[] {
    return this.messages(channel).filter((m) => m.ts === ts || m.thread_ts === ts);
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.#messages.get(channel)?.find((m) => m.ts === ts);
  }

  /** What was POSTed to `responseUrl(id)`. */
  responses(id: string): ResponseUrlPost[] {
    return [...(this.#responses.get(id) ?? [])];
  }

  /** Forget recorded calls, ephemerals, responses and pending faults; keep channels, messages and users. */
  reset(): void {
    this.calls.length = 0;
    this.ephemerals.length = 0;
    this.#faults.length = 0;
    this.#responses.clear();
    this.#responseStatus.clear();
  }

  // ---------------------------------------------------------------------------------------------
  // Setup

  addChannel(c: FakeChannel): void {
    this.#channels.set(c.id, c);
    if (!this.#messages.has(c.id)) this.#messages.set(c.id, []);
  }

  addUser(u: FakeUser): void {
    this.#users.set(u.id, u);
  }

  setUsergroupUsers(id: string, users: string[]): void {
    this.#usergroups.set(id, [...users]);
  }

  /** A message from someone else (a person in the thread), e.g. to pin it later. Returns its ts. */
  addMessage(m: { channel: string; user: string; text: string; thread_ts?: string; ts?: string }): string {
    const ts = m.ts ?? this.nextTs();
    this.#store({
      type: 'message',
      channel: m.channel,
      ts,
      text: m.text,
      user: m.user,
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    });
    return ts;
  }

  /** Someone reacted (e.g. `pushpin`) to a message; reactions.get then shows it. */
  react(channel: string, ts: string, name: string, user: string): void {
    const msg = this.message(channel, ts);
    if (!msg) throw new Error(`no message ${channel}/${ts}`);
    const reactions = msg.reactions ?? [];
    const r = reactions.find((x) => x.name === name);
    if (r) {
      if (!r.users.includes(user)) {
        r.users.push(user);
        r.count++;
      }
    } else reactions.push({ name, users: [user], count: 1 });
    msg.reactions = reactions;
  }

  /** A URL on the fake that records POSTs, to use as a slash command's `response_url`. */
  responseUrl(id: string): string {
    return `${this.origin}/respond/${encodeURIComponent(id)}`;
  }

  /** Answer the next `times` POSTs to responseUrl(id) with this HTTP status. */
  failResponseUrl(id: string, status: number, times = 1): void {
    this.#responseStatus.set(id, { status, remaining: times });
  }

  // ---------------------------------------------------------------------------------------------
  // Fault injection (`method` may be `*` for every method)

  /** The next `times` calls answer HTTP 429 with `Retry-After`, as Slack does over a rate limit. */
  rateLimit(method: string, opts: RateLimitOptions = {}): void {
    this.#faults.push({
      method,
      kind: 'ratelimit',
      remaining: opts.times ?? 1,
      retryAfterSeconds: opts.retryAfterSeconds ?? 1,
    });
  }

  /** The next `times` calls answer `{ok: false, error}` (HTTP 200, like Slack). */
  fail(method: string, error: string, times = 1): void {
    this.#faults.push({ method, kind: 'fail', remaining: times, error });
  }

  /** Delay the answer to the next `times` calls (default: all) by `ms`. */
  delay(method: string, ms: number, times = Number.POSITIVE_INFINITY): void {
    this.#faults.push({ method, kind: 'delay', remaining: times, ms });
  }

  /** Slack-like message timestamps: unique, increasing, `1764079392.000100`. */
  nextTs(): string {
    const micros = Math.max(Date.now() * 1000, this.#lastMicros + 100);
    this.#lastMicros = micros;
    const secs = Math.floor(micros / 1_000_000);
    return `${secs}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    // A clean close handshake: a terminated socket makes the client's WebSocket raise an error and
    // start a 30 s close-handshake timer of its own.
    await Promise.all(
      [...this.#sockets].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.close(1000);
            setTimeout(() => {
              ws.terminate();
              resolve();
            }, 1000).unref();
          }),
      ),
    );
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP

  /** @internal the request listener. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const path = url.pathname;
    try {
      if (path.startsWith('/api/')) return await this.#api(path.slice('/api/'.length), url, req, res);
      if (path.startsWith('/upload/') && req.method === 'POST')
        return await this.#upload(decodeURIComponent(path.slice('/upload/'.length)), req, res);
      if (path.startsWith('/respond/') && req.method === 'POST')
        return await this.#respond(decodeURIComponent(path.slice('/respond/'.length)), req, res);
      send(res, 404, { ok: false, error: 'not_found' });
    } catch (err) {
      if (!res.headersSent) send(res, 500, { ok: false, error: 'fake_internal_error', detail: String(err) });
    }
  }

  async #api(method: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = req.headers['content-type'] ?? '';
    const raw = await readBody(req);
    let body: Obj;
    try {
      body = { ...Object.fromEntries(url.searchParams), ...(await parseArgs(raw, contentType)) };
    } catch (err) {
      body = {};
      const error = err instanceof SlackFail ? err.error : 'invalid_form_data';
      this.#record(method, body, contentType, undefined);
      return send(res, 200, { ok: false, error });
    }
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ')
      ? header.slice('Bearer '.length).trim()
      : asString(body.token);
    if ('token' in body) body = Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'token'));
    this.#record(method, body, contentType, token);

    const delay = this.#takeFault(method, 'delay');
    if (delay?.ms) await this.#sleep(delay.ms);

    if (!token) return send(res, 200, { ok: false, error: 'not_authed' });
    // App-level tokens (xapp-) only open Socket Mode connections, as in Slack.
    const shape = method === 'apps.connections.open' ? /^xapp-/ : /^xox[bp]-/;
    const valid = this.#opts.tokens ? this.#opts.tokens.includes(token) : shape.test(token);
    if (!valid) return send(res, 200, { ok: false, error: 'invalid_auth' });

    const limited = this.#takeFault(method, 'ratelimit');
    if (limited) {
      res.setHeader('Retry-After', String(limited.retryAfterSeconds ?? 1));
      return send(res, 429, { ok: false, error: 'ratelimited' });
    }
    const failure = this.#takeFault(method, 'fail');
    if (failure) return send(res, 200, { ok: false, error: failure.error ?? 'fatal_error' });

    try {
      const result = this.#dispatch(method, body);
      send(res, 200, { ok: true, ...result });
    } catch (err) {
      if (err instanceof SlackFail) return send(res, 200, { ok: false, error: err.error, ...err.extra });
      throw err;
    }
  }

  #record(method: string, body: Obj, contentType: string, token: string | undefined): void {
    this.calls.push({ method, body, at: Date.now(), contentType, ...(token ? { token } : {}) });
    this.#events.emit('call', method);
  }

  #takeFault(method: string, kind: Fault['kind']): Fault | undefined {
    const fault = this.#faults.find(
      (f) => f.kind === kind && f.remaining > 0 && (f.method === method || f.method === '*'),
    );
    if (!fault) return undefined;
    fault.remaining--;
    if (fault.remaining <= 0) this.#faults.splice(this.#faults.indexOf(fault), 1);
    return fault;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve();
      }, ms);
      this.#timers.add(t);
    });
  }

  async #upload(fileId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const upload = this.uploads.get(fileId);
    const raw = await readBody(req);
    if (!upload) return sendText(res, 404, 'file not found');
    const contentType = req.headers['content-type'] ?? '';
    let content = raw;
    if (/^multipart\/form-data|^application\/x-www-form-urlencoded/i.test(contentType)) {
      const args = await parseArgs(raw, contentType);
      const part = args.body ?? args.file ?? args.content;
      content = Buffer.isBuffer(part) ? part : Buffer.from(asString(part) ?? '', 'utf8');
    }
    upload.content = content;
    sendText(res, 200, `OK - ${content.length}`);
  }

  async #respond(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = req.headers['content-type'] ?? '';
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = /json/i.test(contentType) ? JSON.parse(raw.toString('utf8')) : await parseArgs(raw, contentType);
    } catch {
      body = raw.toString('utf8');
    }
    const list = this.#responses.get(id) ?? [];
    list.push({ id, body, contentType, at: Date.now() });
    this.#responses.set(id, list);
    const forced = this.#responseStatus.get(id);
    if (forced && forced.remaining > 0) {
      forced.remaining--;
      return sendText(res, forced.status, 'forced failure');
    }
    send(res, 200, { ok: true });
  }

  // ---------------------------------------------------------------------------------------------
  // Methods

  #dispatch(method: string, a: Obj): Obj {
    switch (method) {
      case 'api.test':
        return { args: a };
      case 'apps.connections.open':
        return { url: `${this.origin.replace('http', 'ws')}/socket` };
      case 'auth.test':
        return {
          url: `https://${this.team.domain}.slack.com/`,
          team: this.team.name,
          user: this.bot.name,
          team_id: this.team.id,
          user_id: this.bot.userId,
          bot_id: this.bot.botId,
          is_enterprise_install: false,
        };
      case 'chat.postMessage':
        return this.#postMessage(a);
      case 'chat.update':
        return this.#update(a);
      case 'chat.delete':
        return this.#delete(a);
      case 'chat.postEphemeral':
        return this.#postEphemeral(a);
      case 'chat.getPermalink':
        return this.#permalink(a);
      case 'conversations.info':
        return { channel: this.#channelInfo(this.#requireChannel(a.channel)) };
      case 'conversations.history':
        return this.#history(a);
      case 'conversations.replies':
        return this.#replies(a);
      case 'usergroups.users.list': {
        const id = asString(a.usergroup) ?? '';
        const users = this.#usergroups.get(id);
        if (!users) throw new SlackFail('no_such_subteam');
        return { users: [...users] };
      }
      case 'users.info':
        return { user: this.#userInfo(asString(a.user) ?? '') };
      case 'reactions.get': {
        const channel = this.#requireChannel(a.channel);
        const msg = this.#requireMessage(channel, asString(a.timestamp));
        return { type: 'message', channel, message: clone(msg) };
      }
      case 'reactions.add': {
        const channel = this.#requireChannel(a.channel);
        const msg = this.#requireMessage(channel, asString(a.timestamp));
        const name = asString(a.name);
        if (!name) throw new SlackFail('invalid_name');
        if (msg.reactions?.some((r) => r.name === name && r.users.includes(this.bot.userId)))
          throw new SlackFail('already_reacted');
        this.react(channel, msg.ts, name, this.bot.userId);
        return {};
      }
      case 'views.open':
      case 'views.push':
        return this.#openView(a);
      case 'views.update':
        return this.#updateView(a);
      case 'files.getUploadURLExternal':
        return this.#uploadUrl(a);
      case 'files.completeUploadExternal':
        return this.#completeUpload(a);
      case 'files.delete': {
        const u = this.uploads.get(asString(a.file) ?? '');
        if (!u || u.deleted) throw new SlackFail('file_not_found');
        u.deleted = true;
        return {};
      }
      default:
        throw new SlackFail('unknown_method', { req_method: method });
    }
  }

  #requireChannel(v: unknown): string {
    const id = asString(v);
    if (!id) throw new SlackFail('channel_not_found');
    if (!this.#channels.has(id)) {
      // Channels the fake was not told about exist once something is posted (C…, G…, D… ids).
      if (!/^[CGD][A-Z0-9]{2,}$/.test(id)) throw new SlackFail('channel_not_found');
      this.addChannel({ id, name: id.toLowerCase() });
    }
    return id;
  }

  #requireMessage(channel: string, ts: string | undefined): FakeMessage {
    const msg = ts ? this.message(channel, ts) : undefined;
    if (!msg) throw new SlackFail('message_not_found');
    return msg;
  }

  #checkView(v: Obj): void {
    if (this.#opts.validateBlocks === false) return;
    const problems = viewProblems(v);
    if (problems.length > 0) {
      throw new SlackFail('invalid_arguments', {
        response_metadata: { messages: problems.map((p) => `${p.message} [json-pointer:${p.pointer}]`) },
      });
    }
  }

  #checkContent(a: Obj, surface: 'message' | 'modal' = 'message'): void {
    const text = asString(a.text);
    if (text !== undefined && text.length > 40_000) throw new SlackFail('msg_too_long');
    if (a.blocks !== undefined && this.#opts.validateBlocks !== false) {
      const problems = blockProblems(a.blocks, surface);
      if (problems.length > 0) {
        throw new SlackFail('invalid_blocks', {
          errors: problems.map((p) => `${p.message} [json-pointer:${p.pointer}]`),
        });
      }
    }
  }

  #botMessage(channel: string, a: Obj, ts: string): FakeMessage {
    const threadTs = asString(a.thread_ts);
    return {
      type: 'message',
      channel,
      ts,
      text: asString(a.text) ?? '',
      ...(Array.isArray(a.blocks) ? { blocks: a.blocks } : {}),
      user: this.bot.userId,
      bot_id: this.bot.botId,
      app_id: this.bot.appId,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...(a.metadata !== undefined ? { metadata: a.metadata } : {}),
    };
  }

  #store(msg: FakeMessage): void {
    const list = this.#messages.get(msg.channel) ?? [];
    list.push(msg);
    this.#messages.set(msg.channel, list);
    if (msg.thread_ts && msg.thread_ts !== msg.ts) {
      const parent = list.find((m) => m.ts === msg.thread_ts);
      if (parent) {
        parent.thread_ts = parent.ts;
        parent.reply_count = (parent.reply_count ?? 0) + 1;
        parent.latest_reply = msg.ts;
        parent.reply_users = [...new Set([...(parent.reply_users ?? []), msg.user])];
      }
    }
  }

  #postMessage(a: Obj): Obj {
    const channel = this.#requireChannel(a.channel);
    if (asString(a.text) === undefined && a.blocks === undefined && a.attachments === undefined)
      throw new SlackFail('no_text');
    this.#checkContent(a);
    const threadTs = asString(a.thread_ts);
    if (threadTs) {
      const parent = this.message(channel, threadTs);
      if (!parent) throw new SlackFail('thread_not_found');
      // Replying to a reply puts the message in the parent's thread, as Slack does.
      if (parent.thread_ts && parent.thread_ts !== parent.ts) a = { ...a, thread_ts: parent.thread_ts };
    }
    const msg = this.#botMessage(channel, a, this.nextTs());
    this.#store(msg);
    return { channel, ts: msg.ts, message: clone(msg) };
  }

  #update(a: Obj): Obj {
    const channel = this.#requireChannel(a.channel);
    const msg = this.#requireMessage(channel, asString(a.ts));
    if (msg.user !== this.bot.userId) throw new SlackFail('cant_update_message');
    if (asString(a.text) === undefined && a.blocks === undefined && a.attachments === undefined)
      throw new SlackFail('no_text');
    this.#checkContent(a);
    if (asString(a.text) !== undefined) msg.text = asString(a.text) as string;
    if (Array.isArray(a.blocks)) msg.blocks = a.blocks;
    msg.edited = { user: this.bot.userId, ts: this.nextTs() };
    return { channel, ts: msg.ts, text: msg.text, message: clone(msg) };
  }

  #delete(a: Obj): Obj {
    const channel = this.#requireChannel(a.channel);
    const msg = this.#requireMessage(channel, asString(a.ts));
    if (msg.user !== this.bot.userId) throw new SlackFail('cant_delete_message');
    const list = this.#messages.get(channel) ?? [];
    this.#messages.set(
      channel,
      list.filter((m) => m !== msg),
    );
    return { channel, ts: msg.ts };
  }

  #postEphemeral(a: Obj): Obj {
    const channel = this.#requireChannel(a.channel);
    const user = asString(a.user);
    if (!user || !this.#knownUser(user)) throw new SlackFail('user_not_in_channel');
    if (asString(a.text) === undefined && a.blocks === undefined && a.attachments === undefined)
      throw new SlackFail('no_text');
    this.#checkContent(a);
    const threadTs = asString(a.thread_ts);
    const eph: FakeEphemeral = {
      channel,
      user,
      message_ts: this.nextTs(),
      text: asString(a.text) ?? '',
      ...(Array.isArray(a.blocks) ? { blocks: a.blocks } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
    };
    this.ephemerals.push(eph);
    return { message_ts: eph.message_ts };
  }

  #permalink(a: Obj): Obj {
    const channel = this.#requireChannel(a.channel);
    const msg = this.#requireMessage(channel, asString(a.message_ts));
    const base = `https://${this.team.domain}.slack.com/archives/${channel}/p${msg.ts.replace('.', '')}`;
    const permalink =
      msg.thread_ts && msg.thread_ts !== msg.ts ? `${base}?thread_ts=${msg.thread_ts}&cid=${channel}` : base;
    return { channel, permalink };
  }

  #channelInfo(id: string): Obj {
    const c = this.#channels.get(id) as FakeChannel;
    return {
      id: c.id,
      name: c.name,
      is_channel: !c.is_private,
      is_group: false,
      is_im: c.id.startsWith('D'),
      is_private: c.is_private ?? false,
      is_archived: false,
      is_member: true,
      created: 1_700_000_000,
      context_team_id: this.team.id,
    };
  }

  #history(a: Obj): Obj {
    const channel = this.#requireChannel(a.channel);
    const oldest = asString(a.oldest);
    const latest = asString(a.latest);
    const inclusive = asString(a.inclusive) === 'true' || asString(a.inclusive) === '1';
    const inRange = (ts: string) =>
      (!oldest || (inclusive ? Number(ts) >= Number(oldest) : Number(ts) > Number(oldest))) &&
      (!latest || (inclusive ? Number(ts) <= Number(latest) : Number(ts) < Number(latest)));
    const top = (this.#messages.get(channel) ?? [])
      .filter((m) => !m.thread_ts || m.thread_ts === m.ts)
      .filter((m) => inRange(m.ts))
      .reverse(); // newest first, as Slack answers
    const { items, next } = page(top, a);
    return {
      messages: items.map(clone),
      has_more: next !== '',
      pin_count: 0,
      response_metadata: { next_cursor: next },
    };
  }

  #replies(a: Obj): Obj {
    const channel = this.#requireChannel(a.channel);
    const ts = asString(a.ts);
    const parent = ts ? this.message(channel, ts) : undefined;
    if (!parent) throw new SlackFail('thread_not_found');
    const root = parent.thread_ts ?? parent.ts;
    const all = this.thread(channel, root);
    const { items, next } = page(all, a, 1000);
    return { messages: items.map(clone), has_more: next !== '', response_metadata: { next_cursor: next } };
  }

  #knownUser(id: string): boolean {
    return this.#users.has(id) || /^[UW][A-Z0-9]{2,}$/.test(id);
  }

  #userInfo(id: string): Obj {
    if (!this.#knownUser(id)) throw new SlackFail('user_not_found');
    const u = this.#users.get(id) ?? { id, name: `user-${id.toLowerCase()}` };
    return {
      id: u.id,
      team_id: this.team.id,
      name: u.name,
      real_name: u.real_name ?? u.name,
      deleted: u.deleted ?? false,
      is_bot: u.is_bot ?? false,
      is_app_user: false,
      tz: u.tz ?? 'Etc/UTC',
      profile: { display_name: u.name, real_name: u.real_name ?? u.name },
    };
  }

  #viewResult(v: FakeView): Obj {
    return {
      view: {
        id: v.id,
        team_id: this.team.id,
        app_id: this.bot.appId,
        bot_id: this.bot.botId,
        state: { values: {} },
        hash: v.hash,
        root_view_id: v.id,
        previous_view_id: null,
        ...(v.external_id ? { external_id: v.external_id } : {}),
        ...v.view,
      },
    };
  }

  #openView(a: Obj): Obj {
    const trigger = asString(a.trigger_id);
    if (!trigger) throw new SlackFail('invalid_arguments');
    const view = a.view;
    if (view === null || typeof view !== 'object' || Array.isArray(view))
      throw new SlackFail('invalid_arguments');
    const v = view as Obj;
    this.#checkView(v);
    const id = `V${String(++this.#seq).padStart(9, '0')}`;
    const external = asString(v.external_id);
    const stored: FakeView = {
      id,
      trigger_id: trigger,
      hash: `${Date.now()}.${this.#seq}`,
      view: clone(v) as Obj,
      ...(external ? { external_id: external } : {}),
    };
    this.views.set(id, stored);
    return this.#viewResult(stored);
  }

  #updateView(a: Obj): Obj {
    const viewId = asString(a.view_id);
    const externalId = asString(a.external_id);
    const stored = viewId
      ? this.views.get(viewId)
      : [...this.views.values()].find((v) => externalId && v.external_id === externalId);
    if (!stored) throw new SlackFail('not_found');
    const hash = asString(a.hash);
    if (hash && hash !== stored.hash) throw new SlackFail('hash_conflict');
    const view = a.view;
    if (view === null || typeof view !== 'object' || Array.isArray(view))
      throw new SlackFail('invalid_arguments');
    this.#checkView(view as Obj);
    stored.view = clone(view) as Obj;
    stored.hash = `${Date.now()}.${++this.#seq}`;
    return this.#viewResult(stored);
  }

  #uploadUrl(a: Obj): Obj {
    const filename = asString(a.filename);
    const length = Number(asString(a.length));
    if (!filename || !Number.isInteger(length) || length < 0) throw new SlackFail('invalid_arguments');
    const fileId = `F${String(++this.#seq).padStart(9, '0')}`;
    this.uploads.set(fileId, { fileId, filename, length, completed: false });
    return { upload_url: `${this.origin}/upload/${fileId}`, file_id: fileId };
  }

  #completeUpload(a: Obj): Obj {
    const files = Array.isArray(a.files) ? (a.files as Obj[]) : undefined;
    if (!files || files.length === 0) throw new SlackFail('invalid_arguments');
    const uploads = files.map((f) => {
      const u = this.uploads.get(asString(f.id) ?? '');
      if (!u || u.content === undefined) throw new SlackFail('file_not_found');
      return { u, title: asString(f.title) };
    });
    const channel = asString(a.channel_id) ? this.#requireChannel(a.channel_id) : undefined;
    const threadTs = asString(a.thread_ts);
    if (channel && threadTs && !this.message(channel, threadTs)) throw new SlackFail('thread_not_found');
    const result = uploads.map(({ u, title }) => {
      u.completed = true;
      u.title = title ?? u.filename;
      if (channel) u.channel = channel;
      if (threadTs) u.threadTs = threadTs;
      return {
        id: u.fileId,
        name: u.filename,
        title: u.title,
        size: u.content?.length ?? 0,
        user: this.bot.userId,
        created: Math.floor(Date.now() / 1000),
        url_private: `${this.origin}/files/${u.fileId}/${encodeURIComponent(u.filename)}`,
        permalink: `https://${this.team.domain}.slack.com/files/${this.bot.userId}/${u.fileId}/${encodeURIComponent(u.filename)}`,
      };
    });
    if (channel) {
      const msg = this.#botMessage(
        channel,
        { text: asString(a.initial_comment) ?? '', ...(threadTs ? { thread_ts: threadTs } : {}) },
        this.nextTs(),
      );
      msg.files = result;
      this.#store(msg);
    }
    return { files: result };
  }
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Start the fake on 127.0.0.1 and a free port. `close()` it after the test. */
export async function startFakeSlackApi(opts: FakeSlackApiOptions = {}): Promise<FakeSlackApi> {
  let fake: FakeSlackApi | undefined;
  const server = createServer((req, res) => {
    void fake?.handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  fake = new FakeSlackApi(server, opts);
  return fake;
}
