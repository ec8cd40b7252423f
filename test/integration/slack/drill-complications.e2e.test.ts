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
} from '../../support/slack-harness.js';

// A scenario's cluster complications in a Slack drill, through the real Bolt app and the fake
// Kubernetes API: `/egress drill rbac-gap` (the bot's Role in prod lacks `patch` on pods) makes the
// drill incident's quarantine fail exactly as the API server's 403 would, and the scorecard in the
// thread names the denial and the rule to add. A real incident of the same service, open on the same
// bot at the same time, is not touched by the complication: its pods are labelled for real.

const NS = 'prod';
const DRILLS = 'C0DRILLS';
const config = `${defaultConfigYaml}  drillChannel: ${DRILLS}\n`;

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

async function click(user: string, actionId: string, value: string, channel: string) {
  const { res } = await bot.click(user, actionId, value, { channel });
  expect(res.status).toBe(200);
}

const step = (id: string, stepId: string, wanted: readonly string[]) =>
  eventually(
    async () => {
      const s = (await bot.server.engine.get(id)).steps.find((x) => x.id === stepId);
      return s && wanted.includes(s.status) ? s : undefined;
    },
    `step ${stepId} of ${id} ${wanted.join('|')}`,
    15_000,
  );

async function containBy(id: string, channel: string) {
  await click('U0AAA', ACTION_IDS.containPreview, id, channel);
  await step(id, 'contain', ['awaiting_confirmation']);
  await click('U0BBB', ACTION_IDS.confirm, `${id}|contain`, channel);
  return step(id, 'contain', ['completed', 'failed', 'incomplete']);
}

const podPatches = () =>
  kube.requestsMatching({ method: 'PATCH', path: new RegExp(`^/api/v1/namespaces/${NS}/pods/`) });

it('an RBAC denial of the scenario fails the drill quarantine with its fix in the scorecard; a real incident beside it is untouched', async () => {
  const real = await bot.openIncident(egressAlert());
  const { responseUrl } = await bot.slash('U0AAA', 'drill rbac-gap');
  const started = (await bot.responsesTo(responseUrl)).join('\n');
  const drill = /started: (\S+) /.exec(started)![1]!;
  expect((await bot.server.engine.get(drill)).drillScenario).toBe('rbac-gap');
  expect((await bot.server.engine.get(real)).drillScenario).toBeUndefined();

  // The drill first: its quarantine is refused as the API server refuses it, before any request leaves.
  await containBy(drill, DRILLS);
  const quarantine = (await bot.server.engine.get(drill)).steps
    .find((s) => s.id === 'contain')!
    .actions.find((a) => a.uses === 'k8s.quarantine')!;
  expect(quarantine.status).toBe('failed');
  expect(quarantine.error?.message).toMatch(
    /could not label any of the 2 pod.*Forbidden.*may not patch pods/,
  );
  expect(quarantine.error?.fix).toBe(
    'the bot cannot patch pods in prod: add `patch` on `pods` to the Role bound in prod',
  );
  expect(podPatches()).toEqual([]);

  // The real incident on the same bot: the same service's pods are labelled, for real.
  await containBy(real, CHANNEL);
  const realActions = (await bot.server.engine.get(real)).steps.flatMap((s) => s.actions);
  expect(realActions.filter((a) => a.status === 'failed').map((a) => a.uses)).toEqual([]);
  expect(realActions.find((a) => a.uses === 'k8s.quarantine')).toMatchObject({
    status: expect.stringMatching(/^(applied|verified)$/),
    dryRun: false,
  });
  const patches = podPatches();
  expect(patches.length).toBeGreaterThan(0);
  expect(patches.filter((p) => p.query.dryRun !== undefined)).toEqual([]);
  // Quarantined pods carry the incident that quarantined them: the real one's, never the drill's.
  const by = kube
    .list('Pod')
    .map(
      (p) =>
        (p.metadata as { annotations?: Record<string, string> }).annotations?.[
          'egress-responder.io/incident'
        ],
    );
  expect(by.filter((i) => i === real).length).toBe(2);
  expect(by).not.toContain(drill);

  // The drill closes: its scorecard, in the timeline and in the thread, names the denial and the fix.
  await bot.slash('U0AAA', `close ${drill} rehearsal over`);
  const note = await eventually(
    async () =>
      (await bot.server.engine.timeline(drill)).find(
        (e) => e.kind === 'note' && e.details.source === 'drill-scorecard',
      ),
    'the drill scorecard in the timeline',
  );
  expect(note.summary).toContain('would have failed');
  expect(note.summary).toContain('may not patch pods in namespace');
  expect(note.summary).toContain(`fix: ${quarantine.error!.fix}`);
  const root = bot.fake.messages(DRILLS).find((m) => !m.thread_ts || m.thread_ts === m.ts)!;
  await eventually(
    async () =>
      bot.fake
        .thread(DRILLS, root.ts)
        .some((m) => String(m.text).includes('Drill scorecard: rbac-gap') && String(m.text).includes('fix:'))
        ? true
        : undefined,
    'the scorecard with the fix in the drill thread',
  );
}, 60_000);
