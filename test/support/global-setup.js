// Jest global setup: make sure a real Redis answers for the integration tests.
// REDIS_URL set → use it. Unset → start a private redis-server on a free port (no persistence) and
// export REDIS_URL for the workers. Neither possible → fail with a message that says what to do.
import { spawn, spawnSync } from 'node:child_process';
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

function pingRedis(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = new Socket();
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.connect(port, host, () => sock.write('PING\r\n'));
    sock.once('data', (buf) => done(buf.toString().startsWith('+PONG')));
  });
}

export default async function globalSetup() {
  if (process.env.REDIS_URL) return;
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    throw new Error(
      'The integration tests need a real Redis. Set REDIS_URL=redis://host:port to use one, or install ' +
        'redis-server (Debian: apt-get install redis-server) so the tests can start a private one.',
    );
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: 'ignore', detached: false },
  );
  for (let i = 0; i < 100; i++) {
    if (await pingRedis(port)) break;
    if (child.exitCode !== null)
      throw new Error(`redis-server exited with code ${child.exitCode} on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!(await pingRedis(port))) {
    child.kill('SIGKILL');
    throw new Error(`started redis-server on port ${port} but it did not answer PING within 5 s`);
  }
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
  globalThis.__EGRESS_TEST_REDIS__ = child;
}
