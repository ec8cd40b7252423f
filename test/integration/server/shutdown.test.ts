import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/config/paths.js';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';
import { builtPackage } from '../crash/build.js';
import { startChild } from '../crash/child.js';

// SIGTERM the way the kubelet sends it, to a real `serve` process: readiness turns 503 at once while
// the process still answers (so the endpoints controller takes the pod out before it stops), then it
// stops and exits 0 well inside the grace period; a shutdown that overruns `shutdown.grace` exits 1
// rather than waiting for SIGKILL.

let fake: FakeSlackApi;
let root: string;
beforeAll(async () => {
  fake = await startFakeSlackApi();
  root = (await builtPackage(packageRoot)).root;
}, 180_000);
afterAll(() => fake.close());

async function serve(shutdown: string) {
  const dir = await mkdtemp(join(tmpdir(), 'shutdown-'));
  const config = join(dir, 'config.yaml');
  await writeFile(config, `slack:\n  incidentChannel: C0INCIDENT\nshutdown: ${shutdown}\n`);
  return startChild({
    root,
    config,
    env: {
      PATH: process.env.PATH ?? '',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      ALERT_WEBHOOK_TOKEN: 'test-alert-token',
      SLACK_API_URL: fake.url,
    },
  });
}

const status = (base: string, path: string) =>
  fetch(`${base}${path}`).then(
    async (r) => ({ status: r.status, body: await r.text() }),
    () => ({ status: 0, body: 'connection refused' }),
  );

it('readiness 503 first, still serving while it drains, then exit 0 inside the grace period', async () => {
  const child = await serve('{ drain: 1500ms, grace: 10s }');
  expect((await status(child.base, '/readyz')).status).toBe(200);
  const sent = performance.now();
  process.kill(child.pid, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  const ready = await status(child.base, '/readyz');
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.body)).toEqual({ status: 'not ready', reason: 'shutting down' });
  expect((await status(child.base, '/healthz')).status).toBe(200);
  const { code, signal } = await child.exited;
  const tookMs = performance.now() - sent;
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  expect(tookMs).toBeGreaterThanOrEqual(1500);
  expect(tookMs).toBeLessThan(10_000);
  expect(child.output()).toContain('shut down');
}, 30_000);

it('a shutdown that overruns shutdown.grace exits 1 at the bound, saying so', async () => {
  const child = await serve('{ drain: 5s, grace: 1s }');
  const sent = performance.now();
  process.kill(child.pid, 'SIGTERM');
  const { code, signal } = await child.exited;
  const tookMs = performance.now() - sent;
  expect({ code, signal, out: child.output() }).toMatchObject({ code: 1, signal: null });
  expect(tookMs).toBeLessThan(4000);
  expect(child.output()).toContain('shutdown took longer than shutdown.grace');
}, 30_000);
