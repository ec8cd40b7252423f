import { userInfo } from 'node:os';
import { main } from '../../../src/cli/index.js';
import type { Io } from '../../../src/cli/io.js';
import type { Grant } from '../../../src/domain/grant.js';
import { createRedisStore } from '../../../src/store/redis.js';
import type { Store } from '../../../src/store/store.js';
import { A, breakglassHarness, forensicsRequest, policyOf } from '../../builders/breakglass.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { type PrivateRedis, startRedisServer } from '../../support/redis.js';

// `egress-responder grants list|revoke` against a Redis of its own (the CLI uses the store's default
// key prefix, as serve does) and the fake API server in KUBECONFIG.

function capture(env: NodeJS.ProcessEnv = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), env };
}

let redis: PrivateRedis;
let fake: FakeKubeApi;
let store: Store;
let h: ReturnType<typeof breakglassHarness>;
let active: Grant;
let pending: Grant;

beforeAll(async () => {
  [redis, fake] = await Promise.all([startRedisServer(), startFakeKubeApi()]);
  store = createRedisStore({ url: redis.url });
  h = breakglassHarness({ fake, store });
  const inc = await h.contained();
  // The CLI reads the system clock: the harness's clock starts now, so "time left" is real.
  h.clock.advance(Date.now() - h.clock.now());
  active = await h.bg.approve((await h.bg.request(forensicsRequest(inc.id), A.requester)).id, A.approver);
  pending = await h.bg.request(forensicsRequest(inc.id), { actor: A.requester, requestId: 'second' });
});
afterAll(async () => {
  await store.close();
  await Promise.all([redis.kill(), fake.close()]);
});

const env = () => ({ REDIS_URL: redis.url, KUBECONFIG: fake.kubeconfig() });

describe('egress-responder grants', () => {
  it('list: the live grants with status, kind, incident and time left; --format json is the records', async () => {
    const io = capture(env());
    expect(await main(['grants', 'list'], io)).toBe(0);
    expect(io.stderr).toEqual([]);
    const [header, ...rows] = io.stdout;
    expect(header).toMatch(/^ID +STATUS +KIND +INCIDENT +NAMESPACE +WHAT +REQUESTER +ENDS$/);
    expect(rows).toHaveLength(2);
    const row = rows.find((r) => r.startsWith(active.id))!;
    expect(row).toMatch(
      /active +egress-exception +EGR-TEST-1 +prod +quarantined pods → 203\.0\.113\.7\/32 +slack:U0AAA +(59m|1h 00m) left/,
    );
    expect(rows.find((r) => r.startsWith(pending.id))).toMatch(/pending .* request expires in (29|30)m$/);

    const json = capture(env());
    expect(await main(['grants', 'list', '--format', 'json'], json)).toBe(0);
    const listed = JSON.parse(json.stdout.join('\n')) as Grant[];
    expect(listed.map((g) => g.id).sort()).toEqual([active.id, pending.id].sort());
  });

  it('revoke: ends the grant as cli:<os user>, removes its object, recorded in the timeline', async () => {
    expect(policyOf(fake, active)).toBeDefined();
    const io = capture(env());
    expect(await main(['grants', 'revoke', active.id, '--reason', 'dump copied'], io)).toBe(0);
    expect(io.stdout).toEqual([`revoked ${active.id}: removed NetworkPolicy prod/breakglass-${active.id}`]);
    expect(policyOf(fake, active)).toBeUndefined();
    const g = (await store.grants.get(active.id))!;
    expect(g).toMatchObject({
      status: 'revoked',
      ended: { by: `cli:${userInfo().username}`, reason: 'dump copied' },
    });
    const events = (await store.timeline.read(active.incidentId)).filter((e) => e.kind === 'grant.revoked');
    expect(events.map((e) => e.actor)).toEqual([`cli:${userInfo().username}`]);

    const list = capture(env());
    await main(['grants', 'list'], list);
    expect(list.stdout.some((l) => l.startsWith(active.id))).toBe(false);
    const all = capture(env());
    await main(['grants', 'list', '--all'], all);
    expect(all.stdout.find((l) => l.startsWith(active.id))).toMatch(/revoked .* ended /);
  });

  it('usage errors exit 2 with what was wrong; a missing grant or store exits 1', async () => {
    const cases: [string[], string][] = [
      [['grants'], 'grants needs list or revoke'],
      [['grants', 'lsit'], 'unknown grants command "lsit"'],
      [['grants', 'revoke'], 'grants revoke needs the grant id'],
      [['grants', 'revoke', pending.id], 'grants revoke needs --reason TEXT'],
      [['grants', 'revoke', pending.id, '--reason', ' '], 'grants revoke needs --reason TEXT'],
      [['grants', 'list', '--format', 'yaml'], '--format must be text or json, not "yaml"'],
      [['grants', 'list', '--reason', 'x'], '--reason applies to grants revoke only'],
      [['grants', 'list', '--frobnicate'], "Unknown option '--frobnicate'"],
    ];
    for (const [argv, message] of cases) {
      const io = capture(env());
      expect({ argv, code: await main(argv, io) }).toEqual({ argv, code: 2 });
      expect(io.stderr.join('\n')).toContain(message);
    }
    const missing = capture(env());
    expect(await main(['grants', 'revoke', 'bg-ffffffffff', '--reason', 'x'], missing)).toBe(1);
    expect(missing.stderr.join('\n')).toContain('no break-glass grant bg-ffffffffff');
    const noRedis = capture({});
    expect(await main(['grants', 'list'], noRedis)).toBe(1);
    expect(noRedis.stderr.join('\n')).toContain('REDIS_URL is not set');
  });

  it('revoke without a cluster: revoked in the store, exit 1 saying the objects are still there', async () => {
    const io = capture({ REDIS_URL: redis.url });
    const g = await h.bg.approve(pending.id, A.approver);
    expect(policyOf(fake, g)).toBeDefined();
    expect(await main(['grants', 'revoke', g.id, '--reason', 'from a laptop'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain(`revoked ${g.id}, but its objects are not removed yet`);
    expect((await store.grants.get(g.id))?.status).toBe('revoked');
    // The bot (with its cluster) finishes the removal.
    await h.bg.reconcile();
    expect(policyOf(fake, g)).toBeUndefined();
  });
});
