/**
 * # rotate.webhook: ask a rotation service to rotate the service's credentials
 *
 * POSTs one signed JSON body to `url` and records the answer. The receiver does the rotation (Vault,
 * a cloud IAM API, a CI job …); this action only asks, with a key it can dedupe on.
 *
 * ## Playbook
 * ```yaml
 * - uses: rotate.webhook
 *   with:
 *     url: https://rotator.internal/hooks/payments   # http or https; redirects are not followed
 *     secret_env: ROTATOR_WEBHOOK_SECRET             # env var holding the HMAC secret (required)
 *     timeout: 10s                                   # per attempt (default 10s, at most 30s)
 *     retries: 3                                     # after the first attempt, 0–5 (default 3)
 *     backoff_ms: 500                                # first wait between attempts; doubles, jittered, max 10s
 *     on_dry_run: send                               # drills: send with dry_run: true (default) or skip
 *     reason: rotate after egress to an unknown host # optional; default names source, destination, verdict
 *     headers: { X-Team: payments }                  # optional extra headers (not for secrets)
 * ```
 * Retried: 5xx, 429 (waiting what `Retry-After` says, at most 10s), timeouts and network errors.
 * Never retried: any other 4xx, and 3xx. The secret is read from the environment when the request is
 * sent, never at plan time, and appears in no plan, outcome, timeline event, log line or error. Query
 * values and userinfo in `url` are redacted wherever the URL is shown (userinfo is sent as Basic auth).
 *
 * ## Request
 * `POST <url>` with these headers:
 * - `Content-Type: application/json`
 * - `User-Agent: egress-responder/<version>`
 * - `X-Egress-Responder-Timestamp: <unix seconds>` (wall clock, fresh on every attempt)
 * - `X-Egress-Responder-Signature: v1=<hex HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body)>`
 * - `X-Egress-Responder-Idempotency-Key: <incident>:<step>:<action>` (same on every retry and resume)
 *
 * and this body:
 * ```json
 * { "incident_id": "EGR-20261125-0001", "service": "payments-api", "namespace": "prod",
 *   "identity": "spiffe://cluster.local/ns/prod/sa/payments-api",
 *   "destination": { "type": "fqdn", "name": "exfil.example.net", "namespace": null, "port": 443,
 *                    "protocol": "https" },
 *   "reason": "…", "dry_run": false, "idempotency_key": "EGR-20261125-0001:rotate:rotate.webhook",
 *   "requested_by": "slack:U123", "sent_at": "2026-11-25T14:03:12.123Z" }
 * ```
 * `identity` and `destination.namespace` are null when unknown; `sent_at` changes per attempt.
 *
 * ## Receiving
 * Verify before parsing: `verifyWebhookSignature(secret, req.headers, rawBody, Date.now() / 1000)`
 * (exported here and from ./signing.ts) checks the timestamp is within 5 minutes and compares the
 * signature in constant time. Dedupe on the idempotency key; answer 2xx quickly (202 and rotate
 * asynchronously) — the first 300 characters of the answer are recorded in the timeline, so never echo
 * credentials. With `dry_run: true` change nothing; answer what you would do.
 *
 * ## Plan and apply
 * The plan carries the request as confirmed: the URL as shown, the body (all but `requested_by` and
 * `sent_at`, set when sent), the extra headers and the delivery settings. Apply sends exactly that;
 * only the secret (from `secret_env`) and the URL's credentials come from outside the plan, and apply
 * refuses when the playbook's URL no longer matches the planned one. `drift` names what in the
 * playbook's step differs from the plan (URL, body fields, headers, delivery settings).
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { describeDestination, describeSource } from '../../domain/alert.js';
import { DurationText } from '../../domain/duration.js';
import { CodedError } from '../../domain/errors.js';
import { type ActionContext, defineAction, type Outcome } from '../define.js';
import {
  type AttemptResult,
  type Delivery,
  deliver,
  displayUrl,
  fetchTarget,
  formatMs,
  scrubber,
  statusLine,
  userAgent,
} from './http.js';
import { signWebhook, WEBHOOK_HEADERS } from './signing.js';

export {
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
  type WebhookVerification,
} from './signing.js';

/** Longest allowed per-attempt timeout: retries × timeout must stay well inside the engine's lock. */
export const MAX_TIMEOUT_MS = 30_000;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** Headers this action sets itself. */
const RESERVED_HEADERS = new Set(
  [
    'content-type',
    'content-length',
    'host',
    'user-agent',
    'connection',
    'transfer-encoding',
    'expect',
    ...Object.values(WEBHOOK_HEADERS),
  ].map((h) => h.toLowerCase()),
);
/** Headers that carry credentials: the playbook is not the place for secrets. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);

const ExtraHeaders = z
  .record(
    z.string().regex(HEADER_NAME, { error: 'expected an HTTP header name' }),
    z
      .string()
      .max(1000)
      .refine((v) => !/\p{Cc}/u.test(v), { error: 'header values may not contain control characters' }),
  )
  .superRefine((headers, ctx) => {
    for (const name of Object.keys(headers)) {
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `${name} is set by rotate.webhook itself` });
      } else if (CREDENTIAL_HEADERS.has(lower)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `${name} carries credentials: the request is signed with the secret named by secret_env`,
        });
      }
    }
  });

export const RotateWebhookParams = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  secret_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: 'expected the name of an environment variable, e.g. ROTATOR_WEBHOOK_SECRET',
  }),
  timeout: DurationText.refine((ms) => ms <= MAX_TIMEOUT_MS, {
    error: `at most ${formatMs(MAX_TIMEOUT_MS)} per attempt: answer 202 and rotate asynchronously`,
  }).default(10_000),
  retries: z.number().int().min(0).max(5).default(3),
  backoff_ms: z.number().int().min(1).max(5000).default(500),
  on_dry_run: z.enum(['send', 'skip']).default('send'),
  reason: z.string().min(1).max(1000).optional(),
  headers: ExtraHeaders.optional(),
});
export type RotateWebhookParams = z.output<typeof RotateWebhookParams>;

/** The body as planned: everything but `requested_by` and `sent_at` (set when sent). */
export const PlannedWebhookBody = z.strictObject({
  incident_id: z.string(),
  service: z.string(),
  namespace: z.string(),
  identity: z.string().nullable(),
  destination: z.strictObject({
    type: z.string(),
    name: z.string(),
    namespace: z.string().nullable(),
    port: z.number(),
    protocol: z.string(),
  }),
  reason: z.string(),
  dry_run: z.boolean(),
  idempotency_key: z.string(),
});
export type PlannedWebhookBody = z.output<typeof PlannedWebhookBody>;

