import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

// One signed POST with a per-attempt timeout and bounded, jittered retries. Knows nothing of
// incidents: webhook-send.ts builds the request and turns the result into an Outcome or an error.

/** Longest wait between two attempts, whatever the backoff or a Retry-After header says. */
export const MAX_BACKOFF_MS = 10_000;
/** A Retry-After longer than this is shortened to it (the step's lock is held while we wait). */
export const RETRY_AFTER_CAP_MS = 10_000;
/** How much of a response body is read; the rest is dropped unread. */
export const BODY_READ_LIMIT_BYTES = 8192;
/** Length of the recorded body excerpt, in characters. */
export const EXCERPT_CHARS = 300;

export type AttemptResult =
  | {
      kind: 'response';
      status: number;
      statusText: string;
      bodyExcerpt: string;
      bodyTruncated: boolean;
      retryAfterMs?: number;
    }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'network'; error: string }
  | { kind: 'aborted' };

export interface DeliveryRequest {
  /** Where to POST: no userinfo (pass credentials as headers). */
  url: string;
  /** Body and headers for attempt n (1-based): each attempt is signed afresh with its own timestamp. */
  build(attempt: number): { body: string; headers: Record<string, string> };
  timeoutMs: number;
  /** Retries after the first attempt: at most `retries + 1` requests. */
  retries: number;
  /** First backoff; doubles per retry up to MAX_BACKOFF_MS, with jitter. */
  backoffMs: number;
  /** Aborts the whole delivery, including the waits between attempts. */
  signal: AbortSignal;
  /** Removes secrets from anything read back (bodies, error messages). */
  scrub(text: string): string;
  log?: Logger;
  /** Injectable for tests; defaults to Math.random. */
  random?: () => number;
}

export interface Delivery {
  /** 2xx on the last attempt. */
  ok: boolean;
  attempts: number;
  last: AttemptResult;
  /** One short label per attempt: `503 Service Unavailable`, `timeout`, `network error`. */
  history: string[];
  /** Why it stopped: success, a status that is never retried, retries used up, or aborted. */
  stop: 'success' | 'not_retryable' | 'exhausted' | 'aborted';
}

/** POST with retries on 5xx, 429, timeouts and network errors; never on other 4xx or on 3xx. */
export async function deliver(req: DeliveryRequest): Promise<Delivery> {
  const history: string[] = [];
  const random = req.random ?? Math.random;
  let last: AttemptResult = { kind: 'aborted' };
  for (let attempt = 1; attempt <= req.retries + 1; attempt++) {
    if (req.signal.aborted)
      return { ok: false, attempts: attempt - 1, last: { kind: 'aborted' }, history, stop: 'aborted' };
    last = await attemptOnce(req, attempt);
    history.push(label(last));
    req.log?.info({ attempt, result: label(last) }, 'rotation webhook attempt');
    if (last.kind === 'aborted') return { ok: false, attempts: attempt, last, history, stop: 'aborted' };
    if (last.kind === 'response' && last.status >= 200 && last.status < 300) {
      return { ok: true, attempts: attempt, last, history, stop: 'success' };
    }
    if (!retryable(last)) return { ok: false, attempts: attempt, last, history, stop: 'not_retryable' };
    if (attempt > req.retries) break;
    const wait =
      last.kind === 'response' && last.retryAfterMs !== undefined
        ? Math.min(last.retryAfterMs, RETRY_AFTER_CAP_MS)
        : backoffDelay(req.backoffMs, attempt - 1, random);
    req.log?.warn(
      { attempt, result: label(last), waitMs: wait },
      'rotation webhook attempt failed; retrying',
    );
    if (!(await sleep(wait, req.signal))) {
      return { ok: false, attempts: attempt, last: { kind: 'aborted' }, history, stop: 'aborted' };
    }
  }
  return { ok: false, attempts: req.retries + 1, last, history, stop: 'exhausted' };
}

