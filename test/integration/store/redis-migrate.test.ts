import { createRedisStore } from '../../../src/store/redis.js';
import { keyBase } from '../../../src/store/redis-keys.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';
import { deleteKeys, listKeys, redisUrl, testRedisClient, uniquePrefix } from '../../support/redis.js';

// Keys an earlier release left (`<prefix><name>`, no hash tag) are moved to `<prefix>{er}:<name>` by
// the first ping, so an upgrade keeps its incidents; nothing of another deployment moves, and a
// key already in the new layout is never overwritten.

const prefix = uniquePrefix('store-migrate');
afterAll(async () => {
  await deleteKeys(prefix);
});

/** What a store wrote, put back in the layout before hash tags (as the previous release kept it). */
async function toOldLayout(keyPrefix: string): Promise<string[]> {
  const raw = testRedisClient();
  try {
    const keys = await listKeys(keyBase(keyPrefix));
    for (const k of keys) await raw.rename(k, keyPrefix + k.slice(keyBase(keyPrefix).length));
    return keys.map((k) => keyPrefix + k.slice(keyBase(keyPrefix).length));
  } finally {
    await raw.quit();
  }
}

describe('redis store key layout upgrade', () => {
  it("moves an earlier release's keys on the first ping; incidents, timeline, claims and schedule read as before", async () => {
    const keyPrefix = `${prefix}up:`;
    const before = createRedisStore({ url: redisUrl(), keyPrefix });
    const { incident } = await before.incidents.createOrGetByFingerprint(anIncident());
    await before.timeline.append(aTimelineEvent());
    await before.dedupe.claim('req-1', 60_000);
    await before.schedule.put({ id: 'advance:x', dueAt: 1000, data: {} });
    await before.close();
    const old = await toOldLayout(keyPrefix);
    expect(old.length).toBeGreaterThanOrEqual(7);

    // Another deployment whose prefix begins with this one's: not ours to move.
    const raw = testRedisClient();
    await raw.set(`${keyPrefix}staging:incident:x`, 'theirs');
    const warnings: unknown[] = [];
    const after = createRedisStore({
      url: redisUrl(),
      keyPrefix,
      log: { warn: (obj: unknown) => warnings.push(obj) },
    });
    try {
      expect(await after.incidents.get(incident.id)).toBeUndefined(); // not moved before the ping
      await after.ping();
      expect(warnings).toEqual([{ moved: old.length, kept: 0, prefix: keyPrefix }]);
      expect(await after.incidents.get(incident.id)).toEqual(incident);
      expect(await after.incidents.byFingerprint(incident.fingerprint)).toEqual(incident);
      expect(await after.timeline.read(incident.id)).toEqual([aTimelineEvent()]);
      expect(await after.dedupe.claim('req-1', 60_000)).toBe(false);
      expect((await after.schedule.due(1000)).map((i) => i.id)).toEqual(['advance:x']);
      const left = (await listKeys(keyPrefix)).filter((k) => !k.startsWith(keyBase(keyPrefix)));
      expect(left).toEqual([`${keyPrefix}staging:incident:x`]);
      expect(await raw.get(`${keyPrefix}staging:incident:x`)).toBe('theirs');
      await after.ping(); // once per process: nothing more to say
      expect(warnings).toHaveLength(1);
    } finally {
      await raw.quit();
      await after.close();
    }
  });

  it('never overwrites a key already in the new layout: the old one stays and is counted as kept', async () => {
    const keyPrefix = `${prefix}both:`;
    const raw = testRedisClient();
    const warnings: unknown[] = [];
    const store = createRedisStore({
      url: redisUrl(),
      keyPrefix,
      log: { warn: (obj: unknown) => warnings.push(obj) },
    });
    try {
      await raw.set(`${keyPrefix}dedupe:req-1`, 'old');
      await raw.set(`${keyBase(keyPrefix)}dedupe:req-1`, 'new');
      await store.ping();
      expect(await raw.get(`${keyBase(keyPrefix)}dedupe:req-1`)).toBe('new');
      expect(await raw.get(`${keyPrefix}dedupe:req-1`)).toBe('old');
      expect(warnings).toEqual([{ moved: 0, kept: 1, prefix: keyPrefix }]);
    } finally {
      await raw.quit();
      await store.close();
    }
  });
});
