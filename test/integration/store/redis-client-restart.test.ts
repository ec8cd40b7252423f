import { parseRedisTarget } from '../../../src/domain/redis-target.js';
import { openRedis, type RedisConnection } from '../../../src/store/redis-connection.js';
import { type PrivateRedis, startRedisServer } from '../../support/redis.js';
import { redisCall } from '../../support/redis-topologies.js';

// When ioredis gives its client up for good ('end') without our close(), the store's connection
// starts it again (redis-connection.ts; commit 3fb7a68). ioredis only ends a client on its own when
// its retry strategy gives up, and ours never does; so the connection is opened with one that gives
// up after two attempts (the seam openRedis takes for this test), its private server is killed until
// the client ends, and started again on the same port: the same connection must answer again. An
// explicit close() must not be undone by that restart.

const GAVE_UP = 'redis store: the client gave up reconnecting; starting it again';

/** Poll `probe` until true (errors count as false), or fail after `ms`. */
async function until(what: string, ms: number, probe: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (
      await Promise.resolve()
        .then(probe)
        .catch(() => false)
    )
      return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Our connections the server sees (the store names them egress-responder). */
async function ours(port: number): Promise<number> {
  const list = String(await redisCall(port, 'CLIENT', 'LIST'));
  return list.split('\n').filter((line) => line.includes('name=egress-responder')).length;
}

let server: PrivateRedis;
let conn: RedisConnection | undefined;
const warnings: string[] = [];
const ends: string[] = [];

beforeEach(async () => {
  warnings.length = 0;
  ends.length = 0;
  server = await startRedisServer();
  conn = openRedis({
    target: parseRedisTarget(server.url),
    timeoutMs: 1000,
    log: { warn: (_obj, msg) => warnings.push(msg) },
    retryStrategy: (times) => (times > 2 ? null : 50),
  });
  conn.client.on('end', () => ends.push(conn?.client.status ?? 'gone'));
});

afterEach(async () => {
  await conn?.close();
  await server.kill();
});

const ping = (c: RedisConnection) => c.cmd('ping', () => c.client.ping());

describe('redis connection: a client ioredis gave up on', () => {
  it('is started again, and the same connection answers once the server is back on its port', async () => {
    const c = conn!;
    expect(await ping(c)).toBe('PONG');
    const client = c.client;

    await server.kill();
    await until('ioredis ending the client', 5000, () => ends.length > 0);
    expect(warnings).toContain(GAVE_UP);
    // While the server is down the connection refuses at once rather than hanging.
    await expect(ping(c)).rejects.toMatchObject({ code: 'store_unavailable' });

    server = await startRedisServer(server.port);
    await until('the connection answering again', 10_000, async () => (await ping(c)) === 'PONG');
    expect(c.client).toBe(client);
    expect(await ours(server.port)).toBe(1);
  }, 30_000);

  it('stays closed after close(): ending then starts nothing', async () => {
    const c = conn!;
    expect(await ping(c)).toBe('PONG');
    expect(await ours(server.port)).toBe(1);

    await c.close();
    await until('the client ending', 2000, () => ends.length > 0);
    // Longer than the restart's delay (retryDelay(1): at most 300 ms) and a connection attempt.
    await new Promise((r) => setTimeout(r, 1000));
    expect(warnings).not.toContain(GAVE_UP);
    expect(c.client.status).toBe('end');
    expect(await ours(server.port)).toBe(0);
    await expect(ping(c)).rejects.toMatchObject({ code: 'store_unavailable', details: { closed: true } });
  }, 30_000);
});
