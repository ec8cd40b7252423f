import type { FoldedHosts, Incident } from '../../../src/domain/incident.js';
import type { AlertRecord, Store } from '../../../src/store/store.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';

// The distinct-hosts part of the Store contract (memory.test.ts and redis.test.ts run it): recordAlert
// counts each fold's FQDN host into the active incident's `hosts` in the same atomic step as the fold,
// exactly (a set per incident) up to the store's cap, and past it says the count is a lower bound.

const AT = '2026-11-25T14:03:12.123Z';
const FP = 'fp-tunnel';

function opening(id: string, hosts: FoldedHosts | undefined): Incident {
  const base = anIncident({ id, fingerprint: FP });
  return hosts ? { ...base, hosts } : base;
}

/** One alert to `host`: opens `inc-<n>` (seeded with its host) or folds into the active one. */
function alertTo(
  n: number,
  host: string | undefined,
  opts: { hosts?: boolean; claim?: string } = {},
): AlertRecord {
  const seeded = opts.hosts ?? true;
  const incident = opening(
    `inc-${n}`,
    seeded && host !== undefined
      ? { domain: 'tunnel-example.net', count: 1, capped: false, sample: [host] }
      : undefined,
  );
  return {
    fingerprint: FP,
    ...(opts.claim ? { claim: { key: opts.claim, ttlMs: 60_000 } } : {}),
    state: 'firing',
    open: () => ({
      incident,
      events: [
        aTimelineEvent({ id: `${incident.id}:opened`, incidentId: incident.id, kind: 'incident.opened' }),
      ],
      schedule: [],
    }),
    fold: {
      count: 1,
      firstSeen: AT,
      lastSeen: AT,
      event: aTimelineEvent({
        id: 'template',
        incidentId: 'template',
        kind: 'alert.folded',
        summary: '{count}',
      }),
      ...(host !== undefined ? { host } : {}),
    },
  };
}

const sub = (i: number) => `${i}.x7f.tunnel-example.net`;

