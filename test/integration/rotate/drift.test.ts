// Apply what was approved: for each rotation action with `drift`, the cluster (or the playbook) changes
// between plan and apply. `drift` names each change, and `apply` with the old plan acts only on what
// the plan listed, as it was listed (resourceVersion preconditions), never on anything else.
import { certManagerRenew } from '../../../src/actions/rotate/certmanager.js';
import { IDEMPOTENCY_ANNOTATION, k8sJob } from '../../../src/actions/rotate/k8s-job.js';
import { deleteQuarantinedPods } from '../../../src/actions/rotate/k8s-quarantined.js';
import { RESTARTED_AT_ANNOTATION, rolloutRestart } from '../../../src/actions/rotate/k8s-rollout.js';
import { revokeTokenSecrets } from '../../../src/actions/rotate/k8s-tokens.js';
import { rotateWebhook } from '../../../src/actions/rotate/webhook.js';
import type { Cluster } from '../../../src/k8s/cluster.js';
import {
  aPod,
  type FakeKubeApi,
  type JsonObject,
  seedDeployment,
  startFakeKubeApi,
} from '../../fakes/kube-api/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../fakes/webhook-receiver.js';
import { fakeCluster, NOW, rotateContext } from './context.js';

const NS = 'prod';
const SERVICE = 'payments-api';

type Rec = Record<string, unknown>;

let fake: FakeKubeApi;
let cluster: Cluster;

beforeEach(async () => {
  fake = await startFakeKubeApi();
  cluster = fakeCluster(fake);
});

afterEach(async () => {
  await fake.close();
});

const names = (type: string) =>
  fake
    .list(type, NS)
    .map((o) => String((o.metadata as Rec).name))
    .sort();
/** The object names of the write requests sent to `resource` (`pods`, `secrets`, `certificates/status` …). */
const written = (method: string, resource: string) =>
  fake
    .requestsMatching({ method })
    .filter((r) => r.resource === resource)
    .map((r) =>
      r.path
        .split('/')
        .filter((p) => p !== 'status')
        .at(-1),
    );
/** Overwrite a stored object with changes (the fake bumps its resourceVersion; uid stays). */
const edit = (type: string, name: string, change: (o: JsonObject) => JsonObject) =>
  fake.put(change(fake.get(type, NS, name)!));
/** Delete and create again under the same name: a new uid. */
const recreate = (type: string, name: string) => {
  const o = fake.get(type, NS, name)!;
  fake.remove(type, NS, name);
  const { uid: _uid, resourceVersion: _rv, ...metadata } = o.metadata as Rec;
  return fake.put({ ...o, metadata });
};

