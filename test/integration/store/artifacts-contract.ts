import { createHash } from 'node:crypto';
import { MAX_ARTIFACT_BYTES } from '../../../src/domain/artifact.js';
import { CodedError } from '../../../src/domain/errors.js';
import type { Store } from '../../../src/store/store.js';

// The artifact part of the Store contract (memory.test.ts and redis.test.ts run it): evidence stored
// once, bytes back exactly as given with the digest computed by the store, names that cannot become
// path tricks, a cap, one incident's artifacts never another's.

const AT = '2026-11-25T14:03:12.123Z';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i)); // NUL, CR/LF, invalid UTF-8 …

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CodedError) return err.code;
    throw err;
  }
  throw new Error('expected a rejection, got a result');
}

export function describeArtifactContract(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup: (store: Store) => Promise<void>,
): void {
  describe(`Store contract: ${name}: artifacts`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await cleanup(store);
    });

    it('stores bytes exactly, with the size and sha256 computed by the store, and lists them in order', async () => {
      const log = Buffer.from('line 1\nline 2 ü 🚨\n', 'utf8');
      const a = await store.artifacts.put('EGR-1', {
        name: 'pod-a.app.log',
        contentType: 'text/plain; charset=utf-8',
        bytes: log,
        storedAt: AT,
      });
      expect(a).toEqual({
        created: true,
        artifact: {
          name: 'pod-a.app.log',
          contentType: 'text/plain; charset=utf-8',
          size: log.byteLength,
          sha256: sha(log),
          storedAt: AT,
        },
      });
      const b = await store.artifacts.put('EGR-1', {
        name: 'pod-a.evidence.json',
        contentType: 'application/octet-stream',
        bytes: every,
        storedAt: AT,
        truncated: 'first 10 bytes cut',
      });
      expect(b.artifact).toMatchObject({ size: 256, sha256: sha(every), truncated: 'first 10 bytes cut' });

      const got = await store.artifacts.get('EGR-1', 'pod-a.evidence.json');
      expect(got?.bytes.equals(every)).toBe(true);
      expect(got?.artifact).toEqual(b.artifact);
      expect((await store.artifacts.list('EGR-1')).map((m) => m.name)).toEqual([
        'pod-a.app.log',
        'pod-a.evidence.json',
      ]);
    });

    it('never overwrites evidence: a second put of a name keeps the first bytes and says so', async () => {
      const first = Buffer.from('as collected first');
      await store.artifacts.put('EGR-1', {
        name: 'x.log',
        contentType: 'text/plain',
        bytes: first,
        storedAt: AT,
      });
      const again = await store.artifacts.put('EGR-1', {
        name: 'x.log',
        contentType: 'text/plain',
        bytes: Buffer.from('collected again, different'),
        storedAt: '2026-11-25T15:00:00.000Z',
      });
      expect(again.created).toBe(false);
      expect(again.artifact).toMatchObject({ sha256: sha(first), storedAt: AT });
      expect((await store.artifacts.get('EGR-1', 'x.log'))?.bytes.toString()).toBe('as collected first');
      expect(await store.artifacts.list('EGR-1')).toHaveLength(1);
    });

    it('keeps exactly one of concurrent puts of the same name', async () => {
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((n) =>
          store.artifacts.put('EGR-1', {
            name: 'race.json',
            contentType: 'application/json',
            bytes: Buffer.from(`{"n":${n}}`),
            storedAt: AT,
          }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.artifact.sha256)).size).toBe(1);
      const stored = await store.artifacts.get('EGR-1', 'race.json');
      expect(sha(stored!.bytes)).toBe(results[0]!.artifact.sha256);
      expect(await store.artifacts.list('EGR-1')).toHaveLength(1);
    });

    it.each([
      '../etc/passwd',
      '..',
      'a/b.log',
      'a\\b.log',
      '.hidden',
      'a..b',
      '',
      'pod a.log',
      'x'.repeat(201),
      'tab\tname',
      'nul\u0000name',
    ])('refuses the unsafe name %j and stores nothing', async (bad) => {
      expect(
        await codeOf(
          store.artifacts.put('EGR-1', {
            name: bad,
            contentType: 'text/plain',
            bytes: Buffer.from('x'),
            storedAt: AT,
          }),
        ),
      ).toBe('command_invalid');
      expect(await store.artifacts.list('EGR-1')).toEqual([]);
    });

    it('refuses an incident id that is not a safe name (it is a directory name too)', async () => {
      expect(
        await codeOf(
          store.artifacts.put('../EGR-1', {
            name: 'a.log',
            contentType: 'text/plain',
            bytes: Buffer.from('x'),
            storedAt: AT,
          }),
        ),
      ).toBe('command_invalid');
    });

    it('refuses an artifact over the cap', async () => {
      const big = Buffer.alloc(MAX_ARTIFACT_BYTES + 1, 0x61);
      expect(
        await codeOf(
          store.artifacts.put('EGR-1', {
            name: 'big.log',
            contentType: 'text/plain',
            bytes: big,
            storedAt: AT,
          }),
        ),
      ).toBe('command_invalid');
      expect(await store.artifacts.get('EGR-1', 'big.log')).toBeUndefined();
    });

    it("keeps one incident's artifacts from another's, and hands out copies", async () => {
      const bytes = Buffer.from('mine');
      await store.artifacts.put('EGR-1', { name: 'a.log', contentType: 'text/plain', bytes, storedAt: AT });
      bytes.write('xxxx');
      expect(await store.artifacts.get('EGR-2', 'a.log')).toBeUndefined();
      expect(await store.artifacts.list('EGR-2')).toEqual([]);
      const got = await store.artifacts.get('EGR-1', 'a.log');
      expect(got?.bytes.toString()).toBe('mine');
      got!.bytes.write('zzzz');
      expect((await store.artifacts.get('EGR-1', 'a.log'))?.bytes.toString()).toBe('mine');
      expect(await store.artifacts.get('EGR-1', 'missing.log')).toBeUndefined();
    });
  });
}
