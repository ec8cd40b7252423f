import { silentLogger } from '../../../src/observability/logger.js';
import { fullCollection, shouldCollect, startMemoryReducer } from '../../../src/server/memory-reducer.js';

const MiB = 2 ** 20;

describe('shouldCollect', () => {
  it.each([
    ['grown and quiet', { heapUsed: 200 * MiB, baseline: 40 * MiB, loopUtilization: 0.01 }, true],
    [
      'grown but busy (a storm still going)',
      { heapUsed: 200 * MiB, baseline: 40 * MiB, loopUtilization: 0.3 },
      false,
    ],
    ['quiet but not grown enough', { heapUsed: 80 * MiB, baseline: 40 * MiB, loopUtilization: 0 }, false],
    ['exactly the growth, quiet', { heapUsed: 88 * MiB, baseline: 40 * MiB, loopUtilization: 0.049 }, true],
    ['shrunk below the baseline', { heapUsed: 20 * MiB, baseline: 40 * MiB, loopUtilization: 0 }, false],
  ])('%s', (_name, sample, expected) => {
    expect(shouldCollect(sample)).toBe(expected);
  });

  it('takes its thresholds from the options', () => {
    const sample = { heapUsed: 60 * MiB, baseline: 40 * MiB, loopUtilization: 0.1 };
    expect(shouldCollect(sample)).toBe(false);
    expect(shouldCollect(sample, { growthBytes: 16 * MiB, quietBelow: 0.2 })).toBe(true);
  });
});

/** Garbage the next full collection frees: ~`mib` MiB of small objects, dropped at once. */
function makeGarbage(mib: number): void {
  let junk: { n: number; s: string }[] | null = [];
  for (let i = 0; i < mib * 12_000; i++) junk.push({ n: i, s: `x${i}` });
  junk = null;
}

describe('fullCollection', () => {
  it('is a real full collection: the garbage of a burst is gone after it', () => {
    const gc = fullCollection();
    gc();
    const before = process.memoryUsage().heapUsed;
    makeGarbage(64);
    const grown = process.memoryUsage().heapUsed;
    gc();
    const after = process.memoryUsage().heapUsed;
    expect(grown - before).toBeGreaterThan(16 * MiB);
    expect(after).toBeLessThan(before + 8 * MiB);
  });
});

describe('startMemoryReducer', () => {
  it('collects once after a burst when the loop goes quiet, then not again until the heap grows again', async () => {
    const gc = fullCollection();
    gc();
    const reducer = startMemoryReducer(silentLogger(), { intervalMs: 50, growthBytes: 24 * MiB });
    try {
      makeGarbage(64);
      const grown = process.memoryUsage().heapUsed;
      for (let i = 0; i < 100 && reducer.collections === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(reducer.collections).toBe(1);
      expect(process.memoryUsage().heapUsed).toBeLessThan(grown - 16 * MiB);
      await new Promise((r) => setTimeout(r, 300));
      expect(reducer.collections).toBe(1);
    } finally {
      reducer.stop();
    }
  });

  it('never collects while the loop is busy, however much the heap grew', async () => {
    let collected = 0;
    let heap = 10 * MiB;
    const reducer = startMemoryReducer(
      silentLogger(),
      { intervalMs: 10 },
      { heapUsed: () => heap, collect: () => collected++, loopUtilization: () => 0.9 },
    );
    try {
      heap = 500 * MiB;
      await new Promise((r) => setTimeout(r, 200));
      expect(collected).toBe(0);
    } finally {
      reducer.stop();
    }
  });
});