async function attemptOnce(req: DeliveryRequest, attempt: number): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([req.signal, timeout]);
  const { body, headers } = req.build(attempt);
  let res: Response;
  try {
    // Redirects are not followed: a signed POST must not be replayed to another address.
    res = await fetch(req.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
  } catch (err) {
    if (req.signal.aborted) return { kind: 'aborted' };
    if (timeout.aborted) return { kind: 'timeout', timeoutMs: req.timeoutMs };
    return { kind: 'network', error: req.scrub(describeNetworkError(err)) };
  }
  let text: string;
  let truncated = false;
  try {
    ({ text, truncated } = await readLimited(res, BODY_READ_LIMIT_BYTES));
  } catch (err) {
    // The status already arrived: a body that stalls or breaks does not turn a 2xx into a failure.
    text = timeout.aborted ? '(body not read: timed out)' : `(body not read: ${describeNetworkError(err)})`;
  }
  const excerpt = bodyExcerpt(req.scrub(text));
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  return {
    kind: 'response',
    status: res.status,
    statusText: res.statusText || STATUS_CODES[res.status] || '',
    bodyExcerpt: excerpt.text,
    bodyTruncated: excerpt.truncated || truncated,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

export function retryable(result: AttemptResult): boolean {
  if (result.kind === 'timeout' || result.kind === 'network') return true;
  if (result.kind === 'aborted') return false;
  return result.status >= 500 || result.status === 429;
}

/** `503 Service Unavailable`, `timeout`, `network error`, `aborted`. */
export function label(result: AttemptResult): string {
  switch (result.kind) {
    case 'response':
      return statusLine(result.status, result.statusText);
    case 'timeout':
      return 'timeout';
    case 'network':
      return 'network error';
    case 'aborted':
      return 'aborted';
  }
}

export function statusLine(status: number, statusText: string): string {
  return statusText ? `${status} ${statusText}` : String(status);
}

/** Exponential backoff with equal jitter: half the ceiling fixed, half random. */
export function backoffDelay(baseMs: number, retryIndex: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** retryIndex);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Whitespace runs become one space; control and invisible format characters go; at most `max` characters. */
export function bodyExcerpt(text: string, max = EXCERPT_CHARS): { text: string; truncated: boolean } {
  const cleaned = text
    .replace(/\s+/g, ' ')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim();
  const chars = Array.from(cleaned);
  return { text: chars.slice(0, max).join(''), truncated: chars.length > max };
}

async function readLimited(res: Response, limit: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total >= limit) {
      truncated = total > limit;
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  const bytes = Buffer.concat(chunks).subarray(0, limit);
  return { text: new TextDecoder('utf-8', { fatal: false }).decode(bytes), truncated };
}

/**
 * `network error: connect ECONNREFUSED 127.0.0.1:9` from undici's `TypeError: fetch failed` and its
 * cause. Duck-typed: errors from another realm (jest's vm modules) fail `instanceof Error`.
 */
export function describeNetworkError(err: unknown): string {
  const outer = asErrorLike(err);
  const inner = asErrorLike(outer?.cause);
  const cause = inner ?? outer;
  if (!cause) return `network error: ${String(err)}`;
  const nested = Array.isArray(cause.errors) ? asErrorLike(cause.errors[0]) : undefined;
  const message = cause.message || nested?.message || '';
  const code = typeof cause.code === 'string' ? cause.code : undefined;
  const text = code && !message.includes(code) ? (message ? `${code}: ${message}` : code) : message;
  return `network error: ${text || 'unknown'}`;
}

interface ErrorLike {
  message: string;
  cause?: unknown;
  code?: unknown;
  errors?: unknown;
}

function asErrorLike(value: unknown): ErrorLike | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const message = (value as { message?: unknown }).message;
  return typeof message === 'string' ? (value as ErrorLike) : undefined;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `10s`, `1m30s`, `150ms`: how a configured timeout reads back in messages. */
export function formatMs(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s}s`;
  return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m${s % 60}s`;
}

/**
 * The URL as it may be shown and recorded: no userinfo, no fragment, every query value replaced by
 * `redacted` (query strings often carry tokens).
 */
export function displayUrl(raw: string): string {
  const url = new URL(raw);
  url.username = '';
  url.password = '';
  url.hash = '';
  for (const key of new Set(url.searchParams.keys())) url.searchParams.set(key, 'redacted');
  return url.href;
}

/** Split a configured URL into what fetch gets (no userinfo) and a Basic Authorization header, if any. */
export function fetchTarget(raw: string): { url: string; authorization?: string; sensitive: string[] } {
  const url = new URL(raw);
  // Long query values are likely tokens; short ones (`env=prod`) would redact ordinary words.
  const sensitive = [...url.searchParams.values()].filter((v) => v.length >= 8);
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    sensitive.push(url.password, password, authorization);
    url.username = '';
    url.password = '';
  }
  url.hash = '';
  return authorization ? { url: url.href, authorization, sensitive } : { url: url.href, sensitive };
}

/** A function that replaces each sensitive string (4 characters or more) with `[redacted]`. */
export function scrubber(sensitive: readonly string[]): (text: string) => string {
  const needles = [...new Set(sensitive.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  return (text) => needles.reduce((acc, needle) => acc.split(needle).join('[redacted]'), text);
}

let cachedVersion: string | undefined;

/** This package's version, from the nearest package.json named egress-responder (src/ or dist/ alike). */
export function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  cachedVersion = '0.0.0-unknown';
  try {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 8; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name?: unknown;
          version?: unknown;
        };
        if (pkg.name === 'egress-responder' && typeof pkg.version === 'string') {
          cachedVersion = pkg.version;
          break;
        }
      } catch {
        // no package.json here: keep walking up
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  } catch {
    // not a file: URL (bundled): keep the fallback
  }
  return cachedVersion;
}

export function userAgent(): string {
  return `egress-responder/${packageVersion()}`;
}
