import { ALLOW, ALLOW_SPEC, trapCluster } from '../../builders/additive-trap.js';
import {
  aPod,
  type FakeKubeApi,
  ownerReferenceTo,
  seedDeployment,
  startFakeKubeApi,
} from '../../fakes/kube-api/index.js';
import { type Bot, bootBot, CHANNEL, eventually } from '../../support/slack-harness.js';

/** The fake stores plain JSON; tests read its metadata through this. */
const meta = (o: unknown) => (o as { metadata: { name: string; labels?: Record<string, string> } }).metadata;

describe('containment from Slack against a cluster (fake kube API)', () => {
  let kube: FakeKubeApi;
  let bot: Bot;
  let seeded: string[];
  const alert = {
    src_service: 'payments-api',
    src_namespace: 'prod',
    dst_type: 'fqdn',
    dst_name: 'paste.exfil.example.net',
    dst_port: 443,
    protocol: 'https',
  };

  beforeEach(async () => {
    // Controllers on: detaching a quarantined pod makes its ReplicaSet release it and make a fresh one.
    // The Rotate test plays the rollout by hand, step by step, so it runs without them.
    const byHand = expect.getState().currentTestName?.includes('Rotate button') ?? false;
    kube = await startFakeKubeApi({ controllers: !byHand });
    seeded = seedDeployment(kube, { namespace: 'prod', name: 'payments-api', replicas: 2 }).pods.map(
      (p) => meta(p).name,
    );
    kube.put({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'prod', name: ALLOW },
      spec: ALLOW_SPEC,
    });
    bot = await bootBot({ cluster: trapCluster(kube) });
  });
  afterEach(async () => {
    await bot.close();
    await kube.close();
  });

  it('preview → confirm (double click) → applied once, verified contained; then release needs another approver', async () => {
    const id = await bot.openIncident({
      src_service: 'payments-api',
      src_namespace: 'prod',
      dst_type: 'fqdn',
      dst_name: 'paste.exfil.example.net',
      dst_port: 443,
      protocol: 'https',
    });
    // Contain before triage's checklist is ticked: the preview comes first.
    const preview = await bot.click('U0AAA', 'incident.contain.preview', id);
    expect((await bot.responsesTo(preview.responseUrl))[0]).toContain('press Confirm');
    await bot.server.slack.presenter.flush();
    const root = bot.rootMessages()[0]!;
    const stepTs = (await bot.server.engine.get(id)).slack?.steps.contain;
    expect(stepTs).toBeDefined();
    const previewText = JSON.stringify(bot.fake.message(CHANNEL, stepTs!)?.blocks);
    expect(previewText).toContain('payments-api-5d8f7c9b6-a0x0');
    expect(previewText).toContain('quarantine-deny-egress');
    expect(previewText).toContain('step.confirm');
    expect(kube.list('NetworkPolicy', 'prod').map((p) => meta(p).name)).toEqual([ALLOW]); // nothing applied yet

    await Promise.all([
      bot.click('U0AAA', 'step.confirm', `${id}|contain`),
      bot.click('U0AAA', 'step.confirm', `${id}|contain`),
    ]);
    const contained = await eventually(async () => {
      const inc = await bot.server.engine.get(id);
      return inc.status === 'contained' ? inc : undefined;
    }, 'containment');
    const events = await bot.server.store.timeline.read(id);
    expect(
      events.filter((e) => e.kind === 'action.applied' && e.details.action === 'k8s.deny-egress'),
    ).toHaveLength(1);
    expect(events.find((e) => e.kind === 'action.verified')?.summary).toMatch(/^Verification: contained/);
    // The allow-policy was isolated so it no longer selects quarantined pods.
    const allow = kube.get('NetworkPolicy', 'prod', ALLOW)!;
    expect(JSON.stringify(allow.spec)).toContain('DoesNotExist');
    // The seeded pods are quarantined and kept (released by their ReplicaSet); fresh ones replace them.
    const quarantined = kube.list('Pod', 'prod').filter((p) => meta(p).labels?.quarantine === 'true');
    expect(quarantined.map((p) => meta(p).name).sort()).toEqual([...seeded].sort());
    expect(kube.list('Pod', 'prod').filter((p) => !seeded.includes(meta(p).name))).toHaveLength(2);

    await bot.server.slack.presenter.flush();
    const thread = bot.fake.thread(CHANNEL, root.ts);
    expect(thread.some((m) => JSON.stringify(m.blocks ?? m.text).includes('Verification: contained'))).toBe(
      true,
    );
    expect(JSON.stringify(bot.fake.message(CHANNEL, root.ts)?.blocks)).toContain('incident.release');
    expect(contained.steps.find((s) => s.id === 'contain')?.confirmedBy?.by).toBe('slack:U0AAA');

    // Release: a responder asks, the requester cannot approve, another approver does.
    const asked = await bot.click('U0AAA', 'incident.release', id);
    expect((await bot.responsesTo(asked.responseUrl))[0]).toContain('an approver other than you decides');
    await bot.server.slack.presenter.flush();
    expect(
      bot.fake
        .thread(CHANNEL, root.ts)
        .some((m) => JSON.stringify(m.blocks ?? '').includes('release.approve')),
    ).toBe(true);
    const notAllowed = await bot.click('U0BBB', 'release.approve', id);
    expect((await bot.responsesTo(notAllowed.responseUrl))[0]).toContain(
      'only approvers may decide a release',
    );
    const approved = await bot.click('U0CCC', 'release.approve', id);
    expect((await bot.responsesTo(approved.responseUrl))[0]).toContain('released');
    expect(kube.get('NetworkPolicy', 'prod', ALLOW)!.spec).toEqual(ALLOW_SPEC);
    expect(kube.get('NetworkPolicy', 'prod', 'quarantine-deny-egress')).toBeUndefined();
    expect(kube.list('Pod', 'prod').some((p) => meta(p).labels?.quarantine)).toBe(false);
    expect((await bot.server.engine.get(id)).status).toBe('acknowledged');
  });

  it('the Rotate button runs the rotation step against the cluster and records it', async () => {
    kube.put({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: {
        namespace: 'prod',
        name: 'payments-api-token-abcde',
        annotations: { 'kubernetes.io/service-account.name': 'payments-api' },
      },
      data: {},
    });
    const id = await bot.openIncident({
      src_service: 'payments-api',
      src_namespace: 'prod',
      dst_type: 'ip',
      dst_name: '203.0.113.66',
      dst_port: 4444,
      protocol: 'tcp',
    });
    const { responseUrl } = await bot.click('U0AAA', 'incident.rotate', id);
    expect((await bot.responsesTo(responseUrl))[0]).toContain('Rotation step');
    await eventually(async () => {
      const inc = await bot.server.engine.get(id);
      return inc.steps.find((s) => s.id === 'rotate')?.status === 'awaiting_confirmation' ? inc : undefined;
    }, 'the rotation preview');
    await bot.click('U0AAA', 'step.confirm', `${id}|rotate`);
    await eventually(
      async () => (kube.get('Secret', 'prod', 'payments-api-token-abcde') ? undefined : true),
      'the token secret to be revoked',
    );
    // The Secret is gone from the cluster a moment before the engine hears so and records it.
    await eventually(async () => {
      const events = await bot.server.store.timeline.read(id);
      return events.some(
        (e) => e.kind === 'action.applied' && e.details.action === 'k8s.revoke-token-secrets',
      )
        ? true
        : undefined;
    }, 'the revocation recorded as applied');
    // The restart is stamped like `kubectl rollout restart`; play the controller and finish the rollout.
    const restarted = await eventually(() => {
      const d = kube.get('Deployment', 'prod', 'payments-api')!;
      return JSON.stringify(d.spec).includes('kubectl.kubernetes.io/restartedAt') ? d : undefined;
    }, 'the restart annotation');
    const generation = (restarted as { metadata: { generation: number } }).metadata.generation;
    kube.put({
      ...restarted,
      status: {
        replicas: 2,
        updatedReplicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        observedGeneration: generation,
      },
    });
    const done = await eventually(
      async () => {
        const step = (await bot.server.engine.get(id)).steps.find((s) => s.id === 'rotate');
        return step?.status === 'awaiting_input' || step?.status === 'completed' ? step : undefined;
      },
      'the rollout to be verified',
      10_000,
    );
    expect(done.actions.find((a) => a.uses === 'k8s.rollout-restart')?.status).toBe('verified');
  });

  it('in hard mode containment starts at once and the thread says so', async () => {
    await bot.close();
    const configYaml = `slack:\n  incidentChannel: ${CHANNEL}\n  responders: [U0AAA]\n  approvers: [U0CCC]\nmodes: { prod: hard }\n`;
    bot = await bootBot({ cluster: trapCluster(kube), configYaml });
    const id = await bot.openIncident(alert);
    const inc = await eventually(async () => {
      const i = await bot.server.engine.get(id);
      return i.status === 'contained' ? i : undefined;
    }, 'hard-mode containment');
    expect(inc.mode).toBe('hard');
    await bot.server.slack.presenter.flush();
    const root = bot.rootMessages()[0]!;
    expect(bot.fake.thread(CHANNEL, root.ts).some((m) => m.text.includes('Hard mode'))).toBe(true);
    expect(kube.get('NetworkPolicy', 'prod', 'quarantine-deny-egress')).toBeDefined();
  });

  it('/egress rotate <id> <hook> runs one rotation hook on its own', async () => {
    kube.put({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: {
        namespace: 'prod',
        name: 'payments-api-token-zzz',
        annotations: { 'kubernetes.io/service-account.name': 'payments-api' },
      },
      data: {},
    });
    const id = await bot.openIncident(alert);
    const { responseUrl } = await bot.slash('U0AAA', `rotate ${id} k8s.revoke-token-secrets`);
    expect((await bot.responsesTo(responseUrl))[0]).toContain('k8s.revoke-token-secrets');
    expect(kube.get('Secret', 'prod', 'payments-api-token-zzz')).toBeUndefined();
    const events = await bot.server.store.timeline.read(id);
    expect(
      events.some(
        (e) =>
          e.kind === 'action.applied' &&
          e.actor === 'slack:U0AAA' &&
          e.summary.includes('k8s.revoke-token-secrets'),
      ),
    ).toBe(true);
    const unknown = await bot.slash('U0AAA', `rotate ${id} vault`);
    expect((await bot.responsesTo(unknown.responseUrl))[0]).toContain('no hook');
  });

  it('a Falco alert names a pod; the incident is about the workload that owns it', async () => {
    const deployment = kube.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { namespace: 'prod', name: 'ledger-writer' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'lw' } },
        template: { metadata: { labels: { app: 'lw' } }, spec: { containers: [{ name: 'a', image: 'i' }] } },
      },
    });
    const rs = kube.put({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { namespace: 'prod', name: 'lw-rs-1', ownerReferences: [ownerReferenceTo(deployment)] },
      spec: { replicas: 1, selector: { matchLabels: { app: 'lw' } } },
    });
    // A pod name the name heuristics would get wrong: only the owner chain says what it is.
    kube.put(
      aPod({
        namespace: 'prod',
        name: 'batch-7',
        labels: { app: 'lw' },
        ownerReferences: [ownerReferenceTo(rs)],
      }),
    );
    const id = await bot.openIncident({
      uuid: '0b7e9c1a-1111-4a2b-9c3d-123456789abc',
      output: 'Warning Outbound connection to C2 server',
      priority: 'Warning',
      rule: 'Outbound Connection to C2 Servers',
      time: '2026-11-25T14:03:12.123456789Z',
      output_fields: {
        'k8s.ns.name': 'prod',
        'k8s.pod.name': 'batch-7',
        'fd.rip': '203.0.113.66',
        'fd.rport': 4444,
        'fd.l4proto': 'tcp',
      },
    });
    const incident = await bot.server.engine.get(id);
    expect(incident.alert.source).toMatchObject({
      service: 'ledger-writer',
      namespace: 'prod',
      pod: 'batch-7',
    });
  });
});