/** What the receiver gets (JSON). */
export interface RotateWebhookBody extends PlannedWebhookBody {
  requested_by: string;
  sent_at: string;
}

export const RotateWebhookPlan = z.strictObject({
  method: z.literal('POST'),
  /** As shown: no userinfo, query values redacted. The real URL (credentials) is never recorded. */
  url: z.string(),
  dry_run: z.boolean(),
  /** False in a drill with on_dry_run: skip. */
  sends: z.boolean(),
  /** The environment variable holding the HMAC secret (its name, never its value). */
  secret_env: z.string(),
  timeout_ms: z.number(),
  retries: z.number(),
  backoff_ms: z.number(),
  idempotency_key: z.string(),
  /** Every header name sent, in order. */
  headers: z.array(z.string()),
  /** The playbook's extra headers (never credentials: the params refuse those). */
  extra_headers: z.record(z.string(), z.string()),
  body: PlannedWebhookBody,
});
export type RotateWebhookPlan = z.output<typeof RotateWebhookPlan>;

export const RotateWebhookOutcome = z.discriminatedUnion('sent', [
  z.strictObject({
    sent: z.literal(true),
    url: z.string(),
    status: z.number(),
    statusText: z.string(),
    attempts: z.number(),
    history: z.array(z.string()),
    bodyExcerpt: z.string(),
    bodyTruncated: z.boolean(),
    dry_run: z.boolean(),
    idempotency_key: z.string(),
  }),
  z.strictObject({ sent: z.literal(false), url: z.string(), dry_run: z.boolean() }),
]);
export type RotateWebhookOutcome = z.output<typeof RotateWebhookOutcome>;

export const DRY_RUN_SKIP_REASON = 'dry-run: webhook not called (on_dry_run: skip)';

