import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, Socket } from 'node:net';
import { Redis } from 'ioredis';

// Helpers for tests that talk to a real Redis. The shared one comes from REDIS_URL (test/support/
// global-setup.js sets it, starting a private redis-server when needed). Each test file works under
// its own key prefix and deletes its keys afterwards, so files can run in parallel on one server.

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set: run the tests through jest (global setup starts a Redis)');
  return url;
}

/** A key prefix no other test file (or run) uses: `egress-test:<label>:<pid>:<random>:`. */
export function uniquePrefix(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_.-]/g, '-');
  return `egress-test:${safe}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** A plain client for inspecting or corrupting data in tests; quit it afterwards. */
export function testRedisClient(url = redisUrl()): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 5000 });
  client.on('error', () => {}); // failures surface as rejected commands
  return client;
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Delete every key under `prefix`; returns how many were deleted. */
export async function deleteKeys(prefix: string, url = redisUrl()): Promise<number> {
  const client = testRedisClient(url);
  try {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    await client.quit().catch(() => client.disconnect());
  }
}

/** Keys under `prefix` (for asserting a test cleaned up, or what a store wrote). */
export async function listKeys(prefix: string, url = redisUrl()): Promise<string[]> {
  const client = testRedisClient(url);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys.sort();
  } finally {
    await client.quit().catch(() => client.disconnect());
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.once('data', (buf) => done(buf.toString().startsWith('+PONG')));
    sock.connect(port, '127.0.0.1', () => sock.write('PING\r\n'));
  });
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** SIGKILL the server (no goodbye to clients) and wait until it has exited. */
  kill(): Promise<void>;
  /** SIGSTOP: the server hangs with its connections open (a partition, a stuck host). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

/**
 * Start a private, throwaway redis-server (no persistence) on `port` (a free one when omitted), for
 * tests that take Redis away. Resolves once it answers PING.
 */
export async function startRedisServer(port?: number): Promise<PrivateRedis> {
  const p = port ?? (await freePort());
  let child: ChildProcess | undefined;
  // The port of a server just killed can take a moment to be bindable again: retry a few times.
  for (let attempt = 0; attempt < 20 && !child; attempt++) {
    const candidate = spawn(
      'redis-server',
      ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: 'ignore' },
    );
    const exited = new Promise<void>((resolve) => candidate.once('exit', () => resolve()));
    candidate.once('error', () => {});
    for (let i = 0; i < 100; i++) {
      if (await pingRedis(p)) {
        // A PING answered by some other server on this port does not count.
        if (candidate.exitCode === null && candidate.signalCode === null) child = candidate;
        break;
      }
      if (candidate.exitCode !== null || candidate.signalCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!child) {
      candidate.kill('SIGKILL');
      await exited;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!child) throw new Error(`could not start redis-server on port ${p}`);
  const running = child;
  const exited = new Promise<void>((resolve) => {
    if (running.exitCode !== null || running.signalCode !== null) resolve();
    else running.once('exit', () => resolve());
  });
  return {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    async kill() {
      if (running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
      await exited;
    },
    pause() {
      if (running.exitCode === null && running.signalCode === null) running.kill('SIGSTOP');
    },
    resume() {
      if (running.exitCode === null && running.signalCode === null) running.kill('SIGCONT');
    },
  };
}
