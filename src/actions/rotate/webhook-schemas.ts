// The data of rotate.webhook: its params (extra headers checked: never ours, never credentials), the
// body as planned and as sent, the plan apply carries out, and the outcome recorded.
import { z } from 'zod';
import { DurationText } from '../../domain/duration.js';
import { formatMs } from './http.js';
import { WEBHOOK_HEADERS } from './signing.js';

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