export const rotateWebhook = defineAction({
  id: 'rotate.webhook',
  description:
    'POST a signed (HMAC-SHA256) rotation request for the source service to a webhook; retried on 5xx/429/timeouts, never on 4xx',
  params: RotateWebhookParams,
  planData: RotateWebhookPlan,
  outcomeData: RotateWebhookOutcome,
  rbac: [],
  destructive: true,
  needsCluster: false,
  example: {
    url: 'https://rotator.internal/hooks/payments',
    secret_env: 'ROTATOR_WEBHOOK_SECRET',
    timeout: '10s',
    retries: 3,
  },

  async plan(ctx, params) {
    const data = planData(ctx, params);
    const url = data.url;
    const shownBody = {
      ...data.body,
      requested_by: '(set when sent: who applies it)',
      sent_at: '(set when sent)',
    };
    return {
      summary: data.sends
        ? `POST ${url} (signed; dry_run: ${ctx.dryRun})`
        : `POST ${url} not sent (dry-run; on_dry_run: skip)`,
      preview: [
        `POST ${url}`,
        ...data.headers.map((h) => `${h}: ${previewHeader(h, data)}`),
        '',
        JSON.stringify(shownBody, null, 2),
      ].join('\n'),
      changes: data.sends,
      data,
    };
  },

  async drift(ctx, plan, params) {
    return planDrift(plan.data, planData(ctx, params));
  },

  async apply(ctx, plan, params): Promise<Outcome<RotateWebhookOutcome>> {
    const d = plan.data;
    const url = d.url;
    if (!d.sends) {
      const unset = process.env[d.secret_env] ? '' : `; note: ${d.secret_env} is not set here`;
      return {
        status: 'skipped',
        summary: `POST ${url} not sent${unset}`,
        reason: DRY_RUN_SKIP_REASON,
        data: { sent: false, url, dry_run: true },
      };
    }
    // The real URL (with any credentials) is not in the plan: it must still be the planned one.
    if (displayUrl(params.url) !== url) {
      throw new CodedError(
        'action_failed',
        `rotate.webhook: the playbook's url is now ${displayUrl(params.url)}, not ${url} as planned; nothing was sent. Plan the step again`,
        { details: { planned: url, now: displayUrl(params.url) } },
      );
    }
    const secret = process.env[d.secret_env];
    if (!secret) {
      throw new CodedError(
        'config_invalid',
        `rotate.webhook: environment variable ${d.secret_env} is not set (it must hold the HMAC secret for ${url}); nothing was sent`,
        { details: { secret_env: d.secret_env, url } },
      );
    }
    const target = fetchTarget(params.url);
    const scrub = scrubber([secret, ...target.sensitive]);
    const delivery = await deliver({
      url: target.url,
      timeoutMs: d.timeout_ms,
      retries: d.retries,
      backoffMs: d.backoff_ms,
      signal: ctx.signal,
      scrub,
      log: ctx.log.child({ webhook: url }),
      build: () => {
        const now = Date.now();
        const timestamp = Math.floor(now / 1000);
        const sent: RotateWebhookBody = {
          ...d.body,
          requested_by: ctx.actor,
          sent_at: new Date(now).toISOString(),
        };
        const body = JSON.stringify(sent);
        return {
          body,
          headers: {
            ...d.extra_headers,
            ...(target.authorization ? { Authorization: target.authorization } : {}),
            'Content-Type': 'application/json',
            'User-Agent': userAgent(),
            [WEBHOOK_HEADERS.timestamp]: String(timestamp),
            [WEBHOOK_HEADERS.signature]: signWebhook(secret, timestamp, body),
            [WEBHOOK_HEADERS.idempotencyKey]: d.idempotency_key,
          },
        };
      },
    });
    const last = delivery.last;
    if (delivery.ok && last.kind === 'response') {
      return {
        status: 'applied',
        summary: `POST ${url} → ${statusLine(last.status, last.statusText)} after ${plural(delivery.attempts, 'attempt')}`,
        data: {
          sent: true,
          url,
          status: last.status,
          statusText: last.statusText,
          attempts: delivery.attempts,
          history: delivery.history,
          bodyExcerpt: last.bodyExcerpt,
          bodyTruncated: last.bodyTruncated,
          dry_run: d.dry_run,
          idempotency_key: d.idempotency_key,
        },
      };
    }
    throw new CodedError('action_failed', scrub(failureMessage(url, d.retries, delivery)), {
      details: {
        url,
        attempts: delivery.attempts,
        history: delivery.history,
        ...(last.kind === 'response' ? { status: last.status, bodyExcerpt: last.bodyExcerpt } : {}),
      },
    });
  },

  async verify(_ctx, outcome) {
    const data = outcome.data;
    const status = data.sent ? data.status : undefined;
    const text = data.sent ? data.statusText : '';
    const ok = status !== undefined && status >= 200 && status < 300;
    return {
      ok,
      line: ok
        ? `Rotation webhook acknowledged: ${statusLine(status, text)}`
        : `Rotation webhook not acknowledged: ${status === undefined ? 'no response' : statusLine(status, text)}`,
      data: { status: status ?? null, attempts: data.sent ? data.attempts : null },
    };
  },
});

