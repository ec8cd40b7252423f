import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import {
  backoffDelay,
  displayUrl,
  MAX_BACKOFF_MS,
  parseRetryAfter,
} from '../../../src/actions/rotate/http.js';
import {
  DRY_RUN_SKIP_REASON,
  rotateWebhook,
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
} from '../../../src/actions/rotate/webhook.js';
import type { ActionState, Incident } from '../../../src/domain/incident.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { oneStepPlaybook, testEngine } from '../../builders/engine.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../fakes/webhook-receiver.js';

const SECRET_ENV = 'EGRESS_TEST_ROTATOR_WEBHOOK_SECRET';
const SECRET = 'whsec-test-9c41f07d2be84a31';

/** A one-step hard-mode playbook running rotate.webhook with `params`, over a memory store. */
function rotateEngine(params: Record<string, unknown>, log: Logger = silentLogger()) {
  const t = testEngine({
    yaml: oneStepPlaybook('rotate', 'rotate.webhook', params),
    actions: [rotateWebhook],
    idPrefix: 'EGR-ROT',
    deps: { log },
  });
  return {
    engine: t.engine,
    store: t.store,
    open: (over: Partial<Incident> = {}) => t.open({ mode: 'hard', ...over }),
    timeline: (id: string) => t.store.timeline.read(id),
  };
}

function action(incident: Incident): ActionState {
  return incident.steps.find((s) => s.id === 'rotate')!.actions[0]!;
}

/** Fast defaults: tests set small timeouts and a 1 ms backoff. */
function params(receiver: WebhookReceiver, over: Record<string, unknown> = {}) {
  return { url: receiver.url, secret_env: SECRET_ENV, timeout: '2s', backoff_ms: 1, ...over };
}

let receiver: WebhookReceiver;

beforeEach(async () => {
  process.env[SECRET_ENV] = SECRET;
  receiver = await startWebhookReceiver({ secret: SECRET });
});

afterEach(async () => {
  await receiver.close();
  delete process.env[SECRET_ENV];
});

