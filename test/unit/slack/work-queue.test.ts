import { createWorkQueue, HOLD_MAX_MS, unansweredRequests } from '../../../src/slack/work-queue.js';

// The queue the work after each Slack ack runs through: bounded at once, in order, shed when full.

const tick = () => new Promise((r) => setImmediate(r));

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe('work queue', () => {
  it('runs at most `concurrency` at once, in arrival order', async () => {
    const q = createWorkQueue({ concurrency: 2, maxQueued: 10 });
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, gate);
    gates.forEach((g, i) => {
      expect(
        q.offer(async () => {
          started.push(i);
          await g.opened;
        }),
      ).toBe(true);
    });
    await tick();
    expect(started).toEqual([0, 1]);
    expect(q.size).toEqual({ running: 2, queued: 3 });
    gates[1]!.open();
    await tick();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    await q.idle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(q.size).toEqual({ running: 0, queued: 0 });
  });

  it('sheds once maxQueued are waiting, and a shed job never runs', async () => {
    const q = createWorkQueue({ concurrency: 1, maxQueued: 2 });
    const ran: string[] = [];
    const offered = ['a', 'b', 'c', 'd'].map((name) =>
      q.offer(async () => {
        ran.push(name);
      }),
    );
    expect(offered).toEqual([true, true, false, false]);
    await q.idle();
    expect(ran).toEqual(['a', 'b']);
  });

  it('does not start work in the same turn it is offered (acks already received go first)', async () => {
    const q = createWorkQueue({ concurrency: 4, maxQueued: 4 });
    let ran = false;
    q.offer(async () => {
      ran = true;
    });
    expect(ran).toBe(false);
    await q.idle();
    expect(ran).toBe(true);
  });

  it('goes on after a job fails', async () => {
    const q = createWorkQueue({ concurrency: 1, maxQueued: 4 });
    const ran: number[] = [];
    q.offer(async () => {
      throw new Error('boom');
    });
    q.offer(async () => {
      ran.push(2);
    });
    await q.idle();
    expect(ran).toEqual([2]);
  });

  it('starts no new work while acks are pending, and starts it as soon as none are', async () => {
    let pending = 3;
    const q = createWorkQueue({ concurrency: 4, maxQueued: 10, holdWhile: () => pending > 0 });
    const started: number[] = [];
    for (let i = 0; i < 3; i++)
      q.offer(async () => {
        started.push(i);
      });
    await new Promise((r) => setTimeout(r, 30));
    expect(started).toEqual([]);
    pending = 0;
    await q.idle();
    expect(started).toEqual([0, 1, 2]);
  });

  it('holds new work at most HOLD_MAX_MS, then runs unheld as long again (a steady stream never starves it)', async () => {
    const q = createWorkQueue({ concurrency: 1, maxQueued: 10, holdWhile: () => true });
    const at: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 3; i++)
      q.offer(async () => {
        at.push(performance.now() - t0);
      });
    await q.idle();
    expect(at).toHaveLength(3);
    // The first waited the whole hold; the others ran in the unheld window right after it.
    expect(at[0]!).toBeGreaterThanOrEqual(HOLD_MAX_MS - 5);
    expect(at[2]! - at[0]!).toBeLessThan(HOLD_MAX_MS);
  });

  it('counts unanswered requests: each answer counts once, however often it is reported', () => {
    const u = unansweredRequests();
    expect(u.any()).toBe(false);
    const first = u.arrived();
    const second = u.arrived();
    first();
    first();
    expect(u.any()).toBe(true);
    second();
    expect(u.any()).toBe(false);
  });
});