describe('k8s.delete-quarantined-pods', () => {
  // Drift is the subject here, not the evidence rule (delete-quarantined.test.ts).
  const params = deleteQuarantinedPods.params.parse({ require_evidence: false });
  const quarantined = (name: string) =>
    fake.put(
      aPod({
        namespace: NS,
        name,
        labels: { app: SERVICE, quarantine: 'true' },
        annotations: { 'egress-responder.io/incident': 'EGR-ROT-1' },
      }),
    );

  it('names pods gone, relabelled, replaced, changed and new; apply deletes none of them', async () => {
    for (const n of ['payments-api-q1', 'payments-api-q2', 'payments-api-q3', 'payments-api-q4'])
      quarantined(n);
    const ctx = rotateContext({ cluster });
    const plan = await deleteQuarantinedPods.plan(ctx, params);
    expect(await deleteQuarantinedPods.drift!(ctx, plan, params)).toEqual([]);

    fake.remove('Pod', NS, 'payments-api-q1');
    edit('Pod', 'payments-api-q2', (p) => ({
      ...p,
      metadata: { ...(p.metadata as Rec), labels: { app: SERVICE } },
    }));
    recreate('Pod', 'payments-api-q3');
    edit('Pod', 'payments-api-q4', (p) => ({ ...p, status: { phase: 'Failed' } }));
    quarantined('payments-api-7c9d-x');

    expect(await deleteQuarantinedPods.drift!(ctx, plan, params)).toEqual([
      'pod payments-api-q1 gone',
      'pod payments-api-q2 no longer labelled quarantine=true',
      'pod payments-api-q3 replaced since the preview (new uid)',
      'pod payments-api-q4 changed since the preview',
      'pod payments-api-7c9d-x new since the preview',
    ]);

    fake.requests.length = 0;
    const applied = deleteQuarantinedPods.apply(ctx, plan, params);
    await expect(applied).rejects.toMatchObject({ code: 'k8s_conflict' });
    const message = String(await applied.catch((e: Error) => e.message));
    expect(message).toContain('pod payments-api-q2 changed since the plan');
    expect(message).toContain('pod payments-api-q3 replaced since the plan (new uid)');
    expect(message).toContain('pod payments-api-q4 changed since the plan');
    expect(message).toContain('Deleted: (none)');
    // Only listed pods were addressed, each with the plan's preconditions: none of them matched.
    expect(written('DELETE', 'pods')).not.toContain('payments-api-7c9d-x');
    expect(names('Pod')).toEqual([
      'payments-api-7c9d-x',
      'payments-api-q2',
      'payments-api-q3',
      'payments-api-q4',
    ]);
  });

  it('names a change of selector in the step', async () => {
    quarantined('payments-api-q1');
    const ctx = rotateContext({ cluster });
    const plan = await deleteQuarantinedPods.plan(ctx, params);
    const now = deleteQuarantinedPods.params.parse({ label_value: 'yes', require_evidence: false });
    expect(await deleteQuarantinedPods.drift!(ctx, plan, now)).toEqual([
      'the step now selects pods labelled quarantine=yes, not quarantine=true',
    ]);
  });

  it('a pod new since the preview survives an apply of the old plan', async () => {
    quarantined('payments-api-q1');
    quarantined('payments-api-q2');
    const ctx = rotateContext({ cluster });
    const plan = await deleteQuarantinedPods.plan(ctx, params);
    quarantined('payments-api-7c9d-x');
    expect(await deleteQuarantinedPods.drift!(ctx, plan, params)).toEqual([
      'pod payments-api-7c9d-x new since the preview',
    ]);
    const outcome = await deleteQuarantinedPods.apply(ctx, plan, params);
    expect(outcome.data.deleted).toEqual(['payments-api-q1', 'payments-api-q2']);
    expect(written('DELETE', 'pods')).toEqual(['payments-api-q1', 'payments-api-q2']);
    expect(names('Pod')).toEqual(['payments-api-7c9d-x']);
    // The delete carried the plan's uid and resourceVersion as preconditions.
    const body = fake.requestsMatching({ method: 'DELETE' })[0]!.body as Rec;
    expect(body.preconditions).toEqual({
      uid: plan.data.pods[0]!.uid,
      resourceVersion: plan.data.pods[0]!.resource_version,
    });
  });

  it('a resumed apply says which pods were already gone before it', async () => {
    quarantined('payments-api-q1');
    quarantined('payments-api-q2');
    const plan = await deleteQuarantinedPods.plan(rotateContext({ cluster }), params);
    fake.remove('Pod', NS, 'payments-api-q1'); // deleted by the attempt that was interrupted
    const outcome = await deleteQuarantinedPods.apply(rotateContext({ cluster, attempt: 2 }), plan, params);
    expect(outcome).toMatchObject({
      status: 'applied',
      summary:
        'deleted 1 quarantined pod in prod: payments-api-q2; already gone when apply attempt 2 began (deleted before it): payments-api-q1',
      data: { deleted: ['payments-api-q2'], already_gone: ['payments-api-q1'] },
    });
    fake.remove('Pod', NS, 'payments-api-q2');
    const again = await deleteQuarantinedPods.apply(rotateContext({ cluster, attempt: 3 }), plan, params);
    expect(again.status).toBe('applied');
    expect(again.summary).toContain(
      'no pods deleted now: every listed quarantined pod in prod was already gone',
    );
  });
});

