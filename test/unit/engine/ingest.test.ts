import type { ParsedBatch } from '../../../src/domain/alert.js';
import { ingest, newIncidentId } from '../../../src/engine/ingest.js';
import { anAlert } from '../../builders/alert.js';
import { testEngine } from '../../builders/engine.js';

const batch = (...alerts: ReturnType<typeof anAlert>[]): ParsedBatch => ({
  format: 'egress-event',
  alerts,
  items: alerts.map((alert, index) => ({ index, at: `[${index}]`, alert })),
});

describe('ingest', () => {
  it('incident ids read EGR-<yymmdd>-<6 base32>', () => {
    expect(newIncidentId(Date.parse('2026-11-25T14:03:12.123Z'))).toMatch(/^EGR-261125-[A-HJ-NP-Z2-9]{6}$/);
  });

  it('an id collision between two different anomalies retries with a fresh id instead of failing', async () => {
    const t = testEngine();
    const ids = ['EGR-SAME', 'EGR-SAME', 'EGR-OTHER'];
    const opts = { modes: {}, retryWindowMs: 60_000, newId: () => ids.shift()! };
    const first = await ingest(t.engine, batch(anAlert({ destination: { name: 'a.example' } })), opts);
    const second = await ingest(t.engine, batch(anAlert({ destination: { name: 'b.example' } })), opts);
    expect(first).toEqual([{ id: 'EGR-SAME', status: 'opened', fingerprint: expect.any(String) }]);
    expect(second).toEqual([{ id: 'EGR-OTHER', status: 'opened', fingerprint: expect.any(String) }]);
  });

  it('a sender retry (same request id) is a duplicate; resolved alerts are recorded, not opened', async () => {
    const t = testEngine();
    const opts = { modes: {}, retryWindowMs: 60_000 };
    const [opened] = await ingest(t.engine, batch(anAlert({ requestId: 'r1' })), opts);
    const again = await ingest(
      t.engine,
      batch(anAlert({ requestId: 'r1' }), anAlert({ requestId: 'r2' })),
      opts,
    );
    expect(again.map((r) => r.status)).toEqual(['duplicate', 'folded']);
    expect((await t.engine.get(opened!.id!)).count).toBe(2);
    const resolved = await ingest(t.engine, batch(anAlert({ state: 'resolved', requestId: 'r3' })), opts);
    expect(resolved.map((r) => [r.id, r.status])).toEqual([[opened!.id, 'resolved']]);
    const orphan = await ingest(
      t.engine,
      batch(anAlert({ state: 'resolved', destination: { name: 'x.example' } })),
      opts,
    );
    expect(orphan.map((r) => [r.id, r.status])).toEqual([[null, 'ignored']]);
  });

  it('modes are overridden per namespace, globs included', async () => {
    const t = testEngine();
    const opts = { modes: { 'prod-*': 'hard' as const, staging: 'observe' as const }, retryWindowMs: 60_000 };
    const [a] = await ingest(t.engine, batch(anAlert({ source: { namespace: 'prod-eu' } })), opts);
    const [b] = await ingest(t.engine, batch(anAlert({ source: { namespace: 'staging' } })), opts);
    const [c] = await ingest(t.engine, batch(anAlert({ source: { namespace: 'dev' } })), opts);
    expect([
      (await t.engine.get(a!.id!)).mode,
      (await t.engine.get(b!.id!)).mode,
      (await t.engine.get(c!.id!)).mode,
    ]).toEqual(['hard', 'observe', 'soft']);
  });
});
