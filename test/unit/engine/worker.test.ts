import type { ScheduledItem } from '../../../src/store/store.js';
import { testEngine } from '../../builders/engine.js';

// The worker's table of handlers by item kind: the caller's rows (break-glass) run next to the
// engine's own; a known kind nobody here handles is left for another worker, never dropped.

describe('workPass handlers by kind', () => {
  it('runs a caller-given handler for its kind; an item it keeps stays where the handler put it', async () => {
    const t = testEngine();
    const now = t.clock.now();
    await t.store.schedule.put({
      id: 'grant:bg-0000000001',
      dueAt: now,
      data: { kind: 'grant', grantId: 'bg-0000000001' },
    });
    const ran: ScheduledItem[] = [];
    const done = await t.engine.work(now, {
      grant: {
        async run(item) {
          ran.push(item);
          await t.store.schedule.put({ ...item, dueAt: now + 60_000 });
          return true;
        },
        keepsItem: true,
      },
    });
    expect(ran.map((i) => i.id)).toEqual(['grant:bg-0000000001']);
    expect(done).toEqual({ advanced: 0, reminders: 0, grants: 1, failed: 0 });
    expect(await t.store.schedule.due(now + 59_999)).toEqual([]);
    expect((await t.store.schedule.due(now + 60_000)).map((i) => i.id)).toEqual(['grant:bg-0000000001']);
  });

  it('leaves a known kind with no handler here leased (not dropped); drops an unknown kind', async () => {
    const t = testEngine();
    const now = t.clock.now();
    await t.store.schedule.put({ id: 'grant:bg-0000000002', dueAt: now, data: { kind: 'grant' } });
    await t.store.schedule.put({ id: 'bogus:1', dueAt: now, data: { kind: 'bogus' } });
    expect(await t.engine.work(now)).toEqual({ advanced: 0, reminders: 0, grants: 0, failed: 0 });
    const later = await t.store.schedule.due(now + 24 * 3_600_000);
    expect(later.map((i) => i.id)).toEqual(['grant:bg-0000000002']);
  });

  it('a handler that throws leaves its item leased and counts a failure', async () => {
    const t = testEngine();
    const now = t.clock.now();
    await t.store.schedule.put({ id: 'grant:bg-0000000003', dueAt: now, data: { kind: 'grant' } });
    const done = await t.engine.work(now, {
      grant: {
        run: async () => {
          throw new Error('cluster down');
        },
      },
    });
    expect(done.failed).toBe(1);
    expect(await t.store.schedule.due(now)).toEqual([]);
    expect((await t.store.schedule.due(now + 30_000)).map((i) => i.id)).toEqual(['grant:bg-0000000003']);
  });
});
