// Every rotation action's plan and outcome survive the store: stored as JSON and decoded with the
// action's own planData / outcomeData schemas, they come back deep-equal. Covers each data shape an
// action produces (cluster read or not, applied or skipped).
import {
  type ActionDefinition,
  decodeOutcome,
  decodePlan,
  type Json,
  type Outcome,
  type Plan,
} from '../../../src/actions/define.js';
import {
  certManagerRenew,
  deleteQuarantinedPods,
  k8sJob,
  revokeTokenSecrets,
  rolloutRestart,
  rotateActions,
  rotateWebhook,
} from '../../../src/actions/rotate/index.js';
import type { Cluster } from '../../../src/k8s/cluster.js';
import { aPod, type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../fakes/webhook-receiver.js';
import { fakeCluster, rotateContext } from './context.js';

const NS = 'prod';
const SERVICE = 'payments-api';

let fake: FakeKubeApi;
let cluster: Cluster;

beforeEach(async () => {
  fake = await startFakeKubeApi();
  cluster = fakeCluster(fake);
});

afterEach(async () => {
  await fake.close();
});

/** What the engine does: toJson on the way in, decodePlan/decodeOutcome on the way out. */
const stored = (value: unknown): Json => JSON.parse(JSON.stringify(value)) as Json;

function expectPlanRoundTrip(def: ActionDefinition, plan: Plan): void {
  expect(decodePlan(def, stored(plan))).toStrictEqual(plan);
}

function expectOutcomeRoundTrip(def: ActionDefinition, outcome: Outcome): void {
  expect(decodeOutcome(def, stored(outcome))).toStrictEqual(outcome);
}

it('every rotation action has an example its params accept', () => {
  for (const def of rotateActions) {
    expect(() => def.params.parse(def.example)).not.toThrow();
    expect(def.planData).toBeDefined();
    expect(def.outcomeData).toBeDefined();
  }
});

describe('k8s.delete-quarantined-pods', () => {
  const params = deleteQuarantinedPods.params.parse({ require_evidence: false });
  const ours = { 'egress-responder.io/incident': 'EGR-ROT-1' };

  it('plan and outcome round-trip', async () => {
    fake.put(
      aPod({ namespace: NS, name: 'payments-api-q1', labels: { quarantine: 'true' }, annotations: ours }),
    );
    fake.put(
      aPod({ namespace: NS, name: 'payments-api-q2', labels: { quarantine: 'true' }, annotations: ours }),
    );
    const ctx = rotateContext({ cluster });
    const plan = await deleteQuarantinedPods.plan(ctx, params);
    expect(plan.data.pods.map((p) => p.name)).toEqual(['payments-api-q1', 'payments-api-q2']);
    expectPlanRoundTrip(deleteQuarantinedPods, plan);
    const outcome = await deleteQuarantinedPods.apply(ctx, plan, params);
    expect(outcome.data.deleted).toEqual(['payments-api-q1', 'payments-api-q2']);
    expectOutcomeRoundTrip(deleteQuarantinedPods, outcome);
  });

  it('an empty plan, a plan without a cluster and a skipped outcome round-trip', async () => {
    const ctx = rotateContext({ cluster });
    const empty = await deleteQuarantinedPods.plan(ctx, params);
    expectPlanRoundTrip(deleteQuarantinedPods, empty);
    expectOutcomeRoundTrip(deleteQuarantinedPods, await deleteQuarantinedPods.apply(ctx, empty, params));
    expectPlanRoundTrip(deleteQuarantinedPods, await deleteQuarantinedPods.plan(rotateContext(), params));
  });
});

describe('k8s.revoke-token-secrets', () => {
  const params = revokeTokenSecrets.params.parse({});
  const token = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: { namespace: NS, name, annotations: { 'kubernetes.io/service-account.name': SERVICE } },
    data: { token: Buffer.from(`tok-${name}`).toString('base64') },
  });

  it('plan and outcome round-trip, and carry no Secret data', async () => {
    fake.put(token('payments-api-token-abcde'));
    const ctx = rotateContext({ cluster });
    const plan = await revokeTokenSecrets.plan(ctx, params);
    expectPlanRoundTrip(revokeTokenSecrets, plan);
    const outcome = await revokeTokenSecrets.apply(ctx, plan, params);
    expectOutcomeRoundTrip(revokeTokenSecrets, outcome);
    const recorded = JSON.stringify({ plan, outcome });
    expect(recorded).not.toContain(Buffer.from('tok-payments-api-token-abcde').toString('base64'));
    expect(recorded).not.toContain('tok-payments-api-token-abcde');
  });

  it('an empty plan, a plan without a cluster and a skipped outcome round-trip', async () => {
    const ctx = rotateContext({ cluster });
    const empty = await revokeTokenSecrets.plan(ctx, params);
    expectPlanRoundTrip(revokeTokenSecrets, empty);
    expectOutcomeRoundTrip(revokeTokenSecrets, await revokeTokenSecrets.apply(ctx, empty, params));
    expectPlanRoundTrip(revokeTokenSecrets, await revokeTokenSecrets.plan(rotateContext(), params));
  });
});

