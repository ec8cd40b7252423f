import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import { createLogger } from '../../../src/observability/logger.js';
import { createRedisStore } from '../../../src/store/redis.js';
import { keyBase } from '../../../src/store/redis-keys.js';
import type { Store } from '../../../src/store/store.js';
import {
  freePort,
  type PrivateRedis,
  startRedisServer,
  testRedisClient,
  uniquePrefix,
} from '../../support/redis.js';
import {
  type AlertAnswer,
  countBy,
  egressEvent,
  incidentsByName,
  type Posted,
  RECORDED,
  type Served,
  type SlowProxy,
  serve,
  slowProxy,
  TOKEN,
} from './intake-harness.js';

// POST /alerts under fire, against a real Redis (a private redis-server for this file) through real
// HTTP: concurrent repeats of one anomaly, many clients posting big batches, a deadline that passes
// mid-batch, a Redis that stops answering, invalid and hostile items, and what the log says about every
// refusal. The answer must always say exactly what the store holds, and a retry must never count twice.

jest.setTimeout(20_000);

/** What a test measured; printed with INTAKE_TEST_FIGURES=1 (quiet in CI). */
function figure(text: string): void {
  if (process.env.INTAKE_TEST_FIGURES) console.info(text);
}

let redis: PrivateRedis;
const stores: Store[] = [];
const servers: Served[] = [];
const proxies: SlowProxy[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  redis.resume(); // never leave it stopped, whatever a test did
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
});

afterAll(async () => {
  redis?.resume();
  await redis?.kill();
});

