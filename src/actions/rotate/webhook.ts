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
 *
 * ## Modules
 * This file is the action; its data is in webhook-schemas.ts, planning and drift in webhook-plan.ts,
 * sending (secret, signature, outcome or error) in webhook-send.ts, attempts and retries in http.ts.
 */
import { CodedError } from '../../domain/errors.js';
import { defineAction, type Outcome } from '../define.js';
import { displayUrl, statusLine } from './http.js';
import { planDrift, webhookPlanData, webhookPreview } from './webhook-plan.js';
import { RotateWebhookOutcome, RotateWebhookParams, RotateWebhookPlan } from './webhook-schemas.js';
import { sendWebhook } from './webhook-send.js';

export {
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
  type WebhookVerification,
} from './signing.js';

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
    const data = webhookPlanData(ctx, params);
    const url = data.url;
    return {
      summary: data.sends
        ? `POST ${url} (signed; dry_run: ${ctx.dryRun})`
        : `POST ${url} not sent (dry-run; on_dry_run: skip)`,
      preview: webhookPreview(data),
      changes: data.sends,
      data,
    };
  },

  async drift(ctx, plan, params) {
    return planDrift(plan.data, webhookPlanData(ctx, params));
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
    return sendWebhook(ctx, d, params.url);
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