describe('k8s.rollout-restart', () => {
  const params = rolloutRestart.params.parse({});

  it('plan and outcome round-trip', async () => {
    seedDeployment(fake, { namespace: NS, name: SERVICE });
    const ctx = rotateContext({ cluster });
    const plan = await rolloutRestart.plan(ctx, params);
    expect(plan.data).toMatchObject({ read: true, generation: 1, previous_restarted_at: null });
    expectPlanRoundTrip(rolloutRestart, plan);
    const outcome = await rolloutRestart.apply(ctx, plan, params);
    expect(outcome.data).toMatchObject({ restarted_at: '2026-11-25T14:03:12Z', generation: 2 });
    expectOutcomeRoundTrip(rolloutRestart, outcome);
  });

  it('a plan without a cluster and its skipped outcome round-trip', async () => {
    const plan = await rolloutRestart.plan(rotateContext(), params);
    expectPlanRoundTrip(rolloutRestart, plan);
    expectOutcomeRoundTrip(
      rolloutRestart,
      await rolloutRestart.apply(rotateContext({ cluster }), plan, params),
    );
  });
});

describe('certmanager.renew', () => {
  const params = certManagerRenew.params.parse({});
  const cert = (name: string, issuing: boolean) => ({
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { namespace: NS, name },
    spec: { secretName: name, issuerRef: { name: 'ca' } },
    status: {
      revision: 3,
      conditions: [
        { type: 'Ready', status: 'True' },
        ...(issuing ? [{ type: 'Issuing', status: 'True', reason: 'Renewing' }] : []),
      ],
    },
  });

  it('plan and outcome round-trip', async () => {
    fake.serve('cert-manager');
    fake.put(cert('payments-api-tls', false));
    fake.put(cert('payments-api-mtls', true));
    const ctx = rotateContext({ cluster });
    const plan = await certManagerRenew.plan(ctx, params);
    expect(plan.data.certificates.map((c) => [c.name, c.issuing, c.revision])).toEqual([
      ['payments-api-mtls', true, 3],
      ['payments-api-tls', false, 3],
    ]);
    expectPlanRoundTrip(certManagerRenew, plan);
    const outcome = await certManagerRenew.apply(ctx, plan, params);
    expect(outcome.data).toMatchObject({
      renewed: ['payments-api-tls'],
      already_issuing: ['payments-api-mtls'],
    });
    expectOutcomeRoundTrip(certManagerRenew, outcome);
  });

  it('not served, no cluster and skipped outcomes round-trip', async () => {
    const ctx = rotateContext({ cluster });
    const notServed = await certManagerRenew.plan(ctx, params);
    expect(notServed.data.served).toBe(false);
    expectPlanRoundTrip(certManagerRenew, notServed);
    expectOutcomeRoundTrip(certManagerRenew, await certManagerRenew.apply(ctx, notServed, params));
    expectPlanRoundTrip(certManagerRenew, await certManagerRenew.plan(rotateContext(), params));
  });
});

describe('k8s.job', () => {
  const params = k8sJob.params.parse({
    template: {
      metadata: { labels: { team: 'payments' }, annotations: { note: 'rotate' } },
      spec: {
        backoffLimit: 1,
        activeDeadlineSeconds: 600,
        template: {
          spec: {
            serviceAccountName: 'rotator',
            containers: [
              {
                name: 'rotate',
                image: 'registry.example/rotator:1',
                args: ['payments-api', '--force'],
                env: [{ name: 'DRY', value: 'false' }],
                resources: { limits: { cpu: '100m' } },
              },
            ],
          },
        },
      },
    },
  });

  it('plan (with the rendered Job) and outcome round-trip', async () => {
    const ctx = rotateContext({ cluster });
    const plan = await k8sJob.plan(ctx, params);
    expect(plan.data.job.spec).toMatchObject({ template: { spec: { restartPolicy: 'Never' } } });
    expectPlanRoundTrip(k8sJob, plan);
    const outcome = await k8sJob.apply(ctx, plan, params);
    expectOutcomeRoundTrip(k8sJob, outcome);
  });

  it('a plan without a cluster round-trips', async () => {
    const plan = await k8sJob.plan(rotateContext(), params);
    expect(plan.data.exists).toBeNull();
    expectPlanRoundTrip(k8sJob, plan);
  });
});

describe('rotate.webhook', () => {
  const SECRET_ENV = 'EGRESS_TEST_ROUND_TRIP_SECRET';
  const SECRET = 'whsec-round-trip-1f2e3d4c';
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    process.env[SECRET_ENV] = SECRET;
    receiver = await startWebhookReceiver({ secret: SECRET });
  });

  afterEach(async () => {
    await receiver.close();
    delete process.env[SECRET_ENV];
  });

  it('plan and a sent outcome round-trip, without the secret', async () => {
    const params = rotateWebhook.params.parse({
      url: receiver.url,
      secret_env: SECRET_ENV,
      timeout: '2s',
      backoff_ms: 1,
      headers: { 'X-Team': 'payments' },
    });
    const ctx = rotateContext();
    const plan = await rotateWebhook.plan(ctx, params);
    expectPlanRoundTrip(rotateWebhook, plan);
    const outcome = await rotateWebhook.apply(ctx, plan, params);
    expect(outcome.data).toMatchObject({ sent: true, status: 202 });
    expectOutcomeRoundTrip(rotateWebhook, outcome);
    expect(JSON.stringify({ plan, outcome })).not.toContain(SECRET);
  });

  it('a dry-run skip plan and its outcome round-trip', async () => {
    const params = rotateWebhook.params.parse({
      url: receiver.url,
      secret_env: SECRET_ENV,
      on_dry_run: 'skip',
    });
    const ctx = rotateContext({ dryRun: true });
    const plan = await rotateWebhook.plan(ctx, params);
    expectPlanRoundTrip(rotateWebhook, plan);
    const outcome = await rotateWebhook.apply(ctx, plan, params);
    expect(outcome).toMatchObject({ status: 'skipped', data: { sent: false } });
    expectOutcomeRoundTrip(rotateWebhook, outcome);
    expect(receiver.requests).toHaveLength(0);
  });
});
