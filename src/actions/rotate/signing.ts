import { createHmac, timingSafeEqual } from 'node:crypto';

// Request signing for rotate.webhook, shared by the sender and by receivers (test/fakes uses it, and a
// team's rotation service can copy it): HMAC-SHA256 over `v1:<unix seconds>:<raw body>`.

/** Header names, as sent. Receivers should read them case-insensitively (HTTP header names are). */
export const WEBHOOK_HEADERS = {
  timestamp: 'X-Egress-Responder-Timestamp',
  signature: 'X-Egress-Responder-Signature',
  idempotencyKey: 'X-Egress-Responder-Idempotency-Key',
} as const;

/** The only signature scheme so far; the header value is `v1=<hex>`. */
export const SIGNATURE_VERSION = 'v1';

/** How far a timestamp may be from the receiver's clock, either way, by default (5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * The signature header value for a body sent at `timestamp` (unix seconds):
 * `v1=` + hex(HMAC-SHA256(secret, "v1:" + timestamp + ":" + rawBody)).
 */
export function signWebhook(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${SIGNATURE_VERSION}:${timestamp}:`);
  mac.update(body);
  return `${SIGNATURE_VERSION}=${mac.digest('hex')}`;
}

/** Node's `req.headers`, a fetch `Headers`, or any plain record of header values. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export type WebhookVerification = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * Check a received request: the timestamp is within `toleranceSeconds` of `nowSeconds` and one of the
 * `v1=` signatures in the header (comma-separated, for receivers that accept several) matches the raw
 * body. Compares in constant time. Pass the body exactly as received, before any JSON parsing.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: HeaderSource,
  body: string | Uint8Array,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): WebhookVerification {
  const timestampText = headerValue(headers, WEBHOOK_HEADERS.timestamp);
  const signatureText = headerValue(headers, WEBHOOK_HEADERS.signature);
  if (timestampText === undefined) return { ok: false, reason: `missing ${WEBHOOK_HEADERS.timestamp}` };
  if (signatureText === undefined) return { ok: false, reason: `missing ${WEBHOOK_HEADERS.signature}` };
  if (!/^\d{1,12}$/.test(timestampText.trim())) {
    return { ok: false, reason: `${WEBHOOK_HEADERS.timestamp} is not unix seconds` };
  }
  const timestamp = Number(timestampText.trim());
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    return {
      ok: false,
      reason: `timestamp ${timestamp} is more than ${toleranceSeconds}s away from ${Math.floor(nowSeconds)}`,
    };
  }
  const expected = Buffer.from(signWebhook(secret, timestamp, body).slice(SIGNATURE_VERSION.length + 1));
  const candidates = signatureText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${SIGNATURE_VERSION}=`))
    .map((part) => Buffer.from(part.slice(SIGNATURE_VERSION.length + 1)));
  if (candidates.length === 0) {
    return { ok: false, reason: `${WEBHOOK_HEADERS.signature} has no ${SIGNATURE_VERSION}= signature` };
  }
  // Check every candidate (no early exit) so timing does not reveal which one matched.
  let matched = false;
  for (const candidate of candidates) {
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched ? { ok: true, timestamp } : { ok: false, reason: 'signature does not match' };
}

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    return typeof value === 'string' ? value : value.join(',');
  }
  return undefined;
}
