// What rotate.webhook plans: the request as confirmed (no secret, no URL credentials), its preview,
// and what differs when the step would be planned again.
import { isDeepStrictEqual } from 'node:util';
import { describeDestination, describeSource } from '../../domain/alert.js';
import type { ActionContext } from '../define.js';
import { displayUrl, userAgent } from './http.js';
import { WEBHOOK_HEADERS } from './signing.js';
import type { PlannedWebhookBody, RotateWebhookParams, RotateWebhookPlan } from './webhook-schemas.js';

/** The plan's data: what apply sends (no secret, no URL credentials). */
export function webhookPlanData(ctx: ActionContext, params: RotateWebhookParams): RotateWebhookPlan {
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

/** The request as a person confirms it: line, headers (the secret by name only), body. */
export function webhookPreview(data: RotateWebhookPlan): string {
  const shownBody = {
    ...data.body,
    requested_by: '(set when sent: who applies it)',
    sent_at: '(set when sent)',
  };
  return [
    `POST ${data.url}`,
    ...data.headers.map((h) => `${h}: ${previewHeader(h, data)}`),
    '',
    JSON.stringify(shownBody, null, 2),
  ].join('\n');
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
