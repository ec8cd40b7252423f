import { CodedError } from '../../../src/domain/errors.js';
import type { Grant } from '../../../src/domain/grant.js';
import type { Store } from '../../../src/store/store.js';
import { aGrant, grantId } from '../../builders/grant.js';

// The grant part of the Store contract (memory.test.ts and redis.test.ts run it): a grant stored
// once per id, compare-and-set updates with exactly one winner per version, the live and incident
// indexes following every update, and records validated on the way in and decoded on the way out.

async function errorOf(promise: Promise<unknown>): Promise<CodedError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CodedError) return err;
    throw err;
  }
  throw new Error('expected a rejection, got a result');
}

const at = (minutes: number) =>
  new Date(Date.parse('2026-11-25T14:00:00.000Z') + minutes * 60_000).toISOString();

export function describeGrantContract(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup: (store: Store) => Promise<void>,
  /** Overwrite the stored record of `id` with `raw` behind the store's back (stores that decode what they read). */
  damage?: (store: Store, id: string, raw: string) => Promise<void>,
): void {
  describe(`Store contract: ${name}: grants`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await cleanup(store);
    });

    it('creates a grant once: the same id again returns the first and changes nothing', async () => {
      const first = await store.grants.create(aGrant());
      expect(first).toEqual({ created: true, grant: aGrant() });
      const again = await store.grants.create(aGrant({ reason: 'a different reason' }));
      expect(again.created).toBe(false);
      expect(again.grant.reason).toBe(aGrant().reason);
      expect(await store.grants.get(aGrant().id)).toEqual(aGrant());
      expect(await store.grants.get(grantId(999))).toBeUndefined();
    });

    it('keeps exactly one of concurrent creates of one id', async () => {
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => store.grants.create(aGrant({ reason: `attempt ${n}` }))),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.grant.reason)).size).toBe(1);
      expect(await store.grants.list()).toHaveLength(1);
    });

    it('lists newest request first, by live status and by incident, with a limit', async () => {
      const grants: Grant[] = [
        aGrant({ id: grantId(1), requestedAt: at(1), incidentId: 'EGR-A' }),
        aGrant({ id: grantId(2), requestedAt: at(2), incidentId: 'EGR-B' }),
        aGrant({ id: grantId(3), requestedAt: at(3), incidentId: 'EGR-A' }),
      ];
      for (const g of grants) await store.grants.create(g);
      const ids = (list: Grant[]) => list.map((g) => g.id);
      expect(ids(await store.grants.list())).toEqual([grantId(3), grantId(2), grantId(1)]);
      expect(ids(await store.grants.list({ limit: 2 }))).toEqual([grantId(3), grantId(2)]);
      expect(ids(await store.grants.list({ incidentId: 'EGR-A' }))).toEqual([grantId(3), grantId(1)]);
      expect(await store.grants.list({ limit: 0 })).toEqual([]);

      // Ending one takes it out of the live index, not out of the audit.
      const g2 = (await store.grants.get(grantId(2)))!;
      await store.grants.update(
        { ...g2, status: 'denied', denial: { by: 'slack:U0CCC', at: at(4), reason: 'no' } },
        0,
      );
      expect(ids(await store.grants.list({ live: true }))).toEqual([grantId(3), grantId(1)]);
      expect(ids(await store.grants.list({ live: true, incidentId: 'EGR-B' }))).toEqual([]);
      expect(ids(await store.grants.list({ live: true, incidentId: 'EGR-A', limit: 1 }))).toEqual([
        grantId(3),
      ]);
      expect(ids(await store.grants.list())).toEqual([grantId(3), grantId(2), grantId(1)]);

      // And back in when an update makes it live again (the index follows the record, both ways).
      const denied = (await store.grants.get(grantId(2)))!;
      await store.grants.update({ ...denied, status: 'pending' }, 1);
      expect(ids(await store.grants.list({ live: true }))).toEqual([grantId(3), grantId(2), grantId(1)]);
    });

    it('compare-and-set: stores version + 1 on the expected version, refuses a stale one', async () => {
      await store.grants.create(aGrant());
      const v1 = await store.grants.update({ ...aGrant(), status: 'approved', approvedAt: at(5) }, 0);
      expect(v1.version).toBe(1);
      expect(await store.grants.get(aGrant().id)).toEqual(v1);
      const stale = await errorOf(store.grants.update({ ...aGrant(), status: 'denied' }, 0));
      expect(stale.code).toBe('store_conflict');
      expect(stale.details).toMatchObject({ id: aGrant().id, expectedVersion: 0, actualVersion: 1 });
      expect((await store.grants.get(aGrant().id))?.status).toBe('approved');
      const missing = await errorOf(store.grants.update(aGrant({ id: grantId(77) }), 0));
      expect(missing.code).toBe('command_invalid');
    });

    it('concurrent updates of one version: exactly one wins, the others conflict', async () => {
      await store.grants.create(aGrant());
      const approvers = ['slack:U1', 'slack:U2', 'slack:U3', 'slack:U4', 'slack:U5'];
      const results = await Promise.allSettled(
        approvers.map((by) => store.grants.update({ ...aGrant(), approvals: [{ by, at: at(6) }] }, 0)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.map((r) => (r.reason as CodedError).code)).toEqual(Array(4).fill('store_conflict'));
      const stored = (await store.grants.get(aGrant().id))!;
      expect(stored.version).toBe(1);
      expect(stored.approvals).toEqual((won[0] as PromiseFulfilledResult<Grant>).value.approvals);
    });

    it('refuses an invalid record on the way in (nothing stored) and a new grant with a version', async () => {
      const bad = { ...aGrant(), status: 'sort-of-active' } as unknown as Grant;
      expect((await errorOf(store.grants.create(bad))).code).toBe('internal');
      expect(await store.grants.get(aGrant().id)).toBeUndefined();
      expect((await errorOf(store.grants.create(aGrant({ version: 3 })))).code).toBe('internal');
      await store.grants.create(aGrant());
      const huge = { ...aGrant(), reason: 'x'.repeat(2001) };
      expect((await errorOf(store.grants.update(huge, 0))).code).toBe('internal');
      expect((await store.grants.get(aGrant().id))?.version).toBe(0);
    });

    (damage ? it : it.skip)(
      'decodes what it reads: a damaged record is an error, never a half-grant',
      async () => {
        await store.grants.create(aGrant());
        await damage!(store, aGrant().id, JSON.stringify({ ...aGrant(), status: 'sort-of-active' }));
        const read = await errorOf(store.grants.get(aGrant().id));
        expect(read.code).toBe('internal');
        expect(read.message).toContain('stored grant is not a valid record');
        expect((await errorOf(store.grants.list())).code).toBe('internal');
        await damage!(store, aGrant().id, '{"id":"bg-0123456789","version":');
        const truncated = await errorOf(store.grants.get(aGrant().id));
        expect(truncated.code).toBe('internal');
        expect(truncated.message).toContain('stored grant is not JSON');
      },
    );
  });
}
