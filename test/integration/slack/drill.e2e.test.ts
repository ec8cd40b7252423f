import { ACTION_IDS } from '../../../src/slack/blocks/ids.js';
import { allowPolicy, trapCluster } from '../../builders/additive-trap.js';
import { aDeployment, type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import {
  type Bot,
  bootBot,
  CHANNEL,
  defaultConfigYaml,
  egressAlert,
  eventually,
  tickAll,
} from '../../support/slack-harness.js';

// Tabletop drills in Slack, through the real Bolt app and the fake Kubernetes API with real controller
// behaviour: `/egress drill` picks a scenario, the thread opens in the drill channel marked DRILL, and
// the real playbook runs as people click. Every button of the drill is pressed; every mutating
// request reaches the API server as a server-side dry-run and the cluster is exactly as before.

const NS = 'prod';
const DRILLS = 'C0DRILLS';
const config = `${defaultConfigYaml}  drillChannel: ${DRILLS}\n`;
const KINDS = ['Pod', 'NetworkPolicy', 'Deployment', 'ReplicaSet', 'Secret', 'ServiceAccount'];

let kube: FakeKubeApi;
let bot: Bot;
beforeEach(async () => {
  kube = await startFakeKubeApi({ controllers: true });
  kube.put(
    aDeployment({ namespace: NS, name: 'payments-api', replicas: 2, labels: { app: 'payments-api' } }),
  );
  kube.put(allowPolicy());
  kube.reconcile();
  bot = await bootBot({ cluster: trapCluster(kube), configYaml: config });
});
afterEach(async () => {
  await bot.close();
  await kube.close();
});

const state = () => JSON.stringify(KINDS.map((k) => kube.list(k)));
const answer = async (url: string) => (await bot.responsesTo(url)).join('\n');

async function click(user: string, actionId: string, value: string) {
  const { res, responseUrl } = await bot.click(user, actionId, value, { channel: DRILLS });
  expect(res.status).toBe(200);
  return responseUrl;
}

async function tick(id: string, stepId: string, items: string[]) {
  expect((await tickAll(bot, id, stepId, items, { channel: DRILLS })).status).toBe(200);
}

const until = (id: string, stepId: string, status: string) =>
  eventually(async () => {
    const s = (await bot.server.engine.get(id)).steps.find((x) => x.id === stepId)?.status;
    return s === status ? true : undefined;
  }, `step ${stepId} ${status}`);

it('/egress drill alone lists the scenarios with a Start button each', async () => {
  const { responseUrl } = await bot.slash('U0AAA', 'drill');
  const [first] = await bot.responsesTo(responseUrl);
  const msg = JSON.parse(first!) as { blocks: { accessory?: { action_id: string; value: string } }[] };
  const starts = msg.blocks.flatMap((b) => (b.accessory ? [b.accessory] : []));
  expect(starts.map((s) => s.action_id).every((a) => a === ACTION_IDS.drillStart)).toBe(true);
  expect(starts.map((s) => s.value)).toEqual(
    expect.arrayContaining(['exfil-unknown-fqdn', 'dns-tunnel', 'cloud-metadata', 'allowed-stripe-call']),
  );
});

it('hostile or unauthorised starts are refused clearly and open nothing', async () => {
  for (const text of ['drill constructor', 'drill ../../etc/passwd', 'drill __proto__', 'drill a b']) {
    const { responseUrl } = await bot.slash('U0AAA', text);
    expect(await answer(responseUrl)).toMatch(/no drill scenario|one scenario at a time/);
  }
  // A viewer-less stranger is no responder.
  const { responseUrl } = await bot.slash('U0ZZZ', 'drill exfil-unknown-fqdn');
  expect(await answer(responseUrl)).toContain('only responders may start a drill');
  expect(await bot.server.store.incidents.list()).toEqual([]);
});

it('a drill and a real alert of the same anomaly are two incidents; a double click is one drill', async () => {
  const real = await bot.openIncident({ ...egressAlert(), dst_name: 'paste-bin.exfil.example.net' });
  const url = await click('U0AAA', ACTION_IDS.drillStart, 'exfil-unknown-fqdn');
  const started = await answer(url);
  expect(started).toMatch(/Drill exfil-unknown-fqdn started: EGR-/);
  const all = await bot.server.store.incidents.list();
  expect(all.map((i) => [i.id === real, i.drill]).sort()).toEqual([
    [false, true],
    [true, false],
  ]);
});

it('pressing every button of a drill: DRILL everywhere, every write a dry-run, the cluster unchanged', async () => {
  const before = state();
  const { responseUrl } = await bot.slash('U0AAA', 'drill exfil-unknown-fqdn');
  const started = await answer(responseUrl);
  const id = /started: (\S+) /.exec(started)![1]!;
  const incident = await bot.server.engine.get(id);
  expect(incident.drill).toBe(true);
  // The thread opens in the drill channel, marked DRILL; nothing went to the incident channel.
  const root = await eventually(
    async () => bot.fake.messages(DRILLS).find((m) => !m.thread_ts || m.thread_ts === m.ts),
    'the drill root message',
  );
  expect(JSON.stringify(root)).toContain('DRILL');
  expect(bot.fake.messages(CHANNEL)).toEqual([]);

  await click('U0AAA', ACTION_IDS.ack, id);
  await click('U0AAA', ACTION_IDS.timeline, id);
  await click('U0AAA', ACTION_IDS.containPreview, id);
  await until(id, 'contain', 'awaiting_confirmation');
  await click('U0BBB', ACTION_IDS.confirm, `${id}|contain`);
  await until(id, 'contain', 'completed');
  await tick(id, 'triage', ['not-a-release', 'scope']);
  await until(id, 'rotate', 'awaiting_confirmation');
  await click('U0AAA', ACTION_IDS.rotate, id);
  await click('U0BBB', ACTION_IDS.confirm, `${id}|rotate`);
  await until(id, 'rotate', 'awaiting_input');
  await tick(id, 'rotate', ['credentials', 'bindings']);
  await until(id, 'handoff', 'awaiting_input');
  await tick(id, 'handoff', ['evidence']);
  await until(id, 'cleanup', 'awaiting_approval');
  await click('U0CCC', ACTION_IDS.approve, `${id}|cleanup`);
  await until(id, 'cleanup', 'awaiting_confirmation');
  await click('U0AAA', ACTION_IDS.confirm, `${id}|cleanup`);
  await until(id, 'cleanup', 'completed');
  // Release of the (dry-run) containment, asked and approved, and the root's false-positive close.
  await click('U0AAA', ACTION_IDS.release, id);
  await click('U0CCC', ACTION_IDS.releaseApprove, id);
  await click('U0AAA', ACTION_IDS.falsePositive, id);

  const done = await bot.server.engine.get(id);
  const actions = done.steps.flatMap((s) => s.actions);
  expect(actions.some((a) => a.status === 'applied' || a.status === 'verified')).toBe(true);
  expect(
    actions.filter((a) => a.status === 'applied' || a.status === 'verified').every((a) => a.dryRun),
  ).toBe(true);
  const writes = kube.requestsMatching({ method: ['POST', 'PUT', 'PATCH', 'DELETE'] });
  expect(writes.length).toBeGreaterThan(3);
  expect(writes.filter((w) => w.query.dryRun !== 'All').map((w) => `${w.method} ${w.path}`)).toEqual([]);
  kube.reconcile();
  expect(state()).toBe(before);
  // DRILL is said in every step message of the thread.
  const thread = bot.fake.thread(DRILLS, root.ts);
  expect(thread.length).toBeGreaterThan(8);
  expect(
    thread.filter((m) => !String(m.text).includes('DRILL')).map((m) => String(m.text).slice(0, 80)),
  ).toEqual([]);
  // And in the timeline.
  const opened = (await bot.server.engine.timeline(id)).find((e) => e.kind === 'incident.opened')!;
  expect(opened.summary).toContain('(DRILL)');

  // Closed: the scorecard is recorded in the timeline once and posted in the thread, and its figures
  // are the timeline's.
  await bot.slash('U0AAA', `close ${id} drill over`);
  const note = await eventually(
    async () =>
      (await bot.server.engine.timeline(id)).find(
        (e) => e.kind === 'note' && e.details.source === 'drill-scorecard',
      ),
    'the drill scorecard in the timeline',
  );
  expect(note.summary).toMatch(/^Drill scorecard: exfil-unknown-fqdn — /);
  expect(note.summary).toContain('contained: in dry-run');
  const events = await bot.server.engine.timeline(id);
  const t0 = Date.parse((await bot.server.engine.get(id)).firstSeen);
  const contained = events.find((e) => e.kind === 'status.changed' && e.details.to === 'contained')!;
  const ms = Date.parse(contained.at) - t0;
  const hms = new Date(ms).toISOString().slice(11, 23);
  expect(note.summary).toContain(`time to contain: ${hms} (dry-run)`);
  await eventually(
    async () =>
      bot.fake
        .thread(DRILLS, root.ts)
        .some((m) => String(m.text).includes('Drill scorecard: exfil-unknown-fqdn'))
        ? true
        : undefined,
    'the scorecard in the thread',
  );
  expect(events.filter((e) => e.details.source === 'drill-scorecard')).toHaveLength(1);
}, 60_000);
