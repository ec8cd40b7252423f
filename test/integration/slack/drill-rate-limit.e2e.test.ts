import { SLACK_RATE_LIMIT_COMPLICATION } from '../../../src/domain/slack-rate-limit.js';
import { allowPolicy, trapCluster } from '../../builders/additive-trap.js';
import { aDeployment, type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import {
  type Bot,
  bootBot,
  CHANNEL,
  defaultConfigYaml,
  egressAlert,
  eventually,
} from '../../support/slack-harness.js';

// The shipped scenario slack-rate-limited, played in Slack through the real Bolt app: every 3rd
// chat.postMessage of the drill thread is answered HTTP 429 with Retry-After 2 s before it reaches
// Slack (the fake Slack Web API never sees those attempts). The bot's Slack client waits as told and
// sends the same message again: every message arrives exactly once, the timeline records the limit
// met, and the scorecard says so. The bot runs with Web API retries 0 (as every Slack test does): the
// drill's own client retries anyway, and a real incident open beside it is neither limited nor delayed.

const DRILLS = 'C0DRILLS';
const RETRY_AFTER_MS = 2000;

let kube: FakeKubeApi;
let bot: Bot;
beforeEach(async () => {
  kube = await startFakeKubeApi({ controllers: true });
  kube.put(
    aDeployment({ namespace: 'prod', name: 'payments-api', replicas: 2, labels: { app: 'payments-api' } }),
  );
  kube.put(allowPolicy());
  kube.reconcile();
  bot = await bootBot({
    cluster: trapCluster(kube),
    configYaml: `${defaultConfigYaml}  drillChannel: ${DRILLS}\n`,
  });
});
afterEach(async () => {
  await bot.close();
  await kube.close();
});

const posts = (channel: string) =>
  bot.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.body.channel === channel);

it('a drill thread rate-limited by Slack (429 + Retry-After) still arrives whole, once; the limit is recorded and scored', async () => {
  const { responseUrl } = await bot.slash('U0AAA', 'drill slack-rate-limited');
  const started = (await bot.responsesTo(responseUrl)).join('\n');
  const drill = /started: (\S+) /.exec(started)![1]!;
  const real = await bot.openIncident(egressAlert());

  // The real incident's thread is not held up by the drill's limit: its root is there at once.
  await eventually(() => (posts(CHANNEL).length > 0 ? true : undefined), 'the real root message', 1500);

  const met = await eventually(
    async () =>
      (await bot.server.engine.timeline(drill)).find(
        (e) => e.details.complication === SLACK_RATE_LIMIT_COMPLICATION,
      ),
    'the rate limit recorded in the drill timeline',
    15_000,
  );
  expect(met).toMatchObject({
    kind: 'slack.posted',
    details: { method: 'chat.postMessage', retry_after_s: 2 },
  });
  expect(Number(met.details.waited_ms)).toBeGreaterThanOrEqual(RETRY_AFTER_MS);
  expect(met.summary).toMatch(
    /^Slack: chat\.postMessage answered HTTP 429 with Retry-After 2 s \(the drill's injected rate limit\); sent again \d+\.\d s later and delivered$/,
  );

  // Whole and once: the limited attempts never reached Slack, and each message the drill's thread
  // got was posted exactly once (no text twice), at least three of them (so the 3rd was limited).
  await bot.server.slack.presenter.flush();
  const drillPosts = posts(DRILLS).map((c) => JSON.stringify({ text: c.body.text, blocks: c.body.blocks }));
  expect(drillPosts.length).toBeGreaterThanOrEqual(3);
  expect(new Set(drillPosts).size).toBe(drillPosts.length);
  const thread = bot.fake.messages(DRILLS);
  expect(thread.length).toBe(drillPosts.length);
  const stored = await bot.server.engine.get(drill);
  for (const ts of Object.values(stored.slack!.steps)) expect(thread.map((m) => m.ts)).toContain(ts);
  // Recorded once per method, however many calls were limited.
  const recorded = (await bot.server.engine.timeline(drill)).filter(
    (e) => e.details.complication === SLACK_RATE_LIMIT_COMPLICATION,
  );
  expect(recorded).toHaveLength(1);

  // The real incident: nothing limited, nothing recorded.
  const realEvents = await bot.server.engine.timeline(real);
  expect(realEvents.filter((e) => e.details.complication !== undefined)).toEqual([]);

  await bot.slash('U0AAA', `close ${drill} rehearsal over`);
  const note = await eventually(
    async () =>
      (await bot.server.engine.timeline(drill)).find(
        (e) => e.kind === 'note' && e.details.source === 'drill-scorecard',
      ),
    'the drill scorecard',
    15_000,
  );
  const waited = (Number(met.details.waited_ms) / 1000).toFixed(1);
  expect(note.summary).toContain(
    `Slack rate limit on chat.postMessage: every 3rd call answered 429, Retry-After 2 s: met — chat.postMessage answered 429 and delivered ${waited} s later`,
  );
}, 60_000);
