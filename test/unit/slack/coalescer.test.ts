import { Coalescer } from '../../../src/slack/coalescer.js';

// Per-key coalescing of Slack message updates (slack/coalescer.ts), on real timers with short windows.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Coalescer', () => {
  it('fires a key once for any number of requests within its window', async () => {
    const fired: string[] = [];
    const c = new Coalescer((k) => fired.push(k));
    for (let i = 0; i < 50; i++) c.schedule('inc-1', 40);
    c.schedule('inc-2', 40);
    expect(fired).toEqual([]);
    await sleep(80);
    expect(fired.sort()).toEqual(['inc-1', 'inc-2']);
    expect(c.size).toBe(0);
  });

  it('a sooner request moves a pending one forward; a later one never postpones it', async () => {
    const fired: [string, number][] = [];
    const t0 = Date.now();
    const c = new Coalescer((k) => fired.push([k, Date.now() - t0]));
    c.schedule('counts-then-status', 400); // a fold: the long window
    c.schedule('counts-then-status', 20); // then a status change: now
    c.schedule('status-then-counts', 20);
    c.schedule('status-then-counts', 400); // a fold after it does not delay it
    await sleep(150);
    expect(fired.map(([k]) => k).sort()).toEqual(['counts-then-status', 'status-then-counts']);
    for (const [, ms] of fired) expect(ms).toBeLessThan(150);
    await sleep(350);
    expect(fired).toHaveLength(2); // the replaced long timer did not fire as well
  });

  it('fireNow() runs what is pending at once, and only once', async () => {
    const fired: string[] = [];
    const c = new Coalescer((k) => fired.push(k));
    c.schedule('a', 30);
    c.schedule('b', 30);
    c.fireNow();
    expect(fired.sort()).toEqual(['a', 'b']);
    expect(c.size).toBe(0);
    await sleep(60);
    expect(fired).toHaveLength(2);
  });
});
