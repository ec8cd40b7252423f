import type { Grant } from '../../src/domain/grant.js';
import { ACTION_IDS, BG_BLOCKS } from '../../src/slack/blocks/index.js';
import { trapCluster } from '../builders/additive-trap.js';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../fakes/kube-api/index.js';
import { viewProblems } from '../fakes/slack-api/validate.js';
import { type Bot, bootBot, CHANNEL, egressAlert, eventually } from './slack-harness.js';
import { clickOn, type FieldValue, lastOpenedView, type OpenView, submitView } from './slack-views.js';

// What the break-glass end-to-end tests share: a bot over a fake cluster (payments-api in prod, two
// pods, egress-isolated), one incident with its thread, and the steps people take in Slack, each through a signed
// request: open the form, submit it, submit the review, click a grant's buttons on its message.

/** U0CCC leads: a responder and an approver, so the two-person rule is what stops them approving their own. */
export const LEAD = 'U0CCC';
const CONFIG = `
slack:
  incidentChannel: ${CHANNEL}
  responders: [U0AAA, U0BBB, ${LEAD}]
  approvers: [${LEAD}, U0DDD]
`;

export const KIND_ACTION = { [BG_BLOCKS.kind]: ACTION_IDS.breakglassKind };

export const egressForm = (over: Record<string, FieldValue> = {}): Record<string, FieldValue> => ({
  [BG_BLOCKS.kind]: { option: 'egress-exception' },
  [BG_BLOCKS.source]: { option: 'selector' },
  [BG_BLOCKS.sourceSelector]: 'app=payments-api',
  [BG_BLOCKS.destKind]: { option: 'cidr' },
  [BG_BLOCKS.dest]: '203.0.113.7/32',
  [BG_BLOCKS.ports]: '443/TCP',
  [BG_BLOCKS.duration]: { option: String(2 * 3_600_000) },
  [BG_BLOCKS.reason]: 'copy the memory dump to the forensics bucket',
  [BG_BLOCKS.ticket]: 'IR-1234',
  ...over,
});

export interface World {
  kube: FakeKubeApi;
  bot: Bot;
  incident: string;
  grants(): Promise<Grant[]>;
  grant(id: string): Promise<Grant>;
  /** The incident thread's replies (the root left out). */
  thread(): ReturnType<Bot['fake']['thread']>;
  /** NetworkPolicies in prod that a grant created. */
  grantPolicies(): { metadata: { name: string; annotations?: Record<string, string> } }[];
  said(url: string): Promise<string>;
  openForm(user?: string, id?: string): Promise<OpenView>;
  review(user: string, form: OpenView, fields?: Record<string, FieldValue>): Promise<OpenView>;
  requestViaModal(user?: string, fields?: Record<string, FieldValue>): Promise<Grant>;
  onMessage(user: string, actionId: string, g: Grant): ReturnType<typeof clickOn>;
  approve(g: Grant, user?: string): Promise<Grant>;
  /** Wait for a modal opened after `before` views (views.open). */
  nextModal(before: number, what: string): Promise<OpenView>;
  close(): Promise<void>;
}

export async function breakglassWorld(): Promise<World> {
  const kube = await startFakeKubeApi();
  seedDeployment(kube, { namespace: 'prod', name: 'payments-api', replicas: 2 });
  // An exception opens one path for pods already egress-isolated (the service refuses others): a deny-all egress.
  kube.put({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: 'prod', name: 'payments-deny-egress' },
    spec: { podSelector: { matchLabels: { app: 'payments-api' } }, policyTypes: ['Egress'], egress: [] },
  });
  const bot = await bootBot({ cluster: trapCluster(kube), configYaml: CONFIG });
  const incident = await bot.openIncident(egressAlert());
  await bot.server.slack.presenter.flush();
  const root = () => bot.rootMessages().find((m) => m.text.includes(incident))!;

  const w: World = {
    kube,
    bot,
    incident,
    grants: () => bot.server.store.grants.list(),
    grant: async (id) => (await bot.server.store.grants.get(id)) as Grant,
    thread: () => bot.fake.thread(CHANNEL, root().ts).slice(1),
    grantPolicies: () =>
      kube
        .list('NetworkPolicy', 'prod')
        .map((o) => o as { metadata: { name: string; annotations?: Record<string, string> } })
        .filter((p) => p.metadata.annotations?.['egress-responder.io/grant']),
    said: async (url) => (await bot.responsesTo(url)).join('\n'),
    async nextModal(before, what) {
      await eventually(() => bot.fake.views.size > before || undefined, what);
      return lastOpenedView(bot)!;
    },
    async openForm(user = 'U0AAA', id = incident) {
      const before = bot.fake.views.size;
      const { responseUrl } = await bot.slash(user, `breakglass ${id}`);
      return w.nextModal(before, 'views.open').catch(async () => {
        throw new Error(`no modal opened; the bot said: ${await w.said(responseUrl)}`);
      });
    },
    async review(user, form, fields = egressForm()) {
      const { answer } = await submitView(bot, user, form, fields, KIND_ACTION);
      if (answer.response_action !== 'update') throw new Error(`no review: ${JSON.stringify(answer)}`);
      const view = answer.view as OpenView;
      expect(viewProblems(view)).toEqual([]);
      // Slack keeps the view id across response_action: update; the hash changes.
      return { ...view, id: form.id, hash: `${form.hash}.review` };
    },
    async requestViaModal(user = 'U0AAA', fields = egressForm()) {
      const before = new Set((await w.grants()).map((g) => g.id));
      const form = await w.openForm(user);
      const rev = await w.review(user, form, fields);
      const { answer } = await submitView(bot, user, rev, {});
      expect(JSON.stringify(answer)).toContain('is requested');
      const made = (await w.grants()).find((g) => !before.has(g.id))!;
      await bot.server.slack.presenter.flush();
      return w.grant(made.id);
    },
    async onMessage(user, actionId, g) {
      const fresh = await w.grant(g.id);
      if (!fresh.message) throw new Error(`${g.id} has no thread message`);
      return clickOn(bot, user, actionId, g.id, { ts: fresh.message.ts, channel: fresh.message.channel });
    },
    async approve(g, user = 'U0CCC') {
      const { responseUrl } = await w.onMessage(user, ACTION_IDS.grantApprove, g);
      await bot.responsesTo(responseUrl);
      await bot.server.slack.presenter.flush();
      return w.grant(g.id);
    },
    async close() {
      await bot.close();
      await kube.close();
    },
  };
  return w;
}