describe('k8s.revoke-token-secrets', () => {
  const params = revokeTokenSecrets.params.parse({});
  const token = (name: string, sa = SERVICE) =>
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { namespace: NS, name, annotations: { 'kubernetes.io/service-account.name': sa } },
      data: { token: Buffer.from(`tok-${name}`).toString('base64') },
    });

  it('names Secrets gone, changed and new; apply deletes only the unchanged listed one', async () => {
    token('payments-api-token-abc');
    token('payments-api-token-def');
    token('payments-api-token-ghi');
    const ctx = rotateContext({ cluster });
    const plan = await revokeTokenSecrets.plan(ctx, params);
    expect(await revokeTokenSecrets.drift!(ctx, plan, params)).toEqual([]);

    fake.remove('Secret', NS, 'payments-api-token-abc');
    edit('Secret', 'payments-api-token-def', (s) => ({
      ...s,
      metadata: { ...(s.metadata as Rec), labels: { edited: 'yes' } },
    }));
    token('payments-api-token-xyz');
    token('billing-token-zzz', 'billing');

    expect(await revokeTokenSecrets.drift!(ctx, plan, params)).toEqual([
      'Secret payments-api-token-abc gone',
      'Secret payments-api-token-def changed since the preview',
      'Secret payments-api-token-xyz new since the preview',
    ]);

    fake.requests.length = 0;
    const applied = revokeTokenSecrets.apply(ctx, plan, params);
    await expect(applied).rejects.toMatchObject({ code: 'k8s_conflict' });
    const message = String(await applied.catch((e: Error) => e.message));
    expect(message).toContain('Secret payments-api-token-def changed since the plan');
    expect(message).toContain('Deleted: payments-api-token-ghi');
    expect(message).not.toContain('tok-');
    expect(written('DELETE', 'secrets')).not.toContain('payments-api-token-xyz');
    expect(names('Secret')).toEqual([
      'billing-token-zzz',
      'payments-api-token-def',
      'payments-api-token-xyz',
    ]);
  });

  it('names a ServiceAccount change in the step; apply still acts only on the planned Secrets', async () => {
    token('payments-api-token-abc');
    token('billing-token-zzz', 'billing');
    const ctx = rotateContext({ cluster });
    const plan = await revokeTokenSecrets.plan(ctx, params);
    const now = revokeTokenSecrets.params.parse({ service_account: 'billing' });
    expect(await revokeTokenSecrets.drift!(ctx, plan, now)).toEqual([
      'the step now targets ServiceAccount billing, not payments-api',
    ]);
    const outcome = await revokeTokenSecrets.apply(ctx, plan, now);
    expect(outcome.data.deleted).toEqual(['payments-api-token-abc']);
    expect(names('Secret')).toEqual(['billing-token-zzz']);
  });

  it('a token Secret new since the preview survives an apply of the old plan', async () => {
    token('payments-api-token-abc');
    const ctx = rotateContext({ cluster });
    const plan = await revokeTokenSecrets.plan(ctx, params);
    token('payments-api-token-xyz');
    expect(await revokeTokenSecrets.drift!(ctx, plan, params)).toEqual([
      'Secret payments-api-token-xyz new since the preview',
    ]);
    const outcome = await revokeTokenSecrets.apply(ctx, plan, params);
    expect(outcome.data).toMatchObject({ deleted: ['payments-api-token-abc'], already_gone: [] });
    expect(written('DELETE', 'secrets')).toEqual(['payments-api-token-abc']);
    expect(names('Secret')).toEqual(['payments-api-token-xyz']);
  });
});

