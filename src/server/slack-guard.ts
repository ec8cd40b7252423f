import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from 'pino';
import { readBody } from './body.js';

// What every Slack request must pass before Bolt sees it. Bolt 5 checks the signature and refuses
// timestamps older than five minutes, but it accepts timestamps in the future, keeps no memory of
// requests it has seen (a captured request can be replayed for five minutes), and answers to whatever
// response_url a payload names. This guard reads the body once (bounded), checks all of that, and
// hands the bytes on; Bolt takes them as `req.rawBody` and verifies them again.

/** Bolt's own default (HTTPModuleFunctions.defaultBodyLimit). */
export const SLACK_BODY_LIMIT = 4 * 1024 * 1024;
/** Bolt refuses timestamps older than this. */
export const SLACK_MAX_AGE_MS = 5 * 60_000;
/** Slack's clock may run a little ahead of ours; more than this is refused. */
export const SLACK_MAX_FUTURE_MS = 60_000;
/** Replay keys outlive Bolt's five-minute window, so a replay is refused for as long as it could pass. */
export const SLACK_REPLAY_TTL_MS = 6 * 60_000;

export type GuardVerdict = { ok: true; rawBody: Buffer } | { ok: false; status: number; reason: string };
export type SlackGuard = (req: IncomingMessage) => Promise<GuardVerdict>;

export interface SlackGuardOptions {
  signingSecret: string;
  /** SET NX with a TTL in the shared store (`store.dedupe.claim`): true the first time a key is seen. */
  claim: (key: string, ttlMs: number) => Promise<boolean>;
  log: Logger;
  /** Epoch milliseconds. */
  now?: () => number;
  /**
   * Where a response_url may point besides Slack (`https://hooks.slack.com`, `https://*.slack.com`):
   * an origin (`http://127.0.0.1:8080`, matched exactly) or a bare host name (https only).
   */
  allowedResponseHosts?: readonly string[];
  bodyLimit?: number;
}

/** The key a request's signature is claimed under (the signature covers timestamp and body). */
export function replayKey(signature: string): string {
  return `slack:request:${createHash('sha256').update(signature).digest('hex')}`;
}

/** True when `raw` is a URL a response may be POSTed to. */
export function isAllowedResponseUrl(raw: string, allowed: readonly string[] = []): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  for (const entry of allowed) {
    if (entry.includes('://')) {
      try {
        if (new URL(entry).origin === url.origin) return true;
      } catch {
        // a malformed entry allows nothing
      }
    } else if (url.protocol === 'https:' && url.port === '' && url.hostname === entry.toLowerCase()) {
      return true;
    }
  }
  if (url.protocol !== 'https:' || url.port !== '') return false;
  return url.hostname === 'hooks.slack.com' || url.hostname.endsWith('.slack.com');
}

/** The body as Bolt will read it (HTTPModuleFunctions.parseHTTPRequestBody); throws when malformed. */
function parseLikeBolt(contentType: string | undefined, text: string): unknown {
  if (contentType === 'application/x-www-form-urlencoded') {
    const form = parseQuery(text);
    const { payload } = form;
    if (Array.isArray(payload)) throw new Error('more than one payload field');
    return typeof payload === 'string' ? JSON.parse(payload) : form;
  }
  return JSON.parse(text);
}

/** Every response_url a payload names: slash commands, interactions, shortcuts, view submissions. */
function responseUrls(body: unknown): unknown[] {
  if (typeof body !== 'object' || body === null) return [];
  const b = body as { response_url?: unknown; response_urls?: unknown };
  const urls: unknown[] = [];
  if ('response_url' in b) urls.push(b.response_url);
  if (Array.isArray(b.response_urls)) {
    for (const r of b.response_urls) urls.push((r as { response_url?: unknown } | null)?.response_url);
  }
  return urls;
}

function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