/** The plan's data: what apply sends (no secret, no URL credentials). */
function planData(ctx: ActionContext, params: RotateWebhookParams): RotateWebhookPlan {
  const extra = { ...(params.headers ?? {}) };
  return {
    method: 'POST',
    url: displayUrl(params.url),
    dry_run: ctx.dryRun,
    sends: !(ctx.dryRun && params.on_dry_run === 'skip'),
    secret_env: params.secret_env,
    timeout_ms: params.timeout,
    retries: params.retries,
    backoff_ms: params.backoff_ms,
    idempotency_key: ctx.idempotencyKey,
    headers: [
      'Content-Type',
      'User-Agent',
      WEBHOOK_HEADERS.timestamp,
      WEBHOOK_HEADERS.signature,
      WEBHOOK_HEADERS.idempotencyKey,
      ...Object.keys(extra),
    ],
    extra_headers: extra,
    body: webhookBody(ctx, params),
  };
}

/** What differs between the confirmed plan and the step as it would be planned now, in words. */
export function planDrift(planned: RotateWebhookPlan, now: RotateWebhookPlan): string[] {
  const out: string[] = [];
  if (now.url !== planned.url) out.push(`webhook url changed since the preview (now ${now.url})`);
  const fields = (Object.keys(planned.body) as (keyof PlannedWebhookBody)[]).filter(
    (k) => !isDeepStrictEqual(planned.body[k], now.body[k]),
  );
  if (fields.length > 0) out.push(`request body changed since the preview (${fields.join(', ')})`);
  if (!isDeepStrictEqual(planned.extra_headers, now.extra_headers))
    out.push('extra headers changed since the preview');
  const settings = (['secret_env', 'timeout_ms', 'retries', 'backoff_ms', 'sends'] as const).filter(
    (k) => planned[k] !== now[k],
  );
  if (settings.length > 0) {
    out.push(
      `delivery settings changed since the preview (${settings.map((k) => `${k} ${planned[k]} → ${now[k]}`).join(', ')})`,
    );
  }
  return out;
}

/** The body minus `requested_by` and `sent_at` (set when sent). Everything comes from the incident's first alert. */
export function webhookBody(ctx: ActionContext, params: RotateWebhookParams): PlannedWebhookBody {
  const { source, destination } = ctx.incident.alert;
  return {
    incident_id: ctx.incident.id,
    service: source.service,
    namespace: source.namespace,
    identity: source.identity ?? null,
    destination: {
      type: destination.type,
      name: destination.name,
      namespace: destination.namespace ?? null,
      port: destination.port,
      protocol: destination.protocol,
    },
    reason:
      params.reason ??
      `egress incident ${ctx.incident.id}: ${describeSource(source)} → ${describeDestination(destination)} (${ctx.incident.verdict.message})`,
    dry_run: ctx.dryRun,
    idempotency_key: ctx.idempotencyKey,
  };
}

function failureMessage(url: string, retries: number, delivery: Delivery): string {
  const { last, attempts, history, stop } = delivery;
  const what = describeResult(last);
  const notes: string[] = [];
  if (stop === 'not_retryable' && last.kind === 'response') {
    notes.push(
      last.status < 400
        ? 'not retried: redirects are not followed, set url to the final address'
        : 'not retried: a 4xx other than 429 means the receiver refused the request',
    );
  } else if (stop === 'exhausted') {
    notes.push(`retries exhausted (${retries})`);
  } else if (stop === 'aborted') {
    notes.push('stopped: the step ran out of time or was cancelled');
  }
  if (attempts > 1) notes.push(`attempts: ${history.join(', ')}`);
  const body =
    last.kind === 'response'
      ? last.bodyExcerpt === ''
        ? '; empty response body'
        : `; response body: ${last.bodyExcerpt}${last.bodyTruncated ? '…' : ''}`
      : '';
  const timed = last.kind === 'timeout' ? ` after ${formatMs(last.timeoutMs)}` : '';
  const why = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  return `rotate.webhook: POST ${url} failed after ${plural(attempts, 'attempt')}: ${what}${timed}${why}${body}`;
}

function describeResult(result: AttemptResult): string {
  switch (result.kind) {
    case 'response':
      return statusLine(result.status, result.statusText);
    case 'timeout':
      return 'timed out';
    case 'network':
      return result.error;
    case 'aborted':
      return 'aborted';
  }
}

function previewHeader(name: string, data: RotateWebhookPlan): string {
  switch (name) {
    case 'Content-Type':
      return 'application/json';
    case 'User-Agent':
      return userAgent();
    case WEBHOOK_HEADERS.timestamp:
      return '<unix seconds when sent>';
    case WEBHOOK_HEADERS.signature:
      return `v1=<HMAC-SHA256 with $${data.secret_env}>`;
    case WEBHOOK_HEADERS.idempotencyKey:
      return data.idempotency_key;
    default:
      return data.extra_headers[name] ?? '';
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