describe('k8s.rollout-restart', () => {
  const params = rolloutRestart.params.parse({});
  const restartedAt = () =>
    (
      ((fake.get('Deployment', NS, SERVICE)!.spec as Rec).template as Rec).metadata as Rec & {
        annotations?: Rec;
      }
    ).annotations?.[RESTARTED_AT_ANNOTATION];

  it('names a spec change and then does not restart the changed Deployment', async () => {
    seedDeployment(fake, { namespace: NS, name: SERVICE });
    const ctx = rotateContext({ cluster });
    const plan = await rolloutRestart.plan(ctx, params);
    expect(await rolloutRestart.drift!(ctx, plan, params)).toEqual([]);
    edit('Deployment', SERVICE, (d) => ({
      ...d,
      metadata: { ...(d.metadata as Rec), generation: 2 },
      spec: { ...(d.spec as Rec), replicas: 5 },
    }));
    expect(await rolloutRestart.drift!(ctx, plan, params)).toEqual([
      'Deployment payments-api spec changed since the preview (generation 1 → 2)',
    ]);
    await expect(rolloutRestart.apply(ctx, plan, params)).rejects.toMatchObject({
      code: 'k8s_conflict',
      message: expect.stringContaining('Deployment prod/payments-api changed since the plan was confirmed'),
    });
    expect(restartedAt()).toBeUndefined();
    // The patch carried the plan's resourceVersion.
    const patch = fake.requestsMatching({ method: 'PATCH' })[0]!.body as Rec;
    expect((patch.metadata as Rec).resourceVersion).toBe(plan.data.resource_version);
  });

  it('names a pause, a restart by someone else, a status update, a replacement and a deletion', async () => {
    seedDeployment(fake, { namespace: NS, name: SERVICE });
    const ctx = rotateContext({ cluster });
    const plan = await rolloutRestart.plan(ctx, params);
    const what = 'Deployment payments-api';

    edit('Deployment', SERVICE, (d) => ({ ...d, status: { ...(d.status as Rec), replicas: 1 } }));
    expect(await rolloutRestart.drift!(ctx, plan, params)).toEqual([
      expect.stringMatching(
        new RegExp(`^${what} updated since the preview \\(resourceVersion \\d+ → \\d+\\)$`),
      ),
    ]);

    edit('Deployment', SERVICE, (d) => ({ ...d, spec: { ...(d.spec as Rec), paused: true } }));
    expect(await rolloutRestart.drift!(ctx, plan, params)).toEqual([`${what} paused since the preview`]);

    edit('Deployment', SERVICE, (d) => {
      const spec = d.spec as Rec;
      const template = spec.template as Rec;
      return {
        ...d,
        spec: {
          ...spec,
          paused: false,
          template: {
            ...template,
            metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: '2026-11-25T14:05:00Z' } },
          },
        },
      };
    });
    expect(await rolloutRestart.drift!(ctx, plan, params)).toEqual([
      `${what} restarted since the preview (restartedAt 2026-11-25T14:05:00Z)`,
    ]);

    recreate('Deployment', SERVICE);
    expect(await rolloutRestart.drift!(ctx, plan, params)).toEqual([
      `${what} replaced since the preview (new uid)`,
    ]);
    fake.remove('Deployment', NS, SERVICE);
    expect(await rolloutRestart.drift!(ctx, plan, params)).toEqual([`${what} gone`]);
  });

  it('names a change of target in the step; apply restarts the planned workload only', async () => {
    seedDeployment(fake, { namespace: NS, name: SERVICE });
    seedDeployment(fake, { namespace: NS, name: 'billing', hash: '7f7f7f7f7' });
    const ctx = rotateContext({ cluster });
    const plan = await rolloutRestart.plan(ctx, params);
    const now = rolloutRestart.params.parse({ name: 'billing' });
    expect(await rolloutRestart.drift!(ctx, plan, now)).toEqual([
      'the step now targets Deployment billing, not Deployment payments-api',
    ]);
    await rolloutRestart.apply(ctx, plan, now);
    expect(written('PATCH', 'deployments')).toEqual([SERVICE]);
    expect(restartedAt()).toBe('2026-11-25T14:03:12Z');
  });

  it('a resumed apply finds the restart done before it and does not restart again', async () => {
    seedDeployment(fake, { namespace: NS, name: SERVICE });
    const plan = await rolloutRestart.plan(rotateContext({ cluster }), params);
    const first = await rolloutRestart.apply(rotateContext({ cluster }), plan, params);
    expect(first.data.restarted_at).toBe('2026-11-25T14:03:12Z');
    // The process died before recording the outcome; the apply resumes a minute later.
    const resumed = await rolloutRestart.apply(
      rotateContext({ cluster, attempt: 2, now: NOW + 60_000 }),
      plan,
      params,
    );
    expect(resumed).toMatchObject({
      status: 'applied',
      summary: `Deployment prod/payments-api was already restarted when apply attempt 2 began (${RESTARTED_AT_ANNOTATION}=2026-11-25T14:03:12Z, set before it): not restarted again`,
      data: { restarted_at: '2026-11-25T14:03:12Z', generation: 2, restarted_before_resume: true },
    });
    expect(restartedAt()).toBe('2026-11-25T14:03:12Z');
    // A first attempt meeting the same change is a conflict: someone else restarted it.
    await expect(rolloutRestart.apply(rotateContext({ cluster }), plan, params)).rejects.toMatchObject({
      code: 'k8s_conflict',
    });
  });
});