export function describeHostsContract(
  name: string,
  makeStore: (opts?: { distinctHostsCap?: number }) => Promise<Store>,
  cleanup: (store: Store) => Promise<void>,
): void {
  describe(`Store contract: ${name}: distinct hosts folded`, () => {
    const stores: Store[] = [];
    const open = async (opts?: { distinctHostsCap?: number }) => {
      const store = await makeStore(opts);
      stores.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of stores.splice(0)) await cleanup(store);
    });

    it('opens with the first host, keeps the first five in arrival order and ignores repeats', async () => {
      const store = await open();
      expect((await store.incidents.recordAlert(alertTo(0, sub(0)))).outcome).toBe('opened');
      for (const i of [1, 2, 1, 0, 3, 4, 5, 6, 2])
        await store.incidents.recordAlert(alertTo(100 + i, sub(i)));
      const got = await store.incidents.get('inc-0');
      expect(got).toMatchObject({ count: 10, version: 0 });
      expect(got?.hosts).toEqual({
        domain: 'tunnel-example.net',
        count: 7,
        capped: false,
        sample: [sub(0), sub(1), sub(2), sub(3), sub(4)],
      });
      // Every read path overlays the same value.
      expect((await store.incidents.byFingerprint(FP))?.hosts).toEqual(got?.hosts);
      expect((await store.incidents.list())[0]?.hosts).toEqual(got?.hosts);
    });

    it('counts 2000 distinct hosts exactly when 4000 alerts (each host twice) fold concurrently, 64 at a time', async () => {
      const store = await open();
      await store.incidents.recordAlert(alertTo(0, sub(0)));
      const hosts = Array.from({ length: 4000 }, (_, i) => sub(1 + (i % 2000)));
      // 64 in flight at once: concurrent enough to race every fold against others of the same host,
      // and not 4 000 scripts queued behind each other past the client's command timeout on a busy
      // machine (CI runs the kill suite alongside).
      const results: Awaited<ReturnType<typeof store.incidents.recordAlert>>[] = new Array(hosts.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          for (let i = next++; i < hosts.length; i = next++)
            results[i] = await store.incidents.recordAlert(
              alertTo(10_000 + i, hosts[i]!, { claim: `r-${i}` }),
            );
        }),
      );
      expect(results.every((r) => r.outcome === 'folded')).toBe(true);
      const got = await store.incidents.get('inc-0');
      expect(got?.count).toBe(4001);
      expect(got?.hosts?.count).toBe(2001);
      expect(got?.hosts?.capped).toBe(false);
      expect(got?.hosts?.sample).toHaveLength(5);
      expect(got?.hosts?.sample[0]).toBe(sub(0));
      expect(new Set(got?.hosts?.sample).size).toBe(5);
      // Each sampled host is one that was sent.
      for (const h of got?.hosts?.sample ?? []) expect(h === sub(0) || hosts.includes(h)).toBe(true);
      // The fold's answer carries the counters too: the last answer saw the final count.
      const last = results.map((r) => (r.outcome === 'folded' ? (r.incident.hosts?.count ?? 0) : 0));
      expect(Math.max(...last)).toBe(2001);
    });

    it('past the cap the count stops and says it is a lower bound; known hosts still fold quietly', async () => {
      const store = await open({ distinctHostsCap: 3 });
      await store.incidents.recordAlert(alertTo(0, sub(0)));
      await store.incidents.recordAlert(alertTo(1, sub(1)));
      await store.incidents.recordAlert(alertTo(2, sub(2)));
      expect((await store.incidents.get('inc-0'))?.hosts).toMatchObject({ count: 3, capped: false });
      await store.incidents.recordAlert(alertTo(3, sub(1)));
      expect((await store.incidents.get('inc-0'))?.hosts).toMatchObject({ count: 3, capped: false });
      await store.incidents.recordAlert(alertTo(4, sub(3)));
      await store.incidents.recordAlert(alertTo(5, sub(4)));
      const got = await store.incidents.get('inc-0');
      expect(got?.count).toBe(6);
      expect(got?.hosts).toEqual({
        domain: 'tunnel-example.net',
        count: 3,
        capped: true,
        sample: [sub(0), sub(1), sub(2)],
      });
    });

    it('the engine cannot move them with a compare-and-set update', async () => {
      const store = await open();
      await store.incidents.recordAlert(alertTo(0, sub(0)));
      const stale = await store.incidents.get('inc-0');
      await store.incidents.recordAlert(alertTo(1, sub(1)));
      const updated = await store.incidents.update({ ...stale!, status: 'acknowledged' }, 0);
      expect(updated.hosts).toMatchObject({ count: 2, sample: [sub(0), sub(1)] });
      expect((await store.incidents.get('inc-0'))?.hosts?.count).toBe(2);
    });

    it('an incident opened without hosts gets none from its folds; a duplicate delivery counts nothing', async () => {
      const store = await open();
      await store.incidents.recordAlert(alertTo(0, sub(0), { hosts: false }));
      await store.incidents.recordAlert(alertTo(1, sub(1)));
      expect((await store.incidents.get('inc-0'))?.hosts).toBeUndefined();

      const other = await open();
      await other.incidents.recordAlert(alertTo(0, sub(0)));
      await other.incidents.recordAlert(alertTo(1, sub(1), { claim: 'req-1' }));
      const again = await other.incidents.recordAlert(alertTo(2, sub(2), { claim: 'req-1' }));
      expect(again.outcome).toBe('duplicate');
      expect((await other.incidents.get('inc-0'))?.hosts).toMatchObject({ count: 2 });
    });

    it('once closed, the fingerprint opens a new incident counting its hosts afresh', async () => {
      const store = await open();
      await store.incidents.recordAlert(alertTo(0, sub(0)));
      await store.incidents.recordAlert(alertTo(1, sub(1)));
      const cur = await store.incidents.get('inc-0');
      const closed = await store.incidents.update({ ...cur!, status: 'closed' }, 0);
      expect(closed.hosts?.count).toBe(2);
      expect((await store.incidents.recordAlert(alertTo(2, sub(1)))).outcome).toBe('opened');
      await store.incidents.recordAlert(alertTo(3, sub(0)));
      expect((await store.incidents.get('inc-2'))?.hosts).toMatchObject({
        count: 2,
        sample: [sub(1), sub(0)],
      });
      expect((await store.incidents.get('inc-0'))?.hosts?.count).toBe(2);
    });

    it('createOrGetByFingerprint seeds the set from the sample as recordAlert does', async () => {
      const store = await open();
      await store.incidents.createOrGetByFingerprint(
        opening('inc-0', { count: 1, capped: false, sample: [sub(0)] }),
      );
      await store.incidents.recordAlert(alertTo(1, sub(0)));
      await store.incidents.recordAlert(alertTo(2, sub(1)));
      expect((await store.incidents.get('inc-0'))?.hosts).toEqual({
        count: 2,
        capped: false,
        sample: [sub(0), sub(1)],
      });
    });
  });
}