export function createSlackGuard(opts: SlackGuardOptions): SlackGuard {
  if (!opts.signingSecret) throw new Error('createSlackGuard: signingSecret is empty');
  const now = opts.now ?? Date.now;
  const limit = opts.bodyLimit ?? SLACK_BODY_LIMIT;
  const allowed = opts.allowedResponseHosts ?? [];
  const log = opts.log.child({ component: 'slack-guard' });

  return async (req) => {
    const refuse = (status: number, reason: string, detail: Record<string, unknown> = {}): GuardVerdict => {
      log.warn(
        { status, reason, retryNum: singleHeader(req, 'x-slack-retry-num')?.slice(0, 8), ...detail },
        'slack request refused',
      );
      return { ok: false, status, reason };
    };

    const read = await readBody(req, limit);
    if (!read.ok) {
      return read.reason === 'too_large'
        ? refuse(413, 'body_too_large', { limit })
        : refuse(400, 'body_aborted');
    }
    const rawBody = read.body;
    // Bolt decodes the body as UTF-8 before it computes the signature; so do we, so that whatever
    // passes here passes there.
    const text = rawBody.toString();
    const contentType = req.headers['content-type'];

    // Slack's ssl_check carries no signature; Bolt answers it without dispatching anything. Hand on
    // nothing but the flag (Bolt strips the rest too).
    if (contentType === 'application/x-www-form-urlencoded' && parseQuery(text).ssl_check === '1') {
      return { ok: true, rawBody: Buffer.from('ssl_check=1') };
    }

    const signature = singleHeader(req, 'x-slack-signature');
    const timestamp = singleHeader(req, 'x-slack-request-timestamp');
    if (!signature || !timestamp) return refuse(401, 'signature_missing');
    // Canonical decimal seconds only: Bolt signs over Number(header), so "017…" would verify differently.
    if (!/^[1-9]\d{0,11}$/.test(timestamp)) return refuse(401, 'timestamp_invalid');
    const skewMs = Number(timestamp) * 1000 - now();
    if (skewMs < -SLACK_MAX_AGE_MS)
      return refuse(401, 'timestamp_stale', { skewSeconds: Math.round(skewMs / 1000) });
    if (skewMs > SLACK_MAX_FUTURE_MS) {
      return refuse(401, 'timestamp_future', { skewSeconds: Math.round(skewMs / 1000) });
    }
    const given = /^v0=([0-9a-f]{64})$/.exec(signature)?.[1];
    if (!given) return refuse(401, 'signature_malformed');
    const want = createHmac('sha256', opts.signingSecret).update(`v0:${timestamp}:${text}`).digest();
    if (!timingSafeEqual(Buffer.from(given, 'hex'), want)) return refuse(401, 'signature_mismatch');

    // Signed by someone who holds the secret. What it asks us to answer to must still be Slack.
    let body: unknown;
    try {
      body = parseLikeBolt(contentType, text);
    } catch {
      return refuse(400, 'body_malformed');
    }
    for (const url of responseUrls(body)) {
      if (typeof url !== 'string' || !isAllowedResponseUrl(url, allowed)) {
        const host = typeof url === 'string' ? safeHost(url) : typeof url;
        return refuse(400, 'response_url_not_slack', { responseUrlHost: host });
      }
    }

    // Claimed only now: unsigned junk cannot fill the cache. Slack's own retries are signed anew
    // (new timestamp, new signature), so only a byte-for-byte replay collides.
    let first: boolean;
    try {
      first = await opts.claim(replayKey(signature), SLACK_REPLAY_TTL_MS);
    } catch (err) {
      return refuse(503, 'replay_cache_unavailable', { error: (err as Error).message?.slice(0, 200) });
    }
    if (!first) return refuse(409, 'replayed');
    return { ok: true, rawBody };
  };
}

function safeHost(raw: string): string {
  try {
    return new URL(raw).host.slice(0, 100);
  } catch {
    return 'unparseable';
  }
}