describe('certmanager.renew', () => {
  const params = certManagerRenew.params.parse({});
  const cert = (name: string, extra: Rec = {}) =>
    fake.put({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { namespace: NS, name },
      spec: { secretName: name, issuerRef: { name: 'ca' }, ...extra },
      status: { revision: 1, conditions: [{ type: 'Ready', status: 'True' }] },
    });
  const conditions = (name: string) =>
    ((fake.get('Certificate', NS, name)!.status as Rec).conditions as Rec[]).map((c) => c.type);

  it('names Certificates changed and new; apply renews none it was not shown', async () => {
    fake.serve('cert-manager');
    cert('payments-api-tls');
    cert('payments-api-mtls');
    const ctx = rotateContext({ cluster });
    const plan = await certManagerRenew.plan(ctx, params);
    expect(await certManagerRenew.drift!(ctx, plan, params)).toEqual([]);

    edit('Certificate', 'payments-api-mtls', (c) => ({
      ...c,
      status: { revision: 1, conditions: [{ type: 'Issuing', status: 'True', reason: 'Renewing' }] },
    }));
    edit('Certificate', 'payments-api-tls', (c) => ({
      ...c,
      metadata: { ...(c.metadata as Rec), generation: 2 },
      spec: { ...(c.spec as Rec), privateKey: { rotationPolicy: 'Always' } },
    }));
    cert('payments-api-extra');

    expect(await certManagerRenew.drift!(ctx, plan, params)).toEqual([
      'Certificate payments-api-mtls changed since the preview (now issuing)',
      'Certificate payments-api-tls changed since the preview (rotationPolicy unset → Always)',
      'Certificate payments-api-extra new since the preview',
    ]);

    fake.requests.length = 0;
    await expect(certManagerRenew.apply(ctx, plan, params)).rejects.toMatchObject({
      code: 'k8s_conflict',
      message: expect.stringContaining(
        'Certificate payments-api-tls changed since the plan (rotationPolicy unset → Always)',
      ),
    });
    expect(fake.requestsMatching({ method: 'PATCH' })).toHaveLength(0);
    expect(conditions('payments-api-extra')).toEqual(['Ready']);
    expect(conditions('payments-api-tls')).toEqual(['Ready']);
  });

  it('a Certificate new since the preview is not renewed by the old plan; the patch carries the resourceVersion', async () => {
    fake.serve('cert-manager');
    cert('payments-api-tls');
    const ctx = rotateContext({ cluster });
    const plan = await certManagerRenew.plan(ctx, params);
    cert('payments-api-extra');
    expect(await certManagerRenew.drift!(ctx, plan, params)).toEqual([
      'Certificate payments-api-extra new since the preview',
    ]);
    const outcome = await certManagerRenew.apply(ctx, plan, params);
    expect(outcome.data.renewed).toEqual(['payments-api-tls']);
    expect(written('PATCH', 'certificates/status')).toEqual(['payments-api-tls']);
    expect(conditions('payments-api-extra')).toEqual(['Ready']);
    const patch = fake.requestsMatching({ method: 'PATCH' })[0]!.body as Rec;
    expect((patch.metadata as Rec).resourceVersion).toBe(plan.data.certificates[0]!.resource_version);
  });

  it('names the API going away; a resumed apply reports the renewal triggered before it', async () => {
    fake.serve('cert-manager');
    cert('payments-api-tls');
    const plan = await certManagerRenew.plan(rotateContext({ cluster }), params);
    await certManagerRenew.apply(rotateContext({ cluster }), plan, params); // interrupted before it was recorded
    const resumed = await certManagerRenew.apply(rotateContext({ cluster, attempt: 2 }), plan, params);
    expect(resumed).toMatchObject({
      status: 'applied',
      data: { renewed: [], issuing_since_plan: ['payments-api-tls'] },
    });
    expect(resumed.summary).toContain(
      'already issuing when apply attempt 2 began (triggered before it): payments-api-tls',
    );
    expect(fake.requestsMatching({ method: 'PATCH' })).toHaveLength(1);

    fake.serve('cert-manager', false);
    const ctx = rotateContext({ cluster: fakeCluster(fake) }); // discovery is cached per cluster
    expect(await certManagerRenew.drift!(ctx, plan, params)).toEqual([
      'cert-manager Certificate API not served any more',
    ]);
  });
});

