import type { Clock } from '../../../src/observability/clock.js';
import { createMemoryStore } from '../../../src/store/memory.js';
import { describeArtifactContract } from './artifacts-contract.js';
import { describeStoreContract } from './contract.js';
import { describeGrantContract } from './grants-contract.js';
import { describeHostsContract } from './hosts-contract.js';

describeStoreContract(
  'memory',
  async () => createMemoryStore(),
  async (store) => {
    await store.close();
  },
);

describeArtifactContract(
  'memory',
  async () => createMemoryStore(),
  async (store) => {
    await store.close();
  },
);

// The memory store keeps structured copies and never decodes: no damaged-record case to run.
describeGrantContract(
  'memory',
  async () => createMemoryStore(),
  async (store) => {
    await store.close();
  },
);

describeHostsContract(
  'memory',
  async (opts) => createMemoryStore(opts),
  async (store) => {
    await store.close();
  },
);

function manualClock(start = Date.parse('2026-11-25T14:03:12.123Z')): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('memory store with an injected clock', () => {
  it('expires dedupe claims by the clock, not by real time', async () => {
    const clock = manualClock();
    const store = createMemoryStore({ clock });
    expect(await store.dedupe.claim('req-1', 1000)).toBe(true);
    clock.advance(999);
    expect(await store.dedupe.claim('req-1', 1000)).toBe(false);
    clock.advance(1);
    expect(await store.dedupe.claim('req-1', 1000)).toBe(true);
  });

  it("expires a hung holder's lock when the clock passes its TTL", async () => {
    const clock = manualClock();
    const store = createMemoryStore({ clock });
    let release: () => void = () => {};
    const hung = store.locks.withLock(
      'k',
      { ttlMs: 60_000, waitMs: 0 },
      () => new Promise<void>((r) => (release = r)),
    );
    await expect(
      store.locks.withLock('k', { ttlMs: 1000, waitMs: 0 }, async () => 'x'),
    ).rejects.toMatchObject({
      code: 'lock_busy',
    });
    const waiter = store.locks.withLock('k', { ttlMs: 1000, waitMs: 15_000 }, async () => 'got it');
    clock.advance(60_000);
    expect(await waiter).toBe('got it');
    release();
    await hung;
  });

  it('lets a waiter in when the holder releases, even if the clock never moves', async () => {
    const store = createMemoryStore({ clock: manualClock() }); // the clock never moves: only release helps
    let release: () => void = () => {};
    const holder = store.locks.withLock(
      'k',
      { ttlMs: 1000, waitMs: 0 },
      () => new Promise<void>((r) => (release = r)),
    );
    const order: string[] = [];
    const waiter = store.locks.withLock('k', { ttlMs: 1000, waitMs: 15_000 }, async () => {
      order.push('waiter');
    });
    order.push('releasing');
    release();
    await holder;
    await waiter;
    expect(order).toEqual(['releasing', 'waiter']);
  });
});