describe('rotate.webhook through the engine', () => {
  it('POSTs a signed body with every documented field, and records and verifies the answer', async () => {
    receiver.respondWith([{ status: 202, body: '{"rotated":true}' }]);
    const t = rotateEngine(
      params(receiver, { reason: 'rotate after exfil', headers: { 'X-Team': 'payments' } }),
    );
    const { id } = await t.open();
    const inc = await t.engine.advance(id);

    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.validSignature).toBe(true);
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hooks/rotate');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^egress-responder\/\d+\.\d+\.\d+/);
    expect(req.headers['x-team']).toBe('payments');
    expect(req.headers['x-egress-responder-timestamp']).toMatch(/^\d{10}$/);
    expect(req.headers['x-egress-responder-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(req.headers['x-egress-responder-idempotency-key']).toBe(`${id}:rotate:rotate.webhook`);
    expect(req.body).toEqual({
      incident_id: id,
      service: 'payments-api',
      namespace: 'prod',
      identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
      destination: { type: 'fqdn', name: 'exfil.example.net', namespace: null, port: 443, protocol: 'https' },
      reason: 'rotate after exfil',
      dry_run: false,
      idempotency_key: `${id}:rotate:rotate.webhook`,
      requested_by: 'system',
      sent_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    // The timestamp header and sent_at describe the same moment.
    const ts = Number(req.headers['x-egress-responder-timestamp']);
    expect(Math.floor(Date.parse((req.body as { sent_at: string }).sent_at) / 1000)).toBe(ts);

    expect(inc.steps[0]!.status).toBe('completed');
    const a = action(inc);
    expect(a.status).toBe('verified');
    expect(a.outcome).toMatchObject({
      status: 'applied',
      summary: `POST ${receiver.url} → 202 Accepted after 1 attempt`,
      data: { status: 202, attempts: 1, bodyExcerpt: '{"rotated":true}', url: receiver.url },
    });
    const events = await t.timeline(id);
    expect(events.find((e) => e.kind === 'action.planned')?.summary).toContain(
      `rotate.webhook planned: POST ${receiver.url} (signed; dry_run: false)`,
    );
    expect(events.find((e) => e.kind === 'action.verified')?.summary).toBe(
      'Rotation webhook acknowledged: 202 Accepted',
    );
  });

  it('a default reason names the source, the destination and the verdict', async () => {
    const t = rotateEngine(params(receiver));
    const { id } = await t.open();
    await t.engine.advance(id);
    expect((receiver.requests[0]!.body as { reason: string }).reason).toBe(
      `egress incident ${id}: payments-api.prod (spiffe://cluster.local/ns/prod/sa/payments-api) → ` +
        'fqdn exfil.example.net:443/https (payments-api has no egress contract)',
    );
  });

  it('in a drill the receiver gets dry_run: true', async () => {
    const t = rotateEngine(params(receiver));
    const { id } = await t.open({ drill: true });
    const inc = await t.engine.advance(id);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.validSignature).toBe(true);
    expect(receiver.requests[0]!.body).toMatchObject({ dry_run: true });
    expect(action(inc).status).toBe('verified');
    const applied = (await t.timeline(id)).find((e) => e.kind === 'action.applied');
    expect(applied?.summary).toMatch(/^\[dry-run\] rotate\.webhook /);
    expect(applied?.summary).toContain(`: POST ${receiver.url} → 202 Accepted after 1 attempt`);
  });

  it('in a drill with on_dry_run: skip nothing is sent and the step records why', async () => {
    const t = rotateEngine(params(receiver, { on_dry_run: 'skip' }));
    const { id } = await t.open({ drill: true });
    const inc = await t.engine.advance(id);
    expect(receiver.requests).toHaveLength(0);
    expect(inc.steps[0]!.status).toBe('completed');
    expect(action(inc)).toMatchObject({ status: 'skipped', reason: DRY_RUN_SKIP_REASON });
    expect(DRY_RUN_SKIP_REASON).toBe('dry-run: webhook not called (on_dry_run: skip)');
    const skipped = (await t.timeline(id)).find((e) => e.kind === 'action.skipped');
    expect(skipped?.summary).toMatch(/^\[dry-run\] rotate\.webhook /);
    expect(skipped?.summary).toContain(`POST ${receiver.url} not sent (${DRY_RUN_SKIP_REASON})`);
  });

  it('on_dry_run: skip does not hold back a real incident', async () => {
    const t = rotateEngine(params(receiver, { on_dry_run: 'skip' }));
    const { id } = await t.open();
    await t.engine.advance(id);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.body).toMatchObject({ dry_run: false });
  });

  it('retries 500 and 503, then records the 202 after 3 attempts', async () => {
    receiver.respondWith([
      { status: 500, body: 'boom' },
      { status: 503, retryAfter: 0 },
      { status: 202, body: '{"rotated":true}' },
    ]);
    const t = rotateEngine(params(receiver));
    const { id } = await t.open();
    const inc = await t.engine.advance(id);
    expect(receiver.requests.map((r) => r.answered)).toEqual([500, 503, 202]);
    expect(receiver.requests.every((r) => r.validSignature)).toBe(true);
    expect(action(inc)).toMatchObject({
      status: 'verified',
      outcome: {
        data: {
          status: 202,
          attempts: 3,
          history: ['500 Internal Server Error', '503 Service Unavailable', '202 Accepted'],
        },
      },
    });
    const applied = (await t.timeline(id)).find((e) => e.kind === 'action.applied');
    expect(applied?.summary).toMatch(/^rotate\.webhook /);
    expect(applied?.summary).toContain(`POST ${receiver.url} → 202 Accepted after 3 attempts`);
  });

  it('on a 429 waits what Retry-After says instead of the backoff', async () => {
    receiver.respondWith([{ status: 429, retryAfter: 0 }]);
    const t = rotateEngine(params(receiver, { backoff_ms: 5_000 }));
    const { id } = await t.open();
    const started = Date.now();
    const inc = await t.engine.advance(id);
    expect(Date.now() - started).toBeLessThan(2_000); // a 5 s backoff would have been 2.5–5 s
    expect(receiver.requests.map((r) => r.answered)).toEqual([429, 202]);
    expect(action(inc).status).toBe('verified');
  });

  it('records at most 300 characters of the body, without control characters', async () => {
    const long = `line one\r\n\tline\u0000two\u202e${'x'.repeat(1000)}`;
    receiver.respondWith([{ status: 202, body: long }]);
    const t = rotateEngine(params(receiver));
    const { id } = await t.open();
    const inc = await t.engine.advance(id);
    const data = (action(inc).outcome as { data: { bodyExcerpt: string; bodyTruncated: boolean } }).data;
    expect(data.bodyExcerpt).toHaveLength(300);
    expect(data.bodyExcerpt.startsWith('line one linetwoxxx')).toBe(true);
    expect(data.bodyTruncated).toBe(true);
  });

  it('never retries a 400: fails after 1 attempt naming the status and the body excerpt', async () => {
    receiver.respondWith([{ status: 400, body: '{"error":"unknown service payments-api"}\n' }]);
    const t = rotateEngine(params(receiver));
    const { id } = await t.open();
    const inc = await t.engine.advance(id);
    expect(receiver.requests).toHaveLength(1);
    expect(inc.steps[0]!.status).toBe('failed');
    const message =
      `rotate.webhook: POST ${receiver.url} failed after 1 attempt: 400 Bad Request ` +
      '(not retried: a 4xx other than 429 means the receiver refused the request); ' +
      'response body: {"error":"unknown service payments-api"}';
    expect(action(inc).error).toEqual({ code: 'action_failed', message });
    const failed = (await t.timeline(id)).find((e) => e.kind === 'action.failed');
    expect(failed?.summary).toMatch(/^rotate\.webhook failed/);
    expect(failed?.summary).toContain(message);
  });

  it('does not follow redirects', async () => {
    receiver.respondWith([{ status: 307, headers: { location: 'http://127.0.0.1:1/elsewhere' } }]);
    const t = rotateEngine(params(receiver));
    const { id } = await t.open();
    const inc = await t.engine.advance(id);
    expect(receiver.requests).toHaveLength(1);
    expect(action(inc).error?.message).toContain(
      'failed after 1 attempt: 307 Temporary Redirect (not retried: redirects are not followed',
    );
  });

  it('retries a 5xx until the retries run out, keeping the last body', async () => {
    receiver.setDefault({ status: 502, body: 'upstream vault unavailable' });
    const t = rotateEngine(params(receiver, { retries: 2 }));
    const { id } = await t.open();
    const inc = await t.engine.advance(id);
    expect(receiver.requests).toHaveLength(3);
    expect(action(inc).error?.message).toBe(
      `rotate.webhook: POST ${receiver.url} failed after 3 attempts: 502 Bad Gateway (retries exhausted (2); ` +
        'attempts: 502 Bad Gateway, 502 Bad Gateway, 502 Bad Gateway); response body: upstream vault unavailable',
    );
  });

  it('a receiver slower than the timeout is retried, then fails with a timeout message', async () => {
    receiver.setDefault({ status: 202, delayMs: 2_000 });
    const t = rotateEngine(params(receiver, { timeout: '100ms', retries: 2 }));
    const { id } = await t.open();
    const started = Date.now();
    const inc = await t.engine.advance(id);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(receiver.requests).toHaveLength(3);
    expect(inc.steps[0]!.status).toBe('failed');
    expect(action(inc).error).toEqual({
      code: 'action_failed',
      message:
        `rotate.webhook: POST ${receiver.url} failed after 3 attempts: timed out after 100ms ` +
        '(retries exhausted (2); attempts: timeout, timeout, timeout)',
    });
  });

  it('an unreachable receiver is a network error, retried', async () => {
    const port = await closedPort();
    const t = rotateEngine({
      url: `http://127.0.0.1:${port}/hooks`,
      secret_env: SECRET_ENV,
      retries: 1,
      backoff_ms: 1,
    });
    const { id } = await t.open();
    const inc = await t.engine.advance(id);
    const message = action(inc).error?.message ?? '';
    expect(message).toContain(`POST http://127.0.0.1:${port}/hooks failed after 2 attempts: network error: `);
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain('attempts: network error, network error');
  });

  it('fails naming the missing environment variable, and sends nothing', async () => {
    delete process.env[SECRET_ENV];
    const t = rotateEngine(params(receiver));
    const { id } = await t.open();
    const inc = await t.engine.advance(id);
    expect(receiver.requests).toHaveLength(0);
    expect(inc.steps[0]!.status).toBe('failed');
    expect(action(inc).error).toEqual({
      code: 'config_invalid',
      message: `rotate.webhook: environment variable ${SECRET_ENV} is not set (it must hold the HMAC secret for ${receiver.url}); nothing was sent`,
    });
  });

  it('reads the secret when sending, not when planning', async () => {
    delete process.env[SECRET_ENV];
    const t = rotateEngine(params(receiver));
    const { id } = await t.open();
    let inc = await t.engine.advance(id);
    expect(inc.steps[0]!.status).toBe('failed');
    process.env[SECRET_ENV] = SECRET;
    inc = await t.engine.retryStep(id, 'rotate', 'slack:U1');
    expect(inc.steps[0]!.status).toBe('completed');
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.validSignature).toBe(true);
  });

  it('keeps one idempotency key across retries and after engine.retryStep', async () => {
    receiver.respondWith([{ status: 500 }, { status: 500 }]);
    const t = rotateEngine(params(receiver, { retries: 1 }));
    const { id } = await t.open();
    let inc = await t.engine.advance(id);
    expect(inc.steps[0]!.status).toBe('failed');
    expect(receiver.requests).toHaveLength(2);

    receiver.respondWith([{ status: 202 }]);
    inc = await t.engine.retryStep(id, 'rotate', 'slack:U1');
    expect(inc.steps[0]!.status).toBe('completed');
    expect(receiver.requests).toHaveLength(3);
    const key = `${id}:rotate:rotate.webhook`;
    expect(receiver.requests.map((r) => r.headers['x-egress-responder-idempotency-key'])).toEqual([
      key,
      key,
      key,
    ]);
    expect(receiver.requests.map((r) => (r.body as { idempotency_key: string }).idempotency_key)).toEqual([
      key,
      key,
      key,
    ]);
    // The retry was asked for by a responder: the body says who.
    expect((receiver.requests[2]!.body as { requested_by: string }).requested_by).toBe('slack:U1');
  });

  it('never records the secret, URL credentials or query tokens, even when the receiver echoes them', async () => {
    const u = new URL(receiver.url);
    u.username = 'rotator';
    u.password = 'pa55-w0rd-xyz';
    u.searchParams.set('token', 'qtok-5d1e2f');
    const echo = `{"error":"bad secret ${SECRET} for token qtok-5d1e2f"}`;
    receiver.respondWith([
      { status: 500, body: echo },
      { status: 403, body: echo },
    ]);
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const t = rotateEngine(params(receiver, { url: u.href, retries: 3 }), log);
    const { id } = await t.open();
    let inc = await t.engine.advance(id);
    expect(receiver.requests).toHaveLength(2);
    // Userinfo travels as Basic auth, not in the request line.
    expect(receiver.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('rotator:pa55-w0rd-xyz').toString('base64')}`,
    );
    expect(receiver.requests[0]!.validSignature).toBe(true);
    expect(receiver.requests[0]!.path).toBe('/hooks/rotate?token=qtok-5d1e2f');
    expect(action(inc).error?.message).toContain('403 Forbidden');
    expect(action(inc).error?.message).toContain('[redacted]');

    receiver.respondWith([{ status: 202, body: echo }]);
    inc = await t.engine.retryStep(id, 'rotate', 'slack:U1');
    expect(inc.steps[0]!.status).toBe('completed');
    const shown = `http://127.0.0.1:${u.port}/hooks/rotate?token=redacted`;
    expect(action(inc).outcome).toMatchObject({ summary: `POST ${shown} → 202 Accepted after 1 attempt` });

    const recorded = JSON.stringify({
      timeline: await t.timeline(id),
      incident: await t.engine.get(id),
      logs: lines,
    });
    expect(lines.some((l) => l.includes('rotation webhook attempt'))).toBe(true);
    const basic = Buffer.from('rotator:pa55-w0rd-xyz').toString('base64');
    for (const leak of [SECRET, 'pa55-w0rd-xyz', 'qtok-5d1e2f', basic]) {
      expect(recorded).not.toContain(leak);
    }
    expect(recorded).toContain(shown);
  });

  it('refuses bad parameters when the playbook is loaded', () => {
    const bad = [
      { url: 'ftp://rotator.internal/x', secret_env: SECRET_ENV },
      { url: 'https://rotator.internal/x' },
      { url: 'https://rotator.internal/x', secret_env: 'not a name' },
      { url: 'https://rotator.internal/x', secret_env: SECRET_ENV, retries: 6 },
      { url: 'https://rotator.internal/x', secret_env: SECRET_ENV, timeout: '5m' },
      { url: 'https://rotator.internal/x', secret_env: SECRET_ENV, timeout: 'soon' },
      { url: 'https://rotator.internal/x', secret_env: SECRET_ENV, headers: { Authorization: 'Bearer x' } },
      {
        url: 'https://rotator.internal/x',
        secret_env: SECRET_ENV,
        headers: { 'X-Egress-Responder-Signature': 'x' },
      },
      { url: 'https://rotator.internal/x', secret_env: SECRET_ENV, secret: 'inline' },
    ];
    for (const p of bad) {
      expect(() => rotateEngine(p)).toThrow(expect.objectContaining({ code: 'playbook_invalid' }));
    }
    expect(rotateWebhook.params.parse({ url: 'https://rotator.internal/x', secret_env: 'S' })).toEqual({
      url: 'https://rotator.internal/x',
      secret_env: 'S',
      timeout: 10_000,
      retries: 3,
      backoff_ms: 500,
      on_dry_run: 'send',
    });
  });

  it('plans without reading the secret, showing the body and the headers', async () => {
    delete process.env[SECRET_ENV];
    const t = rotateEngine(params(receiver));
    const { id } = await t.open({ mode: 'soft' });
    const inc = await t.engine.advance(id);
    expect(inc.steps[0]!.status).toBe('awaiting_confirmation');
    const plan = action(inc).plan as { summary: string; preview: string; data: Record<string, unknown> };
    expect(plan.summary).toBe(`POST ${receiver.url} (signed; dry_run: false)`);
    expect(plan.preview).toContain(`${WEBHOOK_HEADERS.signature}: v1=<HMAC-SHA256 with $${SECRET_ENV}>`);
    expect(plan.preview).toContain(`"idempotency_key": "${id}:rotate:rotate.webhook"`);
    expect(plan.data).toMatchObject({ url: receiver.url, secret_env: SECRET_ENV, retries: 3 });
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('webhook signing', () => {
  const body = '{"incident_id":"EGR-1"}';
  const now = 1_790_000_000;
  const headersFor = (ts: number, b = body, secret = SECRET) => ({
    [WEBHOOK_HEADERS.timestamp]: String(ts),
    [WEBHOOK_HEADERS.signature]: signWebhook(secret, ts, b),
  });

  it('signs v1 as hex HMAC-SHA256 over "v1:<timestamp>:<body>"', () => {
    const expected = createHmac('sha256', SECRET).update(`v1:${now}:${body}`).digest('hex');
    expect(signWebhook(SECRET, now, body)).toBe(`v1=${expected}`);
    expect(signWebhook(SECRET, now, Buffer.from(body))).toBe(`v1=${expected}`);
  });

  it('accepts a good signature from a plain record (any case) or a fetch Headers', () => {
    expect(verifyWebhookSignature(SECRET, headersFor(now), body, now)).toEqual({ ok: true, timestamp: now });
    const lower = Object.fromEntries(Object.entries(headersFor(now)).map(([k, v]) => [k.toLowerCase(), v]));
    expect(verifyWebhookSignature(SECRET, lower, body, now + 299).ok).toBe(true);
    expect(verifyWebhookSignature(SECRET, new Headers(headersFor(now)), body, now).ok).toBe(true);
  });

  it('accepts any one of several v1 signatures (a receiver rotating its secret)', () => {
    const h = headersFor(now);
    const both = {
      ...h,
      [WEBHOOK_HEADERS.signature]: `v1=${'0'.repeat(64)}, ${h[WEBHOOK_HEADERS.signature]}`,
    };
    expect(verifyWebhookSignature(SECRET, both, body, now).ok).toBe(true);
  });

  it('refuses a changed body, another secret, a stale or future timestamp and missing headers', () => {
    expect(verifyWebhookSignature(SECRET, headersFor(now), `${body} `, now)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect(verifyWebhookSignature(SECRET, headersFor(now, body, 'other'), body, now).ok).toBe(false);
    expect(verifyWebhookSignature(SECRET, headersFor(now - 301), body, now)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('more than 300s away'),
    });
    expect(verifyWebhookSignature(SECRET, headersFor(now + 61), body, now, 60).ok).toBe(false);
    expect(verifyWebhookSignature(SECRET, {}, body, now)).toEqual({
      ok: false,
      reason: `missing ${WEBHOOK_HEADERS.timestamp}`,
    });
    const h = headersFor(now);
    expect(verifyWebhookSignature(SECRET, { ...h, [WEBHOOK_HEADERS.signature]: 'v1=zz' }, body, now).ok).toBe(
      false,
    );
    expect(verifyWebhookSignature(SECRET, { ...h, [WEBHOOK_HEADERS.timestamp]: '12ab' }, body, now).ok).toBe(
      false,
    );
  });

  it('the receiver answers 401 to a bad signature and records it', async () => {
    const res = await fetch(receiver.url, {
      method: 'POST',
      headers: headersFor(Math.floor(Date.now() / 1000), body, 'wrong-secret'),
      body,
    });
    expect(res.status).toBe(401);
    expect(receiver.requests[0]).toMatchObject({
      validSignature: false,
      signatureProblem: 'signature does not match',
    });
  });
});

describe('webhook delivery helpers', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-25T14:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 14:00:07 GMT', now)).toBe(7_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 13:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with jitter, bounded', () => {
    expect(backoffDelay(500, 0, () => 0)).toBe(250);
    expect(backoffDelay(500, 0, () => 1)).toBe(500);
    expect(backoffDelay(500, 2, () => 1)).toBe(2_000);
    expect(backoffDelay(500, 10, () => 1)).toBe(MAX_BACKOFF_MS);
  });

  it('shows URLs without userinfo, fragment or query values', () => {
    expect(displayUrl('https://u:p@rotator.internal:8443/hooks/x?token=abc&env=prod#frag')).toBe(
      'https://rotator.internal:8443/hooks/x?token=redacted&env=redacted',
    );
    expect(displayUrl('https://rotator.internal/hooks/payments')).toBe(
      'https://rotator.internal/hooks/payments',
    );
  });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