describe('k8s.job', () => {
  const template = (image: string) => ({
    spec: { backoffLimit: 1, template: { spec: { containers: [{ name: 'rotate', image }] } } },
  });
  const image = (name: string) =>
    ((((fake.get('Job', NS, name)!.spec as Rec).template as Rec).spec as Rec).containers as Rec[])[0]!.image;

  it('names a changed template, and apply creates the Job that was previewed, not the new one', async () => {
    const before = k8sJob.params.parse({ template: template('registry.example/rotator:1') });
    const after = k8sJob.params.parse({ template: template('registry.example/rotator:2') });
    const ctx = rotateContext({ cluster });
    const plan = await k8sJob.plan(ctx, before);
    expect(await k8sJob.drift!(ctx, plan, before)).toEqual([]);
    const drift = await k8sJob.drift!(ctx, plan, after);
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatch(
      /^the Job would differ: the playbook's template changed \(it would now be rotate-egr-rot-1-[0-9a-f]{6}, not rotate-egr-rot-1-[0-9a-f]{6}\)$/,
    );
    const outcome = await k8sJob.apply(ctx, plan, after);
    expect(outcome.data).toMatchObject({ name: plan.data.name, created: true });
    expect(names('Job')).toEqual([plan.data.name]);
    expect(image(plan.data.name)).toBe('registry.example/rotator:1');
  });

  it('names a Job created by something else, and apply neither awaits nor touches it', async () => {
    const params = k8sJob.params.parse({ template: template('registry.example/rotator:1') });
    const ctx = rotateContext({ cluster });
    const plan = await k8sJob.plan(ctx, params);
    fake.put({
      ...plan.data.job,
      metadata: { ...plan.data.job.metadata, annotations: {} },
      spec: template('other:9').spec,
    });
    expect(await k8sJob.drift!(ctx, plan, params)).toEqual([
      `Job ${plan.data.name} created since the preview by something else`,
    ]);
    await expect(k8sJob.apply(ctx, plan, params)).rejects.toMatchObject({
      code: 'action_failed',
      message: expect.stringContaining('exists that was not created for this step'),
    });
    expect(image(plan.data.name)).toBe('other:9');
    expect((fake.get('Job', NS, plan.data.name)!.metadata as Rec).annotations).toEqual({});
  });

  it('names our Job created or gone since the preview; a resumed apply awaits the one created before it', async () => {
    const params = k8sJob.params.parse({ template: template('registry.example/rotator:1') });
    const ctx = rotateContext({ cluster });
    const plan = await k8sJob.plan(ctx, params);
    await k8sJob.apply(ctx, plan, params); // interrupted before it was recorded
    expect(await k8sJob.drift!(ctx, plan, params)).toEqual([
      `Job ${plan.data.name} created since the preview (it would be awaited, not created)`,
    ]);
    const resumed = await k8sJob.apply(rotateContext({ cluster, attempt: 2 }), plan, params);
    expect(resumed).toMatchObject({
      status: 'applied',
      summary: `Job prod/${plan.data.name} already existed when apply attempt 2 began (created before it): awaited, not run again`,
      data: { created: false },
    });
    expect((fake.get('Job', NS, plan.data.name)!.metadata as Rec).annotations).toMatchObject({
      [IDEMPOTENCY_ANNOTATION]: ctx.idempotencyKey,
    });

    const replanned = await k8sJob.plan(ctx, params);
    expect(replanned.data.exists).toBe(true);
    fake.remove('Job', NS, plan.data.name);
    expect(await k8sJob.drift!(ctx, replanned, params)).toEqual([
      `Job ${plan.data.name} gone since the preview (it would be created and run again)`,
    ]);
  });
});

