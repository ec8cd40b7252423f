import { autopilot } from '../../../src/drills/runner.js';
import { createRedisStore } from '../../../src/store/redis.js';
import type { Store } from '../../../src/store/store.js';
import { testEngine } from '../../builders/engine.js';
import { deleteKeys, redisUrl, uniquePrefix } from '../../support/redis.js';

class SimulatedCrash extends Error {}

/** The boundaries a clean run passes, in order. */
async function cleanRun() {
  const names: string[] = [];
  const t = testEngine({ deps: { checkpoint: (n) => names.push(n) } });
  const { id } = await t.open({ mode: 'hard' });
  const incident = await autopilot(t.engine, id);
  const events = await t.store.timeline.read(id);
  return { names, incident, events, effects: t.ledger.effects };
}

/**
 * Kill the engine at boundary `k` (the k-th checkpoint), then let a fresh engine over the same store
 * finish. Returns the resumed run's results.
 */
async function crashAt(k: number, store?: Store) {
  let seen = 0;
  const t = testEngine({
    ...(store ? { store } : {}),
    deps: {
      checkpoint: () => {
        seen += 1;
        if (seen === k) throw new SimulatedCrash(`killed at checkpoint ${k}`);
      },
    },
  });
  const { id } = await t.open({ mode: 'hard' });
  await expect(autopilot(t.engine, id)).rejects.toBeInstanceOf(SimulatedCrash);
  const restarted = t.restart({ checkpoint: () => undefined });
  const incident = await autopilot(restarted, id);
  const events = await t.store.timeline.read(id);
  return { incident, events, effects: t.ledger.effects };
}

describe('engine: a process killed at any boundary resumes without repeating or losing anything', () => {
  it('the clean run passes a known set of boundaries', async () => {
    const { names, incident } = await cleanRun();
    expect(incident.status).toBe('resolved');
    expect(names).toEqual(
      expect.arrayContaining([
        'triage:started',
        'contain:first:planned',
        'contain:first:applying',
        'contain:first:applied',
        'contain:first:verified',
        'contain:completed',
        'approve:third:applying',
        'close:completed',
      ]),
    );
  });

  const stores: [string, () => Promise<Store | undefined>][] = [
    ['memory', async () => undefined],
    // A real Redis: what "persisted before the side effect" means when the process is really gone.
    ['redis', async () => createRedisStore({ url: redisUrl(), keyPrefix: `${prefix}${++n}:` })],
  ];
  const prefix = uniquePrefix('crash-resume');
  let n = 0;
  const opened: Store[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await deleteKeys(prefix);
  });

  it.each(stores)(
    '%s store — for every boundary k: same final state, same timeline, each effect exactly once',
    async (_name, makeStore) => {
      const clean = await cleanRun();
      const strip = (kinds: { kind: string; summary: string }[]) =>
        kinds.filter((e) => e.kind !== 'engine.resumed').map((e) => `${e.kind}|${e.summary}`);
      for (let k = 1; k <= clean.names.length; k++) {
        const store = await makeStore();
        if (store) opened.push(store);
        const resumed = await crashAt(k, store);
        const where = `crash at boundary ${k} (${clean.names[k - 1]})`;
        expect({ where, status: resumed.incident.status }).toEqual({ where, status: 'resolved' });
        expect({ where, steps: resumed.incident.steps.map((s) => [s.id, s.status]) }).toEqual({
          where,
          steps: clean.incident.steps.map((s) => [s.id, s.status]),
        });
        // Each real effect happened once per idempotency key, however often apply was called.
        expect({ where, effects: [...resumed.effects.entries()] }).toEqual({
          where,
          effects: [...clean.effects.entries()],
        });
        // The timeline tells the same story, plus an honest note where an apply was interrupted.
        expect({ where, timeline: strip(resumed.events) }).toEqual({ where, timeline: strip(clean.events) });
        const ids = resumed.events.map((e) => e.id);
        expect({ where, duplicates: ids.length - new Set(ids).size }).toEqual({ where, duplicates: 0 });
        const interrupted = clean.names[k - 1]!.endsWith(':applying');
        expect({ where, resumedNote: resumed.events.some((e) => e.kind === 'engine.resumed') }).toEqual({
          where,
          resumedNote: interrupted,
        });
      }
    },
  );
});