/** A Redis store under a fresh prefix (so counts are this test's only), closed after the test. */
function freshStore(opts: { url?: string; commandTimeoutMs?: number } = {}): {
  store: Store;
  prefix: string;
} {
  const prefix = uniquePrefix('intake-under-fire');
  const store = createRedisStore({
    url: opts.url ?? redis.url,
    keyPrefix: prefix,
    ...(opts.commandTimeoutMs ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
  });
  stores.push(store);
  return { store, prefix };
}

async function served(store: Store, opts: Parameters<typeof serve>[1] = {}): Promise<Served> {
  const s = await serve(store, opts);
  servers.push(s);
  return s;
}

/** n alerts over `anomalies` anomalies (interleaved: alert i is anomaly i % anomalies), each its own request id. */
function batchOf(n: number, anomalies: number, tag: string) {
  return Array.from({ length: n }, (_, i) => ({
    ...egressEvent(`${tag}-${i % anomalies}`),
    request_id: `${tag}-${i}`,
  }));
}

/**
 * What the store holds vs what the answer said, alert by alert: a recorded status → its delivery key
 * is claimed in Redis (the claim is part of the same script as the fold, see store.ts AlertRecord);
 * not_recorded → it is not; unknown → either. Every anomaly's stored count is exactly the number of
 * its alerts that the store holds, and its timeline has one alert event per counted alert.
 * Returns which alerts the store holds.
 */
async function expectAnswerMatchesStore(
  store: Store,
  prefix: string,
  sent: ReturnType<typeof batchOf>,
  answers: AlertAnswer[],
): Promise<{ held: boolean[]; unknown: number }> {
  expect(answers.map((a) => a.index)).toEqual(sent.map((_, i) => i));
  const client = testRedisClient(redis.url);
  let held: boolean[];
  try {
    const keys = sent.map((a) => `${keyBase(prefix)}dedupe:request:egress-event:${a.request_id}`);
    const exists = await client.pipeline(keys.map((k) => ['exists', k])).exec();
    held = (exists ?? []).map(([err, n]) => {
      if (err) throw err;
      return n === 1;
    });
  } finally {
    await client.quit();
  }
  const mismatched = answers.flatMap((a, i) =>
    (RECORDED.has(a.status) && !held[i]) || (a.status === 'not_recorded' && held[i])
      ? [`[${i}] ${a.status} but the store ${held[i] ? 'holds' : 'does not hold'} it`]
      : [],
  );
  expect(mismatched).toEqual([]);
  const expected = countBy(
    sent.filter((_, i) => held[i]),
    (a) => a.dst_name,
  );
  const stored = await incidentsByName(store);
  expect(new Map([...stored].map(([name, i]) => [name, i.count]))).toEqual(expected);
  for (const [i, a] of answers.entries()) {
    if (a.status === 'opened' || a.status === 'folded') expect(a.id).toBe(stored.get(sent[i]!.dst_name)?.id);
  }
  for (const incident of stored.values()) {
    const events = await store.timeline.read(incident.id);
    const alertEvents = events.filter((e) => e.kind === 'alert.received' || e.kind === 'alert.folded');
    expect(alertEvents).toHaveLength(incident.count);
    expect(new Set(alertEvents.map((e) => e.id)).size).toBe(incident.count);
  }
  return { held, unknown: answers.filter((a) => a.status === 'unknown').length };
}

describe('POST /alerts under fire (real Redis, real HTTP)', () => {
  it('50 concurrent repeats of one anomaly: all 202, one opened, 49 folded, count 50, 50 distinct events; the same 50 again are duplicates', async () => {
    const { store } = freshStore();
    const s = await served(store);
    const alerts = Array.from({ length: 50 }, (_, i) => egressEvent('one', { request_id: `repeat-${i}` }));

    const first = await Promise.all(alerts.map((a) => s.post(a)));
    expect(first.map((r) => r.status)).toEqual(Array(50).fill(202));
    const statuses = first.map((r) => r.body.alerts[0]!.status);
    expect(countBy(statuses, (x) => x)).toEqual(
      new Map([
        ['opened', 1],
        ['folded', 49],
      ]),
    );
    const ids = new Set(first.map((r) => r.body.alerts[0]!.id));
    expect(ids.size).toBe(1);
    const id = [...ids][0]!;
    const incident = await store.incidents.get(id);
    expect(incident?.count).toBe(50);
    expect((await store.incidents.list()).map((i) => i.id)).toEqual([id]);
    const events = await store.timeline.read(id);
    const alertEvents = events.filter((e) => e.kind === 'alert.received' || e.kind === 'alert.folded');
    expect(alertEvents).toHaveLength(50);
    expect(new Set(alertEvents.map((e) => e.id)).size).toBe(50);
    expect(events.filter((e) => e.kind === 'alert.received')).toHaveLength(1);
    // Each fold saw its own count: 2..50, every one once.
    const foldCounts = events.filter((e) => e.kind === 'alert.folded').map((e) => e.details.count);
    expect(foldCounts.sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 49 }, (_, i) => i + 2),
    );

    const again = await Promise.all(alerts.map((a) => s.post(a)));
    expect(again.map((r) => r.status)).toEqual(Array(50).fill(202));
    expect(again.map((r) => r.body.alerts[0]!.status)).toEqual(Array(50).fill('duplicate'));
    expect(again.map((r) => r.body.alerts[0]!.id)).toEqual(Array(50).fill(id));
    expect((await store.incidents.get(id))?.count).toBe(50);
    expect(await store.timeline.read(id)).toHaveLength(events.length);
  });

  const CLIENTS = 16;
  const BATCHES = 2;
  const PER_BATCH = 100;
  const ANOMALIES = 50;
  it(`batches under load: ${CLIENTS} clients × ${BATCHES} batches × ${PER_BATCH} = ${CLIENTS * BATCHES * PER_BATCH} alerts over ${ANOMALIES} anomalies, each exactly counted; every batch retried once is all duplicates`, async () => {
    const { store } = freshStore();
    const s = await served(store, { storeTimeoutMs: 10_000 });
    const batch = (c: number, b: number) =>
      Array.from({ length: PER_BATCH }, (_, j) =>
        egressEvent(`load-${(c * BATCHES * PER_BATCH + b * PER_BATCH + j) % ANOMALIES}`, {
          request_id: `load-${c}-${b}-${j}`,
        }),
      );
    const client = async (c: number): Promise<Posted[]> => {
      const out: Posted[] = [];
      for (let b = 0; b < BATCHES; b++) out.push(await s.post(batch(c, b)));
      return out;
    };
    const started = performance.now();
    const answers = (await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)))).flat();
    const firstPassMs = performance.now() - started;

    expect(answers.map((r) => r.status)).toEqual(Array(CLIENTS * BATCHES).fill(202));
    for (const r of answers) {
      expect((r.body.summary.opened ?? 0) + (r.body.summary.folded ?? 0)).toBe(PER_BATCH);
      expect(Object.keys(r.body.summary).filter((k) => k !== 'opened' && k !== 'folded')).toEqual([]);
      expect(r.body.alerts).toHaveLength(PER_BATCH);
    }
    const opened = answers.reduce((n, r) => n + (r.body.summary.opened ?? 0), 0);
    expect(opened).toBe(ANOMALIES);
    const stored = await incidentsByName(store);
    expect(stored.size).toBe(ANOMALIES);
    // Every answer named the one incident of its anomaly.
    const wrongIds = answers.flatMap((r, n) => {
      const c = Math.floor(n / BATCHES);
      const sent = batch(c, n % BATCHES);
      return r.body.alerts.filter((a) => a.id !== stored.get(sent[a.index]!.dst_name)?.id);
    });
    expect(wrongIds).toEqual([]);
    const total = CLIENTS * BATCHES * PER_BATCH;
    expect([...stored.values()].reduce((n, i) => n + i.count, 0)).toBe(total);
    for (const i of stored.values()) expect(i.count).toBe(total / ANOMALIES);

    const retryStarted = performance.now();
    const retries = (
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, c) => {
          const out: Posted[] = [];
          for (let b = 0; b < BATCHES; b++) out.push(await s.post(batch(c, b)));
          return out;
        }),
      )
    ).flat();
    const retryMs = performance.now() - retryStarted;
    expect(retries.map((r) => r.status)).toEqual(Array(CLIENTS * BATCHES).fill(202));
    for (const r of retries) expect(r.body.summary).toEqual({ duplicate: PER_BATCH });
    const after = await incidentsByName(store);
    expect([...after.values()].reduce((n, i) => n + i.count, 0)).toBe(total);
    figure(
      `load: ${total} alerts in ${Math.round(firstPassMs)} ms (${Math.round(total / (firstPassMs / 1000))}/s); retry in ${Math.round(retryMs)} ms`,
    );
  }, 40_000);

  it('a 1,000-alert batch (250 anomalies) answers 202 well within the deadline, and every opened incident has advance:<id> queued', async () => {
    const { store } = freshStore();
    const storeTimeoutMs = 2000; // a fifth of the default intake.requestTimeout: one batch alone is fast
    const s = await served(store, { storeTimeoutMs });
    const sent = batchOf(1000, 250, 'big');
    const r = await s.post(sent);
    expect(r.status).toBe(202);
    expect(r.body.summary).toEqual({ opened: 250, folded: 750 });
    expect(r.ms).toBeLessThan(storeTimeoutMs);
    figure(`1,000-alert batch answered in ${Math.round(r.ms)} ms (deadline ${storeTimeoutMs} ms)`);

    const openedIds = r.body.alerts.filter((a) => a.status === 'opened').map((a) => a.id!);
    expect(new Set(openedIds).size).toBe(250);
    const queued = await store.schedule.due(Number.POSITIVE_INFINITY);
    const byId = new Map(queued.map((q) => [q.id, q]));
    for (const id of openedIds) {
      expect(byId.get(`advance:${id}`)?.data).toEqual({ kind: 'advance', incidentId: id });
    }
    expect(queued.filter((q) => q.id.startsWith('advance:'))).toHaveLength(250);
  });

  describe('the deadline is honest', () => {
    it('Redis slowed down (10 ms per command, deadline 150 ms, 300 alerts): 503 naming exactly what was not recorded; the retry records the rest, counting nothing twice', async () => {
      const proxy = await slowProxy(redis.port, 0);
      proxies.push(proxy);
      const { store, prefix } = freshStore({ url: proxy.url });
      await store.ping(); // connected before the clock starts
      const s = await served(store, { storeTimeoutMs: 150 });
      const sent = batchOf(300, 30, 'slow');

      proxy.setDelay(10);
      const r = await s.post(sent);
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBe('5');
      expect(r.body.error).toBe('store_unavailable');
      const statuses = countBy(r.body.alerts, (a) => a.status);
      // The deadline passed mid-batch: some recorded, the rest certainly not, nothing left in doubt.
      expect((statuses.get('opened') ?? 0) + (statuses.get('folded') ?? 0)).toBeGreaterThan(0);
      expect(statuses.get('not_recorded') ?? 0).toBeGreaterThan(0);
      expect(statuses.get('unknown') ?? 0).toBe(0);
      for (const a of r.body.alerts.filter((x) => x.status === 'not_recorded')) {
        expect(a).toMatchObject({ id: null, error: expect.any(String) });
      }
      expect(r.body.summary).toEqual(Object.fromEntries(statuses));
      const { held } = await expectAnswerMatchesStore(store, prefix, sent, r.body.alerts);
      figure(
        `slowed Redis: ${held.filter(Boolean).length} of 300 recorded before the 150 ms deadline, answered in ${Math.round(r.ms)} ms`,
      );

      // Redis fast again; the sender retries the whole batch (here to a replica with the usual deadline:
      // 300 alerts take longer than 150 ms on a 2-core machine even without the delay).
      proxy.setDelay(0);
      const healthy = await served(store, { storeTimeoutMs: 5000 });
      const retry = await healthy.post(sent);
      expect(retry.status).toBe(202);
      retry.body.alerts.forEach((a, i) => {
        expect([i, a.status]).toEqual([
          i,
          held[i] ? 'duplicate' : expect.stringMatching(/^(opened|folded)$/),
        ]);
      });
      await expectAnswerMatchesStore(store, prefix, sent, retry.body.alerts);
      const stored = await incidentsByName(store);
      expect(stored.size).toBe(30);
      for (const i of stored.values()) expect(i.count).toBe(10);
    });

    it('a 1 ms deadline: 503, every alert not_recorded and absent from the store; a retry on a server with time records all 300 once', async () => {
      const { store, prefix } = freshStore();
      const s = await served(store, { storeTimeoutMs: 1 });
      const sent = batchOf(300, 30, 'tiny');
      const r = await s.post(sent);
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBe('5');
      // Parsing 300 alerts alone takes longer than 1 ms: none was sent to the store.
      expect(r.body.summary).toEqual({ not_recorded: 300 });
      const { held } = await expectAnswerMatchesStore(store, prefix, sent, r.body.alerts);

      const healthy = await served(store, { storeTimeoutMs: 2000 });
      const retry = await healthy.post(sent);
      expect(retry.status).toBe(202);
      retry.body.alerts.forEach((a, i) => {
        expect([i, a.status]).toEqual([
          i,
          held[i] ? 'duplicate' : expect.stringMatching(/^(opened|folded)$/),
        ]);
      });
      await expectAnswerMatchesStore(store, prefix, sent, retry.body.alerts);
      const stored = await incidentsByName(store);
      expect(stored.size).toBe(30);
      for (const i of stored.values()) expect(i.count).toBe(10);
    });
  });

  // The request timeout as main.ts had it (2 s, one command timeout) and as it is now (10 s, the
  // intake.requestTimeout default): either way the answer comes once the store failed, not at Redis's return.
  it.each([2000, 10_000])(
    'Redis stalled (SIGSTOP for 3 s at the 40th alert of a 300-alert batch), request timeout %i ms: answered while it is stopped, matching the store; the retry makes it exact with no double count',
    async (storeTimeoutMs) => {
      const { store: real, prefix } = freshStore();
      await real.ping();
      // The same store, told when the 40th alert goes to Redis: stop Redis right there, continue it 3 s later.
      let sentToStore = 0;
      let stopped: Promise<void> | undefined;
      let continued = false;
      const store: Store = {
        ...real,
        kind: real.kind,
        incidents: {
          ...real.incidents,
          recordAlert(record) {
            sentToStore += 1;
            if (sentToStore === 40) {
              redis.pause();
              stopped = new Promise<void>((resolve) =>
                setTimeout(() => {
                  redis.resume();
                  continued = true;
                  resolve();
                }, 3000),
              );
            }
            return real.incidents.recordAlert(record);
          },
        },
      };
      const s = await served(store, { storeTimeoutMs });
      const sent = batchOf(300, 30, 'stall');
      let r: Posted;
      let answeredWhileStopped = false;
      try {
        r = await s.post(sent);
        answeredWhileStopped = !continued;
        await stopped;
      } finally {
        redis.resume();
      }
      expect(stopped).toBeDefined();
      // The sender is answered at the deadline, not held until Redis comes back.
      expect(answeredWhileStopped).toBe(true);
      // Redis has run whatever was sitting in its socket; a command on the same connection comes after them.
      await real.ping();
      const statuses = countBy(r.body.alerts, (a) => a.status);
      expect(r.status).toBe(statuses.has('not_recorded') || statuses.has('unknown') ? 503 : 202);
      const { held, unknown } = await expectAnswerMatchesStore(real, prefix, sent, r.body.alerts);
      // After the store's first failure nothing more of the batch was sent.
      const notSent = r.body.alerts.filter((a) =>
        a.error?.startsWith('not sent: the store failed an earlier alert'),
      );
      expect(notSent.length).toBeGreaterThan(0);
      for (const a of notSent) expect(held[a.index]).toBe(false);
      figure(
        `stalled Redis (request timeout ${storeTimeoutMs} ms): answered ${r.status} in ${Math.round(r.ms)} ms: ${JSON.stringify(Object.fromEntries(statuses))}; ` +
          `${unknown} unknown, of which ${r.body.alerts.filter((a, i) => a.status === 'unknown' && held[i]).length} were in fact recorded`,
      );

      const retry = await s.post(sent);
      expect(retry.status).toBe(202);
      retry.body.alerts.forEach((a, i) => {
        expect([i, a.status]).toEqual([
          i,
          held[i] ? 'duplicate' : expect.stringMatching(/^(opened|folded)$/),
        ]);
      });
      await expectAnswerMatchesStore(real, prefix, sent, retry.body.alerts);
      const stored = await incidentsByName(real);
      expect(stored.size).toBe(30);
      for (const i of stored.values()) expect(i.count).toBe(10);
    },
  );

  it('a mixed batch records the valid alert and names the invalid one (202); all invalid is 400 with every issue', async () => {
    const { store } = freshStore();
    const s = await served(store);
    const { dst_port: _, ...noPort } = egressEvent('mixed-bad');
    const r = await s.post([egressEvent('mixed-good', { request_id: 'mixed-1' }), noPort]);
    expect(r.status).toBe(202);
    expect(r.body.alerts.map((a) => [a.index, a.at, a.status])).toEqual([
      [0, '[0]', 'opened'],
      [1, '[1]', 'rejected'],
    ]);
    expect(r.body.alerts[1]!.id).toBeNull();
    expect(r.body.alerts[1]!.issues!.map((i) => i.path)).toEqual(['[1].dst_port']);
    expect(r.body.summary).toEqual({ opened: 1, rejected: 1 });
    const stored = await incidentsByName(store);
    expect([...stored.keys()]).toEqual(['exfil.amixed-good.net']);
    expect(stored.get('exfil.amixed-good.net')!.id).toBe(r.body.alerts[0]!.id);

    const bad = await s.post([
      noPort,
      egressEvent('x', { src_namespace: '..' }),
      egressEvent('y', { dst_port: 70000 }),
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('alert_invalid');
    expect(bad.body.issues!.map((i) => i.path)).toEqual([
      '[0].dst_port',
      '[1].src_namespace',
      '[2].dst_port',
    ]);
    expect(await store.incidents.list()).toHaveLength(1);
  });

  it('hostile names at the front door: constructor is a namespace (202 opened); .. and ledger-db,tier=database are refused naming the field', async () => {
    const { store } = freshStore();
    const s = await served(store);
    const ok = await s.post(egressEvent('proto', { src_namespace: 'constructor' }));
    expect(ok.status).toBe(202);
    expect(ok.body.alerts.map((a) => a.status)).toEqual(['opened']);
    expect((await store.incidents.get(ok.body.alerts[0]!.id!))?.alert.source.namespace).toBe('constructor');

    const dots = await s.post(egressEvent('dots', { src_namespace: '..' }));
    expect(dots.status).toBe(400);
    expect(dots.body.issues!.map((i) => i.path)).toEqual(['src_namespace']);

    const selector = await s.post(egressEvent('sel', { src_service: 'ledger-db,tier=database' }));
    expect(selector.status).toBe(400);
    expect(selector.body.issues!.map((i) => i.path)).toEqual(['src_service']);
    expect(await store.incidents.list()).toHaveLength(1);
  });

  describe('every refusal is logged once, with its reason and source, never with the token or the body', () => {
    const lines: Record<string, unknown>[] = [];
    const raw: string[] = [];
    const capture = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          raw.push(line);
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    const log = createLogger({ level: 'debug', destination: capture });
    const BODY_MARKER = 'body-marker-5d1e0c';
    const WRONG = 'wrong-token-value-91ab77';

    /** The log lines written while `fn` ran (and just after). */
    async function logged(
      fn: () => Promise<Posted>,
    ): Promise<{ r: Posted; lines: Record<string, unknown>[] }> {
      const from = lines.length;
      const r = await fn();
      await new Promise((resolve) => setImmediate(resolve));
      return { r, lines: lines.slice(from) };
    }

    let s: Served;
    let dead: Served;
    beforeEach(async () => {
      const { store } = freshStore();
      s = await served(store, { log });
      // A store whose Redis is not there (nothing listens on the port): every alert not_recorded.
      const nowhere = createRedisStore({
        url: `redis://127.0.0.1:${await freePort()}`,
        keyPrefix: uniquePrefix('nowhere'),
        commandTimeoutMs: 500,
      });
      stores.push(nowhere);
      dead = await served(nowhere, { log });
    });

    const expectOneRefusal = (got: Record<string, unknown>[], status: number) => {
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({
        status,
        reason: expect.any(String),
        source: expect.stringMatching(/127\.0\.0\.1/),
      });
      const text = JSON.stringify(got);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(WRONG);
      expect(text).not.toContain(BODY_MARKER);
    };
    const body = JSON.stringify(egressEvent(BODY_MARKER, { request_id: BODY_MARKER }));

    it('401 without a token and with a wrong one (the token never logged)', async () => {
      const none = await logged(() => s.post(body, {}));
      expect(none.r.status).toBe(401);
      expectOneRefusal(none.lines, 401);
      expect(none.lines[0]!.reason).toBe('no bearer token');

      const wrong = await logged(() => s.post(body, { authorization: `Bearer ${WRONG}` }));
      expect(wrong.r.status).toBe(401);
      expectOneRefusal(wrong.lines, 401);
      expect(wrong.lines[0]!.reason).toBe('wrong bearer token');
    });

    it('400 (every alert invalid): the reason and field paths, not the values', async () => {
      const bad = await logged(() =>
        s.post(
          JSON.stringify(egressEvent('bad', { dst_port: BODY_MARKER, src_namespace: `${BODY_MARKER}..` })),
        ),
      );
      expect(bad.r.status).toBe(400);
      expectOneRefusal(bad.lines, 400);
      expect(bad.lines[0]).toMatchObject({ code: 'alert_invalid', issues: ['src_namespace', 'dst_port'] });
    });

    it('413 (body over 1 MiB): one line with the reason and the source', async () => {
      const big = await logged(() =>
        s.post(JSON.stringify(egressEvent(BODY_MARKER, { pad: 'x'.repeat(1024 * 1024 + 10) }))),
      );
      expect(big.r.status).toBe(413);
      expectOneRefusal(big.lines, 413);
      expect(big.lines[0]!.reason).toBe('payload_too_large');
    });

    it('503 (the store unreachable)', async () => {
      const down = await logged(() => dead.post(body));
      expect(down.r.status).toBe(503);
      expect(down.r.body.alerts.map((a) => a.status)).toEqual(['not_recorded']);
      expectOneRefusal(down.lines, 503);
      expect(down.lines[0]).toMatchObject({ notRecorded: 1, unknown: 0 });
    });

    afterAll(() => {
      // Across every request of this block, neither token appeared in any form.
      expect(raw.join('\n')).not.toContain(TOKEN);
      expect(raw.join('\n')).not.toContain(WRONG);
    });
  });
});
