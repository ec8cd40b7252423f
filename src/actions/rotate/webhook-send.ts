// Sending a planned rotate.webhook request: the secret read from the environment only now, each
// attempt signed afresh (retries are http.ts's), and the answer turned into an outcome or an error
// with every secret scrubbed.
import { CodedError } from '../../domain/errors.js';
import type { ActionContext, Outcome } from '../define.js';
import {
  type AttemptResult,
  type Delivery,
  deliver,
  fetchTarget,
  formatMs,
  scrubber,
  statusLine,
  userAgent,
} from './http.js';
import { signWebhook, WEBHOOK_HEADERS } from './signing.js';
import type { RotateWebhookBody, RotateWebhookOutcome, RotateWebhookPlan } from './webhook-schemas.js';

/**
 * POST the planned request to `realUrl` (the playbook's url, credentials included: they are never in
 * the plan). Resolves when the receiver answers 2xx; throws otherwise.
 */
export async function sendWebhook(
  ctx: ActionContext,
  d: RotateWebhookPlan,
  realUrl: string,
): Promise<Outcome<RotateWebhookOutcome>> {
  const url = d.url;
  const secret = process.env[d.secret_env];
  if (!secret) {
    throw new CodedError(
      'config_invalid',
      `rotate.webhook: environment variable ${d.secret_env} is not set (it must hold the HMAC secret for ${url}); nothing was sent`,
      { details: { secret_env: d.secret_env, url } },
    );
  }
  const target = fetchTarget(realUrl);
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

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
