// A private redis-server on a free loopback port for benchmarks that run `serve` as it runs (which
// takes REDIS_URL and no key prefix): nothing of anyone else's is touched, and it goes with the run.
import { spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const sock = new Socket();
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(300, () => done(false));
    sock.once('error', () => done(false));
    sock.connect(port, '127.0.0.1', () => sock.write('PING\r\n'));
    sock.once('data', (b) => done(b.toString().startsWith('+PONG')));
  });
}

/**
 * `{ url, port, stop() }`, or `{ skipped }` when redis-server cannot be started here. `port`: start on
 * that one (a restart of a stopped one, for benchmarks that take Redis away and bring it back).
 */
export async function startPrivateRedis(opts = {}) {
  const port = opts.port ?? (await freePort());
  let child;
  try {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
  } catch (err) {
    return { skipped: `cannot start redis-server (${err.message})` };
  }
  const failed = new Promise((resolve) => child.once('error', (err) => resolve(err)));
  for (let i = 0; i < 100; i++) {
    const err = await Promise.race([failed, new Promise((r) => setTimeout(() => r(undefined), 50))]);
    if (err) return { skipped: `cannot start redis-server (${err.message})` };
    if (await ping(port)) {
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        stop: () =>
          new Promise((resolve) => {
            child.once('exit', resolve);
            child.kill('SIGTERM');
          }),
      };
    }
  }
  child.kill('SIGKILL');
  return { skipped: `redis-server on port ${port} did not answer within 5 s` };
}
