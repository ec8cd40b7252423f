import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseConfig, readEnv } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { loadContracts } from '../../../src/contracts/load.js';
import { allowAll } from '../../../src/domain/access.js';
import { createCore, createRegistry } from '../../../src/main.js';
import { systemClock } from '../../../src/observability/clock.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { loadPlaybooks } from '../../../src/playbooks/load.js';
import { createHttpServer } from '../../../src/server/http.js';
import { createMemoryStore } from '../../../src/store/memory.js';
import { createRedisStore } from '../../../src/store/redis.js';
import type { Store } from '../../../src/store/store.js';
import { startRedisServer } from '../../support/redis.js';

const TOKEN = 'test-alert-token';
const fixtures = join(packageRoot, 'test', 'fixtures');

async function serve(store: Store, opts: { storeTimeoutMs?: number } = {}) {
  const registry = createRegistry();
  const [pb, ct] = await Promise.all([
    loadPlaybooks(join(packageRoot, 'playbooks'), registry),
    loadContracts(join(packageRoot, 'playbooks', 'contracts')),
  ]);
  const config = parseConfig('{}', 'test-config.yaml', packageRoot, readEnv({}));
  const policy = { playbooks: pb.playbooks, contracts: ct.contracts, errors: [] };
  const { engine, recorder } = createCore({
    config,
    store,
    registry,
    policy,
    cluster: undefined,
    log: silentLogger(),
    access: allowAll,
  });
  const server: Server = createHttpServer({
    alerts: {
      recorder: { ...recorder, retryWindowMs: 60_000 },
      token: TOKEN,
      parse: {},
      log: silentLogger(),
      storeTimeoutMs: opts.storeTimeoutMs ?? 2000,
      now: () => Date.now(),
    },
    store,
    clock: systemClock,
    log: silentLogger(),
    metrics: createMetrics(),
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
    fetch(`${base}/alerts`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  return { server, base, post, engine };
}

const event = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    src_service: 'payments-api',
    src_namespace: 'prod',
    dst_type: 'fqdn',
    dst_name: 'exfil.example.net',
    dst_port: 443,
    protocol: 'https',
    ...over,
  });

describe('POST /alerts', () => {
  let ctx: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    ctx = await serve(createMemoryStore());
  });
  afterAll(() => new Promise<void>((r) => ctx.server.close(() => r())));

  it('refuses a missing or wrong token with 401', async () => {
    expect((await ctx.post(event(), {})).status).toBe(401);
    const wrong = await ctx.post(event(), { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('opens one incident, then folds repeats, one entry per alert', async () => {
    const first = await ctx.post(event({ request_id: 'r1' }));
    expect(first.status).toBe(202);
    const a = (await first.json()) as { incidents: { id: string; status: string }[] };
    expect(a.incidents).toEqual([{ id: expect.stringMatching(/^EGR-/), status: 'opened' }]);
    const again = await ctx.post(`[${event({ request_id: 'r2' })},${event({ request_id: 'r1' })}]`);
    const b = (await again.json()) as { incidents: { id: string; status: string }[] };
    expect(b.incidents).toEqual([
      { id: a.incidents[0]!.id, status: 'folded' },
      { id: a.incidents[0]!.id, status: 'duplicate' },
    ]);
    const incident = await ctx.engine.get(a.incidents[0]!.id);
    expect(incident.count).toBe(2); // the retry of r1 was not counted
  });

  it('takes Alertmanager and Falcosidekick payloads on the same path', async () => {
    const am = await ctx.post(await readFile(join(fixtures, 'alertmanager', 'typical-group.json'), 'utf8'));
    expect(am.status).toBe(202);
    const amBody = (await am.json()) as { format: string; incidents: { status: string }[] };
    expect(amBody.format).toBe('alertmanager');
    expect(amBody.incidents.map((i) => i.status)).toEqual(expect.arrayContaining(['opened']));
    const falco = await ctx.post(await readFile(join(fixtures, 'falcosidekick', 'c2-servers.json'), 'utf8'));
    expect(falco.status).toBe(202);
    expect(((await falco.json()) as { format: string }).format).toBe('falcosidekick');
  });

  it('records the valid alerts of a mixed batch and names each invalid one (202); all invalid is 400', async () => {
    const res = await ctx.post(
      `[${event({ dst_name: 'ok.example', request_id: 'good-1' })},${event({ dst_port: 'https' })}]`,
    );
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      alerts: { index: number; status: string; id: string | null; issues?: { path: string }[] }[];
      summary: Record<string, number>;
    };
    expect(body.alerts.map((a) => [a.index, a.status])).toEqual([
      [0, 'opened'],
      [1, 'rejected'],
    ]);
    expect(body.alerts[1]!.issues!.map((i) => i.path)).toEqual(['[1].dst_port']);
    expect(body.summary).toEqual({ opened: 1, rejected: 1 });
    expect((await ctx.engine.get(body.alerts[0]!.id!)).alert.destination.name).toBe('ok.example');

    const bad = await ctx.post(`[${event({ dst_port: 'https' })},${event({ src_namespace: '..' })}]`);
    expect(bad.status).toBe(400);
    const err = (await bad.json()) as { error: string; issues: { path: string; message: string }[] };
    expect(err.error).toBe('alert_invalid');
    expect(err.issues.map((i) => i.path)).toEqual(['[0].dst_port', '[1].src_namespace']);
  });

  it('answers 413 above 1 MiB', async () => {
    const res = await ctx.post(event({ dst_name: 'x'.repeat(1024 * 1024 + 10) }));
    expect(res.status).toBe(413);
  });

  it('serves /healthz and /readyz', async () => {
    expect((await fetch(`${ctx.base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${ctx.base}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', store: 'memory' });
  });
});

describe('POST /alerts when Redis goes away', () => {
  it('answers 503 within 2 seconds (never 202-then-lost), and /readyz says not ready', async () => {
    const redis = await startRedisServer();
    const store = createRedisStore({ url: redis.url, keyPrefix: `alerts-503-${Date.now()}:` });
    const ctx = await serve(store);
    try {
      expect((await ctx.post(event({ dst_name: 'before.example' }))).status).toBe(202);
      await redis.kill();
      const started = Date.now();
      const res = await ctx.post(event({ dst_name: 'after.example' }));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(Date.now() - started).toBeLessThan(2500);
      expect((await fetch(`${ctx.base}/readyz`)).status).toBe(503);
    } finally {
      await new Promise<void>((r) => ctx.server.close(() => r()));
      await store.close().catch(() => undefined);
    }
  });
});
