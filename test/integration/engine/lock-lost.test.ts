import { z } from 'zod';
import { type ActionDefinition, defineAction } from '../../../src/actions/define.js';
import { createRedisStore } from '../../../src/store/redis.js';
import { keyBase } from '../../../src/store/redis-keys.js';
import type { Store } from '../../../src/store/store.js';
import { testEngine } from '../../builders/engine.js';
import { deleteKeys, redisUrl, testRedisClient, uniquePrefix } from '../../support/redis.js';

// A worker whose incident lock is lost mid-action (a stalled process, an expired TTL, Redis failing
// over) must stop writing and leave the action as interrupted, not failed: another worker may hold
// the incident now, and a "failed" written by the old holder left the incident open for good (found
// by the kill suite on a loaded machine, seed 20261133).

const playbook = `
id: slow
title: Slow
mode: hard
steps:
  - id: contain
    title: Contain
    role: contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - uses: test.slow
`;

/** A destructive action that waits in apply until its signal aborts (the first time) or returns. */
function slowAction(state: { started?: () => void; applies: number }): ActionDefinition {
  return defineAction({
    id: 'test.slow',
    description: 'waits for its signal on the first apply',
    params: z.strictObject({}),
    planData: z.strictObject({}),
    outcomeData: z.strictObject({ attempt: z.number() }),
    example: {},
    rbac: [],
    destructive: true,
    needsCluster: false,
    async plan() {
      return { summary: 'slow', changes: true, data: {} };
    },
    async apply(ctx) {
      state.applies += 1;
      if (state.applies === 1) {
        state.started?.();
        await new Promise<never>((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
      }
      return {
        status: 'applied',
        summary: `applied on attempt ${ctx.attempt}`,
        data: { attempt: ctx.attempt },
      };
    },
  }) as ActionDefinition;
}

const prefix = uniquePrefix('lock-lost');
let store: Store;

beforeAll(() => {
  store = createRedisStore({ url: redisUrl(), keyPrefix: prefix });
});

afterAll(async () => {
  await store.close();
  await deleteKeys(prefix);
});

it('a lock lost mid-apply leaves the action interrupted (not failed) and the run queued; the next worker finishes it', async () => {
  const state: { started?: () => void; applies: number } = { applies: 0 };
  const started = new Promise<void>((resolve) => {
    state.started = resolve;
  });
  const t = testEngine({
    yaml: playbook,
    store,
    actions: [slowAction(state)],
    deps: { lock: { ttlMs: 600, waitMs: 2_000 }, resumeAfterMs: 30_000 },
  });
  const { id } = await t.open({ mode: 'hard', playbook: { id: 'slow', file: 'slow.yaml' } });

  const run = t.engine.advance(id);
  await started;
  // Someone else takes the lock over (what an expired TTL and another worker amount to).
  const redis = testRedisClient();
  try {
    await redis.set(`${keyBase(prefix)}lock:incident:${id}`, 'another-worker', 'PX', 60_000);
    await expect(run).rejects.toMatchObject({ code: 'lock_lost' });
    await redis.del(`${keyBase(prefix)}lock:incident:${id}`);
  } finally {
    redis.disconnect();
  }

  const after = await store.incidents.get(id);
  const action = after!.steps.find((s) => s.id === 'contain')!.actions[0]!;
  expect(action.status).toBe('applying');
  expect(after!.status).toBe('open');
  const events = await store.timeline.read(id);
  expect(events.filter((e) => e.kind === 'action.failed' || e.kind === 'step.failed')).toEqual([]);
  const queued = await store.schedule.due(Number.MAX_SAFE_INTEGER, 100);
  expect(queued.map((q) => q.id)).toContain(`advance:${id}`);

  // The next worker (a fresh engine over the same store) resumes it with no click.
  const resumed = await t.restart().advance(id);
  expect(resumed.status).toBe('contained');
  expect(state.applies).toBe(2);
  const final = await store.timeline.read(id);
  expect(final.some((e) => e.kind === 'engine.resumed')).toBe(true);
  expect(final.filter((e) => e.kind === 'action.applied').map((e) => e.summary)).toEqual([
    expect.stringContaining('applied on attempt 2'),
  ]);
});
