import { ALLOW, ALLOW_SPEC, trapCluster } from '../../builders/additive-trap.js';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { type Bot, bootBot, CHANNEL, egressAlert, eventually } from '../../support/slack-harness.js';

// How the containment step reads in the thread (real Bolt app, fake Slack Web API): planned only when
// nothing was applied, and per layer when it was.

const hardConfig = `slack:\n  incidentChannel: ${CHANNEL}\n  responders: [U0AAA]\n  approvers: [U0CCC]\nmodes: { prod: hard }\n`;

async function containStepMessage(bot: Bot, id: string) {
  await bot.server.slack.presenter.flush();
  const ts = (await bot.server.engine.get(id)).slack?.steps.contain;
  expect(ts).toBeDefined();
  return bot.fake.message(CHANNEL, ts!)!;
}

/** The first block of a step message as read: its text, and which parts of it are bold. */
function headerLine(blocks: unknown): { text: string; bold: string[] } {
  type Text = { type: string; text?: string; style?: { bold?: boolean } };
  const first = (blocks as { type: string; elements: { elements: Text[] }[] }[])[0]!;
  expect(first.type).toBe('rich_text');
  const parts = first.elements.flatMap((e) => e.elements);
  return {
    text: parts.map((p) => p.text ?? '').join(''),
    bold: parts.filter((p) => p.style?.bold).map((p) => p.text ?? ''),
  };
}

describe('the containment step in the Slack thread', () => {
  let bot: Bot | undefined;
  let kube: FakeKubeApi | undefined;
  afterEach(async () => {
    await bot?.close();
    await kube?.close();
    bot = undefined;
    kube = undefined;
  });

  it('with no cluster it reads planned only, never ✅ completed', async () => {
    bot = await bootBot({ configYaml: hardConfig });
    const id = await bot.openIncident(egressAlert());
    await eventually(async () => {
      const s = (await bot!.server.engine.get(id)).steps.find((x) => x.id === 'contain');
      return s?.status === 'completed' ? s : undefined;
    }, 'containment step settled');
    const msg = await containStepMessage(bot, id);
    expect(msg.text).toBe('📝 B) Contain: planned only — nothing applied (no cluster configured)');
    // The step's header line (rich_text: the title bold, the rest literal).
    expect(headerLine(msg.blocks)).toEqual({
      text: '📝 B) Contain — planned only — nothing applied (no cluster configured)',
      bold: ['B) Contain'],
    });
    const inc = await bot.server.engine.get(id);
    expect(inc.status).toBe('open');
    const events = await bot.server.store.timeline.read(id);
    expect(events.find((e) => e.kind === 'step.completed' && e.details.step === 'contain')?.summary).toBe(
      'Step "B) Contain" planned only — nothing applied (no cluster configured)',
    );
  });

  it('a 403 on the Istio policy: contained at L3/L4, the step line says L7 was not applied and why', async () => {
    // Controllers on: k8s.detach-quarantined in the default playbook waits for the ReplicaSet's release.
    kube = await startFakeKubeApi({ extensions: ['istio'], controllers: true });
    seedDeployment(kube, { namespace: 'prod', name: 'payments-api', replicas: 2 });
    kube.put({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'prod', name: ALLOW },
      spec: ALLOW_SPEC,
    });
    kube.deny({ verb: 'patch', resource: 'authorizationpolicies', namespace: 'istio-system' });
    bot = await bootBot({ cluster: trapCluster(kube), configYaml: hardConfig });
    const id = await bot.openIncident(egressAlert());
    const inc = await eventually(async () => {
      const i = await bot!.server.engine.get(id);
      return i.status === 'contained' ? i : undefined;
    }, 'containment');
    const contain = inc.steps.find((s) => s.id === 'contain')!;
    expect(contain.status).toBe('completed');
    expect(contain.actions.find((a) => a.uses === 'k8s.l7-deny')?.status).toBe('failed');
    const line =
      'contained at L3/L4 (verified); L7: not applied: forbidden (RBAC: patch authorizationpolicies in istio-system)';
    const msg = await containStepMessage(bot, id);
    expect(msg.text).toBe(`✅ B) Contain: completed — ${line}`);
    const events = await bot.server.store.timeline.read(id);
    expect(events.find((e) => e.kind === 'step.completed' && e.details.step === 'contain')?.summary).toBe(
      `Step "B) Contain" completed: ${line}`,
    );
  });
});
