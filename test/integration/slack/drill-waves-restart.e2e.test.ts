import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';
import { type PrivateRedis, startRedisServer } from '../../support/redis.js';
import { type Bot, bootBot, defaultConfigYaml, eventually } from '../../support/slack-harness.js';

// A Slack drill's later waves are durable: each is an item in the store's schedule, due at its
// `after`, so a bot restarted in between (here: stopped before the wave is due, started again after)
// still sends it, once. On a private Redis, through the real Bolt app.

const AFTER_MS = 2500;
const SCENARIO = `id: two-waves
title: An exfiltration, then a second anomaly while the first is handled
alert:
  src_service: payments-api
  src_namespace: prod
  dst_type: fqdn
  dst_name: paste-bin.exfil.example.net
  dst_port: 443
  protocol: https
  request_id: req-wave-1
later:
  - after: ${AFTER_MS}ms
    note: a second service starts calling out
    alert:
      src_service: orders-api
      src_namespace: prod
      dst_type: fqdn
      dst_name: drop.other-exfil.example.org
      dst_port: 443
      protocol: https
      request_id: req-wave-2
`;

let redis: PrivateRedis;
let fake: FakeSlackApi;
let dir: string;
const bots: Bot[] = [];
beforeAll(async () => {
  [redis, fake] = await Promise.all([startRedisServer(), startFakeSlackApi()]);
  dir = mkdtempSync(join(tmpdir(), 'drill-waves-'));
  writeFileSync(join(dir, 'two-waves.yaml'), SCENARIO);
});
afterAll(async () => {
  for (const b of bots) await b.close().catch(() => undefined);
  await fake.close();
  await redis.kill();
  rmSync(dir, { recursive: true, force: true });
});

const boot = async () => {
  const bot = await bootBot({
    fake,
    env: { REDIS_URL: redis.url },
    configYaml: `${defaultConfigYaml}drills: ${dir}\n`,
  });
  bots.push(bot);
  return bot;
};
const drills = async (bot: Bot) => (await bot.server.store.incidents.list()).filter((i) => i.drill);

it('a later wave due while the bot was down is sent by the restarted bot, once', async () => {
  const first = await boot();
  const started = Date.now();
  const { responseUrl } = await first.slash('U0AAA', 'drill two-waves');
  expect((await first.responsesTo(responseUrl)).join('\n')).toMatch(/Drill two-waves started: EGR-/);
  const queued = (await first.server.store.schedule.due(Number.MAX_SAFE_INTEGER, 100)).filter((i) =>
    i.id.startsWith('drill-wave:'),
  );
  expect(queued.map((i) => [i.id.replace(/:[^:]+:/, ':<run>:'), i.data.scenario, i.data.wave])).toEqual([
    ['drill-wave:<run>:1', 'two-waves', 1],
  ]);
  expect(queued[0]!.dueAt - started).toBeGreaterThanOrEqual(AFTER_MS - 50);
  expect(queued[0]!.dueAt - started).toBeLessThanOrEqual(AFTER_MS + 1000);

  // Stopped before the wave is due; nothing is up when it falls due.
  await first.close();
  bots.pop();
  expect(Date.now()).toBeLessThan(queued[0]!.dueAt);
  await new Promise((r) => setTimeout(r, Math.max(0, queued[0]!.dueAt - Date.now()) + 300));
  const second = await boot();
  expect((await drills(second)).map((i) => i.alert.source.service)).toEqual(['payments-api']);

  // The restarted bot's worker takes the due wave: the second anomaly opens its own drill incident.
  const both = await eventually(async () => {
    const all = await drills(second);
    return all.length === 2 ? all : undefined;
  }, 'the second wave recorded after the restart');
  const orders = both.find((i) => i.alert.source.service === 'orders-api')!;
  expect(orders).toMatchObject({ drill: true, drillScenario: 'two-waves' });
  expect(
    orders.fingerprint.startsWith(
      both
        .find((i) => i !== orders)!
        .fingerprint.split(':')
        .slice(0, 2)
        .join(':'),
    ),
  ).toBe(true);
  // Sent once: the item goes once the wave is sent, and another pass sends nothing more.
  await eventually(
    async () =>
      (await second.server.store.schedule.due(Number.MAX_SAFE_INTEGER, 100)).some(
        (i) => i.id === queued[0]!.id,
      )
        ? undefined
        : true,
    'the wave item removed',
  );
  await second.server.work();
  expect(await drills(second)).toHaveLength(2);
  expect(orders.count).toBe(1);
}, 30_000);