describe('rotate.webhook', () => {
  const SECRET_ENV = 'EGRESS_TEST_DRIFT_SECRET';
  const SECRET = 'whsec-drift-0a1b2c3d4e';
  let receiver: WebhookReceiver;
  let other: WebhookReceiver;

  beforeEach(async () => {
    process.env[SECRET_ENV] = SECRET;
    receiver = await startWebhookReceiver({ secret: SECRET });
    other = await startWebhookReceiver({ secret: SECRET });
  });

  afterEach(async () => {
    await receiver.close();
    await other.close();
    delete process.env[SECRET_ENV];
  });

  const parse = (over: Rec) =>
    rotateWebhook.params.parse({
      url: receiver.url,
      secret_env: SECRET_ENV,
      timeout: '2s',
      backoff_ms: 1,
      ...over,
    });

  it('names a changed url, body and settings; apply never sends to a url it was not shown', async () => {
    const ctx = rotateContext();
    const planned = parse({ reason: 'rotate after exfil' });
    const plan = await rotateWebhook.plan(ctx, planned);
    expect(await rotateWebhook.drift!(ctx, plan, planned)).toEqual([]);
    const changed = parse({
      url: other.url,
      reason: 'something else',
      retries: 1,
      headers: { 'X-Team': 'x' },
    });
    expect(await rotateWebhook.drift!(ctx, plan, changed)).toEqual([
      `webhook url changed since the preview (now ${other.url})`,
      'request body changed since the preview (reason)',
      'extra headers changed since the preview',
      'delivery settings changed since the preview (retries 3 → 1)',
    ]);
    await expect(rotateWebhook.apply(ctx, plan, changed)).rejects.toMatchObject({
      code: 'action_failed',
      message: expect.stringContaining('nothing was sent'),
    });
    expect(receiver.requests).toHaveLength(0);
    expect(other.requests).toHaveLength(0);
  });

  it('apply sends the body and headers that were previewed, with who applied it', async () => {
    const ctx = rotateContext();
    const plan = await rotateWebhook.plan(
      ctx,
      parse({ reason: 'rotate after exfil', headers: { 'X-Team': 'payments' } }),
    );
    const outcome = await rotateWebhook.apply(
      rotateContext({ actor: 'slack:U1' }),
      plan,
      parse({ reason: 'edited later', headers: { 'X-Team': 'other' } }),
    );
    expect(outcome.status).toBe('applied');
    const req = receiver.requests[0]!;
    expect(req.validSignature).toBe(true);
    expect(req.headers['x-team']).toBe('payments');
    expect(req.body).toMatchObject({ reason: 'rotate after exfil', requested_by: 'slack:U1' });
    expect(plan.preview).toContain('"requested_by": "(set when sent: who applies it)"');
  });
});
