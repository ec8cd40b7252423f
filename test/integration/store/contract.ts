import { CodedError } from '../../../src/domain/errors.js';
import type { Incident, StepState } from '../../../src/domain/incident.js';
import type { TimelineEvent } from '../../../src/domain/timeline.js';
import type { AlertRecord, Store } from '../../../src/store/store.js';
import { anAlert } from '../../builders/alert.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';

// The one contract every Store passes (memory.test.ts and redis.test.ts run it). Tests assert
// behaviour, never durations: waits are generous bounds, and a passing run never sits them out.

/** Slack markup, control characters, bidi/zero-width characters, astral emoji, a lone surrogate. */
export const NASTY =
  '<!channel> <!here> <@U024BE7LH> <#C0123|general> <https://x.example|click> &amp; &lt;b&gt; *b* _i_ `c` ' +
  '\u0000\u0007\u001b[31m\t\r\n \u2028\u2029 \u200b\u202e ü ß 中文 עברית 🚨👩🏽‍💻 \ud800 "quoted" \\ back';
/** The same without the lone surrogate: safe inside a Redis key (keys are UTF-8 bytes). */
export const NASTY_KEY = NASTY.replace('\ud800', '');

/** Take a lock and keep it until `release()`: `inside` resolves once fn runs. */
function holdLock(
  store: Store,
  key: string,
  opts: { ttlMs: number; waitMs: number },
): { inside: Promise<void>; release: () => void; done: Promise<string> } {
  let entered: () => void = () => {};
  let release: () => void = () => {};
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const done = store.locks.withLock(key, opts, async () => {
    entered();
    await held;
    return `held ${key}`;
  });
  return { inside, release, done };
}

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll `probe` until it returns true; fails the test if it never does within `withinMs`. */
async function eventually(probe: () => Promise<boolean>, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${what}: still not true after ${withinMs} ms`);
    await tick(25);
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CodedError) return err.code;
    throw err;
  }
  throw new Error('expected a rejection, got a result');
}

const at = (ms: number) => new Date(Date.parse('2026-11-25T14:00:00.000Z') + ms).toISOString();

function incidentNo(n: number, over: Partial<Incident> = {}): Incident {
  return anIncident({ id: `inc-${n}`, fingerprint: `fp-${n}`, createdAt: at(n * 1000), ...over });
}

function aStep(reason: string): StepState {
  return {
    id: 'contain',
    status: 'awaiting_confirmation',
    startedAt: at(1),
    reason,
    checklist: { [reason]: { by: 'slack:U024BE7LH', at: at(2) } },
    approvals: [{ by: 'slack:U024BE7LH', at: at(3), decision: 'approve' }],
    actions: [
      {
        key: 'inc-1:contain:k8s.quarantine',
        uses: 'k8s.quarantine',
        status: 'planned',
        dryRun: false,
        attempts: 0,
        plan: { pods: [reason, 'payments-api-7c9d'], labels: { quarantine: 'true' }, n: 1.5, ok: null },
        updatedAt: at(4),
      },
    ],
  };
}

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup: (store: Store) => Promise<void>,
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await cleanup(store);
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe('incidents', () => {
      it('returns undefined for an unknown id or fingerprint', async () => {
        expect(await store.incidents.get('nope')).toBeUndefined();
        expect(await store.incidents.byFingerprint('nope')).toBeUndefined();
      });

      it('creates an incident when no active one holds the fingerprint', async () => {
        const incident = anIncident();
        const res = await store.incidents.createOrGetByFingerprint(incident);
        expect(res).toEqual({ created: true, incident });
        expect(await store.incidents.get(incident.id)).toEqual(incident);
        expect(await store.incidents.byFingerprint(incident.fingerprint)).toEqual(incident);
      });

      it('returns the active incident for a repeated fingerprint and stores nothing new', async () => {
        const first = anIncident({ id: 'inc-a' });
        await store.incidents.createOrGetByFingerprint(first);
        const res = await store.incidents.createOrGetByFingerprint(anIncident({ id: 'inc-b', count: 7 }));
        expect(res).toEqual({ created: false, incident: first });
        expect(await store.incidents.get('inc-b')).toBeUndefined();
        expect(await store.incidents.list()).toEqual([first]);
      });

      it('keeps different fingerprints apart', async () => {
        await store.incidents.createOrGetByFingerprint(incidentNo(1));
        const res = await store.incidents.createOrGetByFingerprint(incidentNo(2));
        expect(res.created).toBe(true);
        expect((await store.incidents.byFingerprint('fp-1'))?.id).toBe('inc-1');
        expect((await store.incidents.byFingerprint('fp-2'))?.id).toBe('inc-2');
      });

      it('creates exactly one incident when 20 callers race on one fingerprint', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.incidents.createOrGetByFingerprint(anIncident({ id: `race-${i}` })),
          ),
        );
        const created = results.filter((r) => r.created);
        expect(created).toHaveLength(1);
        const winner = created[0]?.incident.id;
        expect(results.every((r) => r.incident.id === winner)).toBe(true);
        expect((await store.incidents.list()).map((i) => i.id)).toEqual([winner]);
      });

      it('refuses to create an incident whose id is taken, one that is not version 0, or an invalid one', async () => {
        await store.incidents.createOrGetByFingerprint(incidentNo(1));
        expect(
          await codeOf(store.incidents.createOrGetByFingerprint(incidentNo(1, { fingerprint: 'other' }))),
        ).toBe('store_conflict');
        expect(await codeOf(store.incidents.createOrGetByFingerprint(incidentNo(2, { version: 3 })))).toBe(
          'internal',
        );
        const invalid = { ...incidentNo(3), status: 'bogus' } as unknown as Incident;
        const err = await store.incidents.createOrGetByFingerprint(invalid).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CodedError);
        expect((err as CodedError).issues.map((i) => i.path)).toContain('status');
        expect(await store.incidents.get('inc-2')).toBeUndefined();
        expect(await store.incidents.get('inc-3')).toBeUndefined();
      });

      it('updates with compare-and-set, bumping the version', async () => {
        const { incident } = await store.incidents.createOrGetByFingerprint(anIncident());
        const v1 = await store.incidents.update(
          { ...incident, status: 'acknowledged', commander: 'slack:U1' },
          0,
        );
        expect(v1).toEqual({ ...incident, status: 'acknowledged', commander: 'slack:U1', version: 1 });
        expect(await store.incidents.get(incident.id)).toEqual(v1);
        const v2 = await store.incidents.update({ ...v1, count: 5 }, v1.version);
        expect(v2.version).toBe(2);
        expect(await store.incidents.get(incident.id)).toEqual(v2);
        expect(await store.incidents.byFingerprint(incident.fingerprint)).toEqual(v2);
      });

      it('rejects a stale version with store_conflict and keeps what is stored', async () => {
        const { incident } = await store.incidents.createOrGetByFingerprint(anIncident());
        const v1 = await store.incidents.update({ ...incident, count: 2 }, 0);
        const err = await store.incidents.update({ ...incident, count: 99 }, 0).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CodedError);
        expect((err as CodedError).code).toBe('store_conflict');
        expect((err as CodedError).details).toMatchObject({
          id: incident.id,
          expectedVersion: 0,
          actualVersion: 1,
        });
        expect(await codeOf(store.incidents.update({ ...incident, count: 99 }, 5))).toBe('store_conflict');
        expect(await store.incidents.get(incident.id)).toEqual(v1);
      });

      it('lets exactly one of several concurrent updates from one version win', async () => {
        const { incident } = await store.incidents.createOrGetByFingerprint(anIncident());
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => store.incidents.update({ ...incident, count: i + 1 }, 0)),
        );
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const o of outcomes) {
          if (o.status === 'rejected') expect((o.reason as CodedError).code).toBe('store_conflict');
        }
        const stored = await store.incidents.get(incident.id);
        expect(stored?.version).toBe(1);
        expect(stored).toEqual((won[0] as PromiseFulfilledResult<Incident>).value);
      });

      it('says incident_not_found when updating an incident that does not exist', async () => {
        expect(await codeOf(store.incidents.update(anIncident({ id: 'ghost' }), 0))).toBe(
          'incident_not_found',
        );
        expect(await store.incidents.get('ghost')).toBeUndefined();
      });

      it('releases the fingerprint when an incident closes, so the next anomaly opens a new incident', async () => {
        const { incident } = await store.incidents.createOrGetByFingerprint(anIncident({ id: 'inc-old' }));
        const acked = await store.incidents.update({ ...incident, status: 'contained' }, 0);
        expect((await store.incidents.byFingerprint(incident.fingerprint))?.id).toBe('inc-old');
        const closed = await store.incidents.update(
          { ...acked, status: 'closed', closeReason: 'false positive' },
          1,
        );
        expect(await store.incidents.byFingerprint(incident.fingerprint)).toBeUndefined();

        const again = await store.incidents.createOrGetByFingerprint(
          anIncident({ id: 'inc-new', createdAt: at(60_000) }),
        );
        expect(again.created).toBe(true);
        expect(again.incident.id).toBe('inc-new');
        expect((await store.incidents.byFingerprint(incident.fingerprint))?.id).toBe('inc-new');
        expect(await store.incidents.get('inc-old')).toEqual(closed);

        // Touching the closed one later must not take the fingerprint away from the new incident.
        await store.incidents.update({ ...closed, closeReason: 'duplicate' }, closed.version);
        expect((await store.incidents.byFingerprint(incident.fingerprint))?.id).toBe('inc-new');
      });

      it('lists newest first, honours limit, and leaves closed ones out with activeOnly', async () => {
        for (const n of [2, 1, 3]) await store.incidents.createOrGetByFingerprint(incidentNo(n));
        expect((await store.incidents.list()).map((i) => i.id)).toEqual(['inc-3', 'inc-2', 'inc-1']);
        expect((await store.incidents.list({ limit: 2 })).map((i) => i.id)).toEqual(['inc-3', 'inc-2']);
        expect(await store.incidents.list({ limit: 0 })).toEqual([]);

        const two = await store.incidents.get('inc-2');
        if (!two) throw new Error('inc-2 missing');
        await store.incidents.update({ ...two, status: 'closed' }, two.version);
        expect((await store.incidents.list({ activeOnly: true })).map((i) => i.id)).toEqual([
          'inc-3',
          'inc-1',
        ]);
        expect((await store.incidents.list({ activeOnly: true, limit: 1 })).map((i) => i.id)).toEqual([
          'inc-3',
        ]);
        const all = await store.incidents.list();
        expect(all.map((i) => [i.id, i.status])).toEqual([
          ['inc-3', 'open'],
          ['inc-2', 'closed'],
          ['inc-1', 'open'],
        ]);
      });

      it('breaks createdAt ties by id, descending', async () => {
        for (const id of ['inc-b', 'inc-c', 'inc-a']) {
          await store.incidents.createOrGetByFingerprint(anIncident({ id, fingerprint: `fp-${id}` }));
        }
        expect((await store.incidents.list()).map((i) => i.id)).toEqual(['inc-c', 'inc-b', 'inc-a']);
      });

      it('hands out copies: neither the input nor a result can change what is stored', async () => {
        const input = anIncident({ steps: [aStep('x')] });
        const { incident } = await store.incidents.createOrGetByFingerprint(input);
        input.count = 42;
        input.alert.source.service = 'mutated';
        incident.count = 43;
        incident.steps.push(aStep('y'));
        const read = await store.incidents.get(input.id);
        if (!read) throw new Error('missing');
        read.status = 'closed';
        expect(await store.incidents.get(input.id)).toEqual(anIncident({ steps: [aStep('x')] }));
        expect(await store.incidents.byFingerprint(input.fingerprint)).toEqual(
          anIncident({ steps: [aStep('x')] }),
        );
      });

      it('round-trips Slack markup, control characters and unicode exactly', async () => {
        const nasty = anIncident({
          id: `inc-${NASTY_KEY}`,
          fingerprint: `fp|${NASTY_KEY}`,
          alert: anAlert({ summary: NASTY, extra: { [NASTY_KEY]: NASTY, cmdline: NASTY } }),
          verdict: { kind: 'no-contract', message: NASTY },
          commander: NASTY,
          slack: { channel: 'C0123', ts: '1764079392.000100', steps: { [NASTY_KEY]: '1764079392.000200' } },
          steps: [aStep(NASTY)],
        });
        expect((await store.incidents.createOrGetByFingerprint(nasty)).created).toBe(true);
        expect(await store.incidents.get(nasty.id)).toEqual(nasty);
        expect(await store.incidents.byFingerprint(nasty.fingerprint)).toEqual(nasty);
        const updated = await store.incidents.update({ ...nasty, closeReason: NASTY, status: 'closed' }, 0);
        expect(await store.incidents.list()).toEqual([updated]);
        expect(updated.closeReason).toBe(NASTY);
      });
    });

    describe('recordAlert', () => {
      const firing = (
        n: number,
        over: { claim?: string; count?: number; seen?: number } = {},
      ): AlertRecord => {
        const seen = at(over.seen ?? 0);
        const incident = incidentNo(n, {
          count: over.count ?? 1,
          fingerprint: 'fp-shared',
          firstSeen: seen,
          lastSeen: seen,
        });
        return {
          fingerprint: incident.fingerprint,
          ...(over.claim ? { claim: { key: over.claim, ttlMs: 60_000 } } : {}),
          state: 'firing',
          open: () => ({
            incident,
            events: [
              aTimelineEvent({
                id: `${incident.id}:opened`,
                incidentId: incident.id,
                kind: 'incident.opened',
              }),
            ],
            schedule: [
              { id: `advance:${incident.id}`, dueAt: 5, data: { kind: 'advance', incidentId: incident.id } },
            ],
          }),
          fold: {
            count: over.count ?? 1,
            firstSeen: at(over.seen ?? 0),
            lastSeen: at(over.seen ?? 0),
            event: aTimelineEvent({
              id: 'template',
              incidentId: 'template',
              kind: 'alert.folded',
              summary: 'Repeat folded in ({count} alerts, last seen {lastSeen}) <!channel> {count}',
              details: { requestId: over.claim ?? null, origin: 'egress-event' },
            }),
          },
        };
      };
      const resolved = (fingerprint: string, claim?: string): AlertRecord => ({
        fingerprint,
        ...(claim ? { claim: { key: claim, ttlMs: 60_000 } } : {}),
        state: 'resolved',
        resolved: {
          at: at(9000),
          event: aTimelineEvent({ id: 't', incidentId: 't', kind: 'alert.resolved', summary: 'resolved' }),
        },
      });

      it('opens an incident with its events and due work, all in one step', async () => {
        const r = await store.incidents.recordAlert(firing(1));
        expect(r.outcome).toBe('opened');
        expect((await store.incidents.get('inc-1'))?.count).toBe(1);
        expect((await store.timeline.read('inc-1')).map((e) => e.id)).toEqual(['inc-1:opened']);
        expect((await store.schedule.due(10)).map((i) => i.id)).toEqual(['advance:inc-1']);
      });

      it('folds repeats without bumping the version, and fills the event template', async () => {
        await store.incidents.recordAlert(firing(1));
        const r = await store.incidents.recordAlert(firing(99, { count: 3, seen: 5000 }));
        expect(r.outcome).toBe('folded');
        if (r.outcome !== 'folded') return;
        expect(r.incident).toMatchObject({ id: 'inc-1', version: 0, count: 4, lastSeen: at(5000) });
        expect(r.events).toEqual([
          expect.objectContaining({
            id: 'inc-1:alert:1',
            incidentId: 'inc-1',
            kind: 'alert.folded',
            summary: `Repeat folded in (4 alerts, last seen ${at(5000)}) <!channel> 4`,
            details: { requestId: null, origin: 'egress-event', count: 4 },
          }),
        ]);
        const stored = await store.incidents.get('inc-1');
        expect(stored).toMatchObject({ version: 0, count: 4, firstSeen: at(0), lastSeen: at(5000) });
        expect(await store.incidents.get('inc-99')).toBeUndefined();
        // The engine's compare-and-set is not disturbed by folds, and cannot move the counters.
        const updated = await store.incidents.update({ ...stored!, count: 1, status: 'acknowledged' }, 0);
        expect(updated).toMatchObject({ version: 1, count: 4, status: 'acknowledged' });
        expect((await store.incidents.list())[0]).toMatchObject({ id: 'inc-1', count: 4 });
        expect(await store.incidents.byFingerprint(stored!.fingerprint)).toMatchObject({ count: 4 });
      });

      it('counts every one of 50 concurrent repeats exactly once, with one event each', async () => {
        await store.incidents.recordAlert(firing(1));
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.incidents.recordAlert(firing(100 + i, { claim: `r-${i}` })),
          ),
        );
        expect(results.every((r) => r.outcome === 'folded')).toBe(true);
        expect((await store.incidents.get('inc-1'))?.count).toBe(51);
        const ids = (await store.timeline.read('inc-1')).map((e) => e.id);
        expect(new Set(ids).size).toBe(51);
      });

      it('opens exactly one incident when 20 first alerts race', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.incidents.recordAlert(firing(200 + i))),
        );
        expect(results.filter((r) => r.outcome === 'opened')).toHaveLength(1);
        expect(results.filter((r) => r.outcome === 'folded')).toHaveLength(19);
        expect(await store.incidents.list()).toHaveLength(1);
      });

      it('a repeated delivery key changes nothing and names the incident', async () => {
        await store.incidents.recordAlert(firing(1, { claim: 'req-1' }));
        const again = await store.incidents.recordAlert(firing(2, { claim: 'req-1' }));
        expect(again).toEqual({
          outcome: 'duplicate',
          incident: expect.objectContaining({ id: 'inc-1', count: 1 }),
        });
        expect(await store.timeline.read('inc-1')).toHaveLength(1);
        expect(await store.incidents.get('inc-2')).toBeUndefined();
      });

      it('notes a resolved alert on the incident; a later repeat clears it; nothing open is ignored', async () => {
        const first = firing(1);
        await store.incidents.recordAlert(first);
        const r = await store.incidents.recordAlert(resolved(first.fingerprint));
        expect(r.outcome).toBe('resolved');
        expect((await store.incidents.get('inc-1'))?.resolvedAt).toBe(at(9000));
        expect((await store.timeline.read('inc-1')).map((e) => [e.id, e.kind])).toEqual([
          ['inc-1:opened', 'incident.opened'],
          ['inc-1:alert:1', 'alert.resolved'],
        ]);
        await store.incidents.recordAlert(firing(2));
        expect((await store.incidents.get('inc-1'))?.resolvedAt).toBeUndefined();
        expect(await store.incidents.recordAlert(resolved('fp-nothing'))).toEqual({ outcome: 'ignored' });
      });

      it('records nothing at all when the new id is taken (store_conflict); the claim stays free', async () => {
        await store.incidents.createOrGetByFingerprint(incidentNo(7, { fingerprint: 'other' }));
        const clash = firing(7, { claim: 'req-7' });
        expect(await codeOf(store.incidents.recordAlert(clash))).toBe('store_conflict');
        expect(await store.timeline.read('inc-7')).toEqual([]);
        expect(await store.dedupe.claim('req-7', 1000)).toBe(true);
      });

      it('finds an incident by its Slack thread (an index kept by update)', async () => {
        await store.incidents.recordAlert(firing(1));
        expect(await store.incidents.byThread('C1', '1.1')).toBeUndefined();
        const cur = await store.incidents.get('inc-1');
        await store.incidents.update({ ...cur!, slack: { channel: 'C1', ts: '1.1', steps: {} } }, 0);
        expect(await store.incidents.byThread('C1', '1.1')).toMatchObject({ id: 'inc-1' });
        expect(await store.incidents.byThread('C1', '1.2')).toBeUndefined();
        expect(await store.incidents.byThread('constructor', '__proto__')).toBeUndefined();
      });
    });

    describe('timeline', () => {
      const ev = (n: number, over: Partial<TimelineEvent> = {}) =>
        aTimelineEvent({ id: `inc-1:e${n}`, incidentId: 'inc-1', summary: `event ${n}`, ...over });

      it('reads an empty timeline for an unknown incident', async () => {
        expect(await store.timeline.read('nobody')).toEqual([]);
      });

      it('reads events back in append order (not by timestamp)', async () => {
        const events = [
          ev(1, { at: at(5) }),
          ev(2, { at: at(1) }),
          ev(3, { at: at(3), kind: 'status.changed' }),
        ];
        for (const e of events) expect(await store.timeline.append(e)).toBe(true);
        expect(await store.timeline.read('inc-1')).toEqual(events);
      });

      it('is idempotent on event id: a repeat returns false and stores nothing', async () => {
        expect(await store.timeline.append(ev(1))).toBe(true);
        expect(await store.timeline.append(ev(1, { summary: 'replayed after a crash' }))).toBe(false);
        expect(await store.timeline.append(ev(2))).toBe(true);
        expect(await store.timeline.read('inc-1')).toEqual([ev(1), ev(2)]);
      });

      it('records a racing repeat once', async () => {
        const results = await Promise.all(Array.from({ length: 10 }, () => store.timeline.append(ev(1))));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.timeline.read('inc-1')).toHaveLength(1);
      });

      it('keeps incidents apart (the same event id may appear on two incidents)', async () => {
        await store.timeline.append(ev(1));
        await store.timeline.append(ev(1, { incidentId: 'inc-2' }));
        expect(await store.timeline.read('inc-1')).toEqual([ev(1)]);
        expect(await store.timeline.read('inc-2')).toEqual([ev(1, { incidentId: 'inc-2' })]);
      });

      it('round-trips unicode, control characters and JSON details', async () => {
        const e = ev(1, {
          id: `inc-1:${NASTY_KEY}`,
          actor: 'slack:U024BE7LH',
          summary: NASTY,
          details: { text: NASTY, nested: { list: [1, 'two', null, true, { deep: NASTY }] } },
        });
        expect(await store.timeline.append(e)).toBe(true);
        expect(await store.timeline.read('inc-1')).toEqual([e]);
      });

      it('refuses an invalid event', async () => {
        const bad = { ...ev(1), kind: 'made.up' } as unknown as TimelineEvent;
        expect(await codeOf(store.timeline.append(bad))).toBe('internal');
        expect(await store.timeline.read('inc-1')).toEqual([]);
      });

      it('hands out copies', async () => {
        const e = ev(1, { details: { a: 1 } });
        await store.timeline.append(e);
        e.details.a = 2;
        const [read] = await store.timeline.read('inc-1');
        if (read) read.details.a = 3;
        expect(await store.timeline.read('inc-1')).toEqual([ev(1, { details: { a: 1 } })]);
      });
    });

    describe('dedupe', () => {
      it('claims a key once within its TTL', async () => {
        expect(await store.dedupe.claim('req-1', 60_000)).toBe(true);
        expect(await store.dedupe.claim('req-1', 60_000)).toBe(false);
        expect(await store.dedupe.claim('req-2', 60_000)).toBe(true);
      });

      it('lets exactly one of several racing claims win', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.dedupe.claim('race', 60_000)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('can be claimed again once released', async () => {
        expect(await store.dedupe.claim('req-1', 60_000)).toBe(true);
        await store.dedupe.release('req-1');
        expect(await store.dedupe.claim('req-1', 60_000)).toBe(true);
        await store.dedupe.release('never-claimed');
      });

      it('can be claimed again after the TTL', async () => {
        expect(await store.dedupe.claim('short', 50)).toBe(true);
        await eventually(() => store.dedupe.claim('short', 60_000), 10_000, 'claim after expiry');
        expect(await store.dedupe.claim('short', 60_000)).toBe(false);
      });
    });

    describe('locks', () => {
      const long = { ttlMs: 30_000, waitMs: 15_000 };

      it('runs fn and returns its result, then frees the lock', async () => {
        expect(await store.locks.withLock('k', long, async () => 'done')).toBe('done');
        expect(await store.locks.withLock('k', { ttlMs: 1000, waitMs: 0 }, async () => 'again')).toBe(
          'again',
        );
      });

      it('passes fn errors through and frees the lock', async () => {
        await expect(
          store.locks.withLock('k', long, async () => {
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.locks.withLock('k', { ttlMs: 1000, waitMs: 0 }, async () => 'free')).toBe('free');
      });

      it('never lets two holders of one key overlap', async () => {
        const log: string[] = [];
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.locks.withLock('incident:inc-1', long, async () => {
              log.push(`enter ${i}`);
              await tick(5);
              log.push(`exit ${i}`);
            }),
          ),
        );
        expect(log).toHaveLength(16);
        for (let j = 0; j < log.length; j += 2) {
          const who = log[j]?.split(' ')[1];
          expect([log[j], log[j + 1]]).toEqual([`enter ${who}`, `exit ${who}`]);
        }
      });

      it('does not block other keys', async () => {
        const a = holdLock(store, 'a', long);
        await a.inside;
        try {
          expect(await store.locks.withLock('b', { ttlMs: 1000, waitMs: 0 }, async () => 'b')).toBe('b');
        } finally {
          a.release();
          await a.done;
        }
      });

      it('gives up with lock_busy after waitMs, without running fn', async () => {
        const holder = holdLock(store, 'k', long);
        await holder.inside;
        let ran = false;
        const err = await store.locks
          .withLock('k', { ttlMs: 1000, waitMs: 100 }, async () => {
            ran = true;
          })
          .catch((e: unknown) => e);
        holder.release();
        await holder.done;
        expect(err).toBeInstanceOf(CodedError);
        expect((err as CodedError).code).toBe('lock_busy');
        expect(ran).toBe(false);
      });

      it('keeps the lock of a holder that runs past its TTL (heartbeat), and frees it when it ends', async () => {
        const long = holdLock(store, 'k', { ttlMs: 300, waitMs: 0 });
        await long.inside;
        await tick(1000); // three TTLs: only the heartbeat keeps it
        expect(
          await codeOf(store.locks.withLock('k', { ttlMs: 1000, waitMs: 50 }, async () => 'second')),
        ).toBe('lock_busy');
        long.release();
        expect(await long.done).toBe('held k');
        expect(await store.locks.withLock('k', { ttlMs: 1000, waitMs: 0 }, async () => 'free')).toBe('free');
      });

      it('tells the holder through its signal only if the lock is lost, never while it holds it', async () => {
        let signal: AbortSignal | undefined;
        await store.locks.withLock('k', { ttlMs: 300, waitMs: 0 }, async (held) => {
          signal = held.signal;
          await tick(700);
        });
        expect(signal?.aborted).toBe(false);
      });
    });

    describe('schedule', () => {
      const item = (id: string, dueAt: number, data: Record<string, unknown> = { id }) => ({
        id,
        dueAt,
        data,
      });

      it('returns due items earliest first, up to limit', async () => {
        await store.schedule.put(item('c', 3000));
        await store.schedule.put(item('a', 1000));
        await store.schedule.put(item('later', 9000));
        await store.schedule.put(item('b', 2000, { grant: 'g-1', nested: { text: NASTY, n: [1, 2] } }));
        expect(await store.schedule.due(0)).toEqual([]);
        expect(await store.schedule.due(3000)).toEqual([
          item('a', 1000),
          item('b', 2000, { grant: 'g-1', nested: { text: NASTY, n: [1, 2] } }),
          item('c', 3000),
        ]);
        expect((await store.schedule.due(5000, 2)).map((i) => i.id)).toEqual(['a', 'b']);
      });

      it('moves an item put again with the same id', async () => {
        await store.schedule.put(item('grant-1', 1000, { v: 1 }));
        await store.schedule.put(item('grant-1', 5000, { v: 2 }));
        expect(await store.schedule.due(4999)).toEqual([]);
        expect(await store.schedule.due(5000)).toEqual([item('grant-1', 5000, { v: 2 })]);
        await store.schedule.put(item('grant-1', 10, { v: 3 }));
        expect(await store.schedule.due(10)).toEqual([item('grant-1', 10, { v: 3 })]);
      });

      it('leases due items: taken ones come back after the lease, removed ones never', async () => {
        await store.schedule.put(item('a', 10));
        await store.schedule.put(item('b', 20));
        await store.schedule.put(item('later', 1000));
        const first = await store.schedule.lease(100, 500, 10);
        expect(first.map((i) => [i.id, i.dueAt])).toEqual([
          ['a', 600],
          ['b', 600],
        ]);
        expect(await store.schedule.lease(100, 500, 10)).toEqual([]); // leased: not due again yet
        await store.schedule.remove('a');
        expect((await store.schedule.lease(700, 500, 10)).map((i) => i.id)).toEqual(['b']);
        expect((await store.schedule.due(2000)).map((i) => [i.id, i.dueAt])).toEqual([
          ['later', 1000],
          ['b', 1200],
        ]);
      });

      it('hands each due item to exactly one of several racing workers', async () => {
        for (let i = 0; i < 20; i++) await store.schedule.put(item(`i${i}`, i));
        const taken = await Promise.all(
          Array.from({ length: 5 }, () => store.schedule.lease(100, 10_000, 20)),
        );
        const ids = taken.flat().map((i) => i.id);
        expect(ids.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `i${i}`).sort());
      });

      it('forgets removed items; removing an unknown id is fine', async () => {
        await store.schedule.put(item('a', 1000));
        await store.schedule.put(item('b', 1000));
        await store.schedule.remove('a');
        await store.schedule.remove('unknown');
        expect((await store.schedule.due(2000)).map((i) => i.id)).toEqual(['b']);
      });

      it('refuses data that is not JSON', async () => {
        const bad = { id: 'x', dueAt: 1, data: { when: new Date(0) } };
        expect(await codeOf(store.schedule.put(bad))).toBe('internal');
        expect(await store.schedule.due(10)).toEqual([]);
      });
    });

    it('rejects calls with store_unavailable once closed (close is idempotent)', async () => {
      await store.close();
      await store.close();
      expect(await codeOf(store.ping())).toBe('store_unavailable');
      expect(await codeOf(store.incidents.get('x'))).toBe('store_unavailable');
      expect(await codeOf(store.timeline.append(aTimelineEvent()))).toBe('store_unavailable');
    });
  });
}
