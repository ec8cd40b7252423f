import { CERT_API_NOT_SERVED, KEY_NOT_ROTATED } from '../../../src/actions/rotate/certmanager.js';
import { rotateActions, rotationGaps } from '../../../src/actions/rotate/index.js';
import { DRY_RUN_ROLLOUT_LINE, RESTARTED_AT_ANNOTATION } from '../../../src/actions/rotate/k8s-rollout.js';
import { EgressContract, type LoadedContract } from '../../../src/domain/contract.js';
import type { ActionState, Incident } from '../../../src/domain/incident.js';
import { createKubeCluster } from '../../../src/k8s/kube-cluster.js';
import { oneStepPlaybook, testEngine } from '../../builders/engine.js';
import { anIncident } from '../../builders/incident.js';
import { aPod, type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';

const NS = 'prod';
const SERVICE = 'payments-api';

let fake: FakeKubeApi;

beforeEach(async () => {
  fake = await startFakeKubeApi();
});

afterEach(async () => {
  await fake.close();
});

/** A one-step hard-mode playbook running `uses` with `params` through the real engine and kube cluster. */
function k8sEngine(uses: string, params: Record<string, unknown> = {}, contracts: LoadedContract[] = []) {
  const cluster = createKubeCluster({
    kubeconfigPath: fake.kubeconfig(),
    retry: { attempts: 1, baseMs: 1, capMs: 1, timeoutMs: 2_000 },
  });
  const t = testEngine({
    yaml: oneStepPlaybook('rotate', uses, params),
    actions: rotateActions,
    idPrefix: 'EGR-ROT',
    deps: { cluster, contracts: () => contracts },
  });
  return {
    engine: t.engine,
    store: t.store,
    clock: t.clock,
    async run(over: Partial<Incident> = {}): Promise<{ incident: Incident; action: ActionState }> {
      const { id } = await t.open({ mode: 'hard', ...over });
      const inc = await t.engine.advance(id);
      return { incident: inc, action: inc.steps.find((s) => s.id === 'rotate')!.actions[0]! };
    },
  };
}

type Rec = Record<string, unknown>;
const plan = (a: ActionState) => a.plan as Rec & { summary: string; preview?: string; data: Rec };
const outcome = (a: ActionState) => a.outcome as Rec & { summary: string; reason?: string; data: Rec };
const verification = (a: ActionState) => a.verification as { ok: boolean; line: string; data: Rec };
const writes = () => fake.requests.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));

/** Once an object appears in the fake, run `then` (once). Returns a stopper. */
function whenCreated(
  type: string,
  namespace: string,
  match: (name: string) => boolean,
  then: (o: Rec) => void,
) {
  const timer = setInterval(() => {
    const found = fake.list(type, namespace).find((o) => match(String((o.metadata as Rec).name)));
    if (found) {
      clearInterval(timer);
      then(found as Rec);
    }
  }, 5);
  return () => clearInterval(timer);
}

describe('k8s.rollout-restart', () => {
  it('stamps restartedAt on the pod template and verifies a ready rollout', async () => {
    seedDeployment(fake, { namespace: NS, name: SERVICE, replicas: 2 });
    const d = fake.get('Deployment', NS, SERVICE)!;
    // The controller's answer to the next generation: everything updated and available.
    fake.put({
      ...d,
      status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
    });
    const t = k8sEngine('k8s.rollout-restart', { wait: '2s', poll: '20ms' });
    const { action } = await t.run();

    expect(action.status).toBe('verified');
    expect(plan(action).preview).toContain(RESTARTED_AT_ANNOTATION);
    const stored = fake.get('Deployment', NS, SERVICE) as Rec & { spec: Rec; metadata: Rec };
    const annotations = ((stored.spec.template as Rec).metadata as Rec).annotations as Rec;
    expect(annotations[RESTARTED_AT_ANNOTATION]).toBe('2026-11-25T14:03:12Z');
    expect(stored.metadata.generation).toBe(2);
    const patch = fake.requestsMatching({ method: 'PATCH' })[0]!;
    expect(patch.contentType).toBe('application/merge-patch+json');
    expect(patch.query.dryRun).toBeUndefined();
    expect(verification(action)).toMatchObject({
      ok: true,
      line: `Rollout of Deployment ${NS}/${SERVICE} complete`,
    });
  });

  it('reports what is not ready when the rollout does not finish within wait', async () => {
    seedDeployment(fake, { namespace: NS, name: SERVICE, replicas: 2 });
    const t = k8sEngine('k8s.rollout-restart', { wait: '150ms', poll: '30ms' });
    const { action } = await t.run();
    expect(action.status).toBe('verified');
    const v = verification(action);
    expect(v.ok).toBe(false);
    expect(v.line).toContain('not complete after 150ms');
    expect(v.line).toContain('observedGeneration 1 < generation 2');
    expect(v.line).toContain('0/2 replicas updated');
  });

  it('refuses a paused Deployment with a clear message and writes nothing', async () => {
    seedDeployment(fake, { namespace: NS, name: SERVICE });
    const d = fake.get('Deployment', NS, SERVICE)! as Rec & { spec: Rec };
    fake.put({ ...d, spec: { ...d.spec, paused: true } });
    const { action } = await k8sEngine('k8s.rollout-restart').run();
    expect(action.status).toBe('failed');
    expect(action.error?.message).toContain(
      `deployment ${SERVICE} is paused: resume it (kubectl rollout resume) before restarting`,
    );
    expect(writes()).toHaveLength(0);
  });

  it('in dry-run sends dryRun=All, changes nothing and does not wait', async () => {
    seedDeployment(fake, { namespace: NS, name: SERVICE });
    const { action } = await k8sEngine('k8s.rollout-restart', { wait: '10s' }).run({ drill: true });
    expect(action.status).toBe('verified');
    expect(verification(action)).toMatchObject({ ok: true, line: DRY_RUN_ROLLOUT_LINE });
    expect(fake.requestsMatching({ method: 'PATCH' })[0]!.query.dryRun).toBe('All');
    const stored = fake.get('Deployment', NS, SERVICE) as Rec & { spec: Rec };
    expect((stored.spec.template as Rec).metadata).not.toHaveProperty(['annotations']);
  });

  it('refuses a denied namespace before reading anything', async () => {
    const { action } = await k8sEngine('k8s.rollout-restart').run({
      alert: { ...anIncident().alert, source: { service: 'x', namespace: 'kube-system' } },
    });
    expect(action.status).toBe('failed');
    expect(action.error?.code).toBe('namespace_refused');
    expect(fake.requests.filter((r) => r.resource === 'deployments')).toHaveLength(0);
  });
});

describe('k8s.revoke-token-secrets', () => {
  function seedSecrets() {
    const token = (name: string, sa: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { namespace: NS, name, annotations: { 'kubernetes.io/service-account.name': sa } },
      data: { token: Buffer.from(`tok-${name}`).toString('base64') },
    });
    fake.put(token('payments-api-token-abcde', SERVICE));
    fake.put(token('payments-api-token-fghij', SERVICE));
    fake.put(token('billing-token-zzzzz', 'billing'));
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        namespace: NS,
        name: 'payments-api-db',
        annotations: { 'kubernetes.io/service-account.name': SERVICE },
      },
      data: { password: 'c2VjcmV0' },
    });
  }
  const secretNames = () => fake.list('Secret', NS).map((s) => (s.metadata as Rec).name);

  it("lists and deletes only the identity's token Secrets, never showing their data", async () => {
    seedSecrets();
    const { action } = await k8sEngine('k8s.revoke-token-secrets').run();
    expect(action.status).toBe('applied');
    expect(plan(action).preview).toBe(
      `- Secret ${NS}/payments-api-token-abcde\n- Secret ${NS}/payments-api-token-fghij`,
    );
    expect(JSON.stringify(action)).not.toContain(
      Buffer.from('tok-payments-api-token-abcde').toString('base64'),
    );
    expect(outcome(action).data.deleted).toEqual(['payments-api-token-abcde', 'payments-api-token-fghij']);
    expect(secretNames().sort()).toEqual(['billing-token-zzzzz', 'payments-api-db']);
  });

  it('takes the service account from the alert identity', async () => {
    seedSecrets();
    const { action } = await k8sEngine('k8s.revoke-token-secrets').run({
      alert: {
        ...anIncident().alert,
        source: {
          service: 'billing-worker',
          namespace: NS,
          identity: 'spiffe://cluster.local/ns/prod/sa/billing',
        },
      },
    });
    expect(outcome(action).data.deleted).toEqual(['billing-token-zzzzz']);
  });

  it("takes the service account from the service's contract first", async () => {
    seedSecrets();
    const contract = EgressContract.parse({
      service: SERVICE,
      namespace: NS,
      identity: { k8s_service_account: 'billing' },
    });
    const { action } = await k8sEngine('k8s.revoke-token-secrets', {}, [{ file: 'c.yaml', contract }]).run();
    expect(outcome(action).data).toMatchObject({
      service_account: 'billing',
      deleted: ['billing-token-zzzzz'],
    });
  });

  it('in dry-run deletes nothing but sends dryRun=All', async () => {
    seedSecrets();
    const { action } = await k8sEngine('k8s.revoke-token-secrets').run({ drill: true });
    expect(action.status).toBe('applied');
    const deletes = fake.requestsMatching({ method: 'DELETE' });
    expect(deletes).toHaveLength(2);
    expect(deletes.every((r) => r.query.dryRun === 'All')).toBe(true);
    expect(secretNames()).toHaveLength(4);
  });

  it('says so and skips when there are none', async () => {
    const { action } = await k8sEngine('k8s.revoke-token-secrets', { service_account: 'ghost' }).run();
    expect(plan(action).summary).toBe('no legacy token secrets for ghost');
    expect(action.status).toBe('skipped');
    expect(fake.requestsMatching({ method: 'DELETE' })).toHaveLength(0);
  });
});

describe('certmanager.renew', () => {
  it('is skipped with the reason when the Certificate API is not served', async () => {
    const { action } = await k8sEngine('certmanager.renew').run();
    expect(action.status).toBe('skipped');
    expect(action.reason).toBe(CERT_API_NOT_SERVED);
  });

  it("sets the Issuing condition on the service's Certificates and warns about rotationPolicy", async () => {
    fake.serve('cert-manager');
    const cert = (name: string, secretName: string, rotationPolicy?: string) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { namespace: NS, name },
      spec: {
        secretName,
        issuerRef: { name: 'ca' },
        ...(rotationPolicy ? { privateKey: { rotationPolicy } } : {}),
      },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready' }] },
    });
    fake.put(cert('payments-api-tls', 'payments-api-tls', 'Always'));
    fake.put(cert('mtls', 'payments-api-mtls-secret'));
    fake.put(cert('billing-tls', 'billing-tls', 'Always'));
    const { action } = await k8sEngine('certmanager.renew').run();
    expect(action.status).toBe('applied');
    expect(plan(action).summary).toContain('renew 2 Certificates');
    expect(plan(action).summary).toContain(
      `Certificate mtls: privateKey.rotationPolicy is unset (Never): ${KEY_NOT_ROTATED}`,
    );
    expect(plan(action).summary).not.toContain('payments-api-tls: privateKey');

    for (const name of ['payments-api-tls', 'mtls']) {
      const conditions = ((fake.get('Certificate', NS, name) as Rec).status as Rec).conditions as Rec[];
      expect(conditions).toEqual([
        { type: 'Ready', status: 'True', reason: 'Ready' },
        {
          type: 'Issuing',
          status: 'True',
          reason: 'ManuallyTriggered',
          message: 'Certificate re-issuance manually triggered',
          lastTransitionTime: '2026-11-25T14:03:12Z',
          observedGeneration: 1,
        },
      ]);
    }
    expect(((fake.get('Certificate', NS, 'billing-tls') as Rec).status as Rec).conditions).toHaveLength(1);
    const patches = fake.requestsMatching({ method: 'PATCH' });
    expect(patches.map((p) => p.resource)).toEqual(['certificates/status', 'certificates/status']);
  });
});

describe('k8s.job', () => {
  const template = {
    spec: {
      backoffLimit: 1,
      template: { spec: { containers: [{ name: 'rotate', image: 'registry.example/rotator:1' }] } },
    },
  };

  function finishJob(status: Rec, log: string) {
    return whenCreated(
      'Job',
      NS,
      (n) => n.startsWith('rotate-egr-rot-'),
      (job) => {
        const name = String((job.metadata as Rec).name);
        fake.put(
          aPod({ namespace: NS, name: `${name}-x1y2z`, labels: { 'job-name': name }, phase: 'Succeeded' }),
        );
        fake.setPodLog(NS, `${name}-x1y2z`, log);
        fake.put({ ...job, status });
      },
    );
  }

  it('creates the Job, waits for success and records the last log lines', async () => {
    const stop = finishJob({ succeeded: 1 }, 'line 1\nline 2\nline 3\nrotated payments-api\n');
    try {
      const { action, incident } = await k8sEngine('k8s.job', {
        template,
        poll: '20ms',
        wait: '5s',
        log_lines: 2,
      }).run();
      expect(action.status).toBe('verified');
      const name = String(outcome(action).data.name);
      expect(name).toMatch(/^rotate-egr-rot-1-[0-9a-f]{6}$/);
      expect(plan(action).preview).toContain(`name: ${name}`);
      expect(plan(action).preview).toContain('restartPolicy: Never');
      const job = fake.get('Job', NS, name) as Rec & { metadata: Rec };
      expect((job.metadata.annotations as Rec)['egress-responder/incident']).toBe(incident.id);
      const v = verification(action);
      expect(v.ok).toBe(true);
      expect(v.data.log).toEqual(['line 3', 'rotated payments-api']);
      expect(v.line).toBe(`Job ${NS}/${name} succeeded | log: line 3 ⏎ rotated payments-api`);
    } finally {
      stop();
    }
  });

  it('reports a failed Job as not ok with its log lines', async () => {
    const stop = finishJob({ failed: 2 }, 'Error: vault sealed\n');
    try {
      const { action } = await k8sEngine('k8s.job', { template, poll: '20ms', wait: '5s' }).run();
      const v = verification(action);
      expect(v.ok).toBe(false);
      expect(v.line).toContain('failed (2 failed pods, backoffLimit 1)');
      expect(v.line).toContain('Error: vault sealed');
    } finally {
      stop();
    }
  });

  it('reports a Job still running after wait as not ok', async () => {
    const { action } = await k8sEngine('k8s.job', { template, poll: '20ms', wait: '100ms' }).run();
    const v = verification(action);
    expect(v.ok).toBe(false);
    expect(v.line).toContain('not finished after 100ms');
  });

  it('treats an existing Job of the same name as already created (resume)', async () => {
    const t = k8sEngine('k8s.job', { template, poll: '20ms', wait: '100ms', log_lines: 0 });
    const first = await t.run();
    const name = String(outcome(first.action).data.name);
    fake.put({ ...fake.get('Job', NS, name)!, status: { succeeded: 1 } });
    // Same incident id and step again (a new engine run of the same key): AlreadyExists is success.
    const again = await k8sEngine('k8s.job', { template, poll: '20ms', wait: '1s', log_lines: 0 }).run();
    expect(outcome(again.action).data).toMatchObject({ name, created: false });
    expect(verification(again.action).ok).toBe(true);
  });

  it('in dry-run creates with dryRun=All and does not wait', async () => {
    const { action } = await k8sEngine('k8s.job', { template }).run({ drill: true });
    expect(verification(action)).toMatchObject({ ok: true, line: 'dry-run: job not awaited' });
    expect(
      fake.requestsMatching({ method: 'POST', path: `/apis/batch/v1/namespaces/${NS}/jobs` })[0]!.query
        .dryRun,
    ).toBe('All');
    expect(fake.list('Job', NS)).toHaveLength(0);
  });
});

describe('k8s.delete-quarantined-pods', () => {
  it('deletes only the pods labelled and quarantined for this incident', async () => {
    const ours = { 'egress-responder.io/incident': 'EGR-ROT-1' };
    const put = (name: string, labels: Record<string, string>, annotations?: Record<string, string>) =>
      fake.put(aPod({ namespace: NS, name, labels, ...(annotations ? { annotations } : {}) }));
    put('payments-api-q1', { app: SERVICE, quarantine: 'true' }, ours);
    put('payments-api-ok', { app: SERVICE });
    put('payments-api-q0', { app: SERVICE, quarantine: 'false' }, ours);
    // Labelled by hand, or by another incident: not this incident's evidence to delete.
    put(
      'payments-api-qx',
      { app: SERVICE, quarantine: 'true' },
      { 'egress-responder.io/incident': 'EGR-OTHER' },
    );
    put('payments-api-qh', { app: SERVICE, quarantine: 'true' });
    fake.put(aPod({ namespace: 'staging', name: 'other-q', labels: { quarantine: 'true' } }));
    const { action } = await k8sEngine('k8s.delete-quarantined-pods', { require_evidence: false }).run();
    expect(action.status).toBe('applied');
    expect(plan(action).preview).toBe(`- Pod ${NS}/payments-api-q1`);
    expect(plan(action).summary).toContain('WITHOUT checking that evidence was collected');
    expect(
      fake
        .list('Pod', NS)
        .map((p) => (p.metadata as Rec).name)
        .sort(),
    ).toEqual(['payments-api-ok', 'payments-api-q0', 'payments-api-qh', 'payments-api-qx']);
    expect(fake.list('Pod', 'staging')).toHaveLength(1);
  });
});

describe('rotation registry', () => {
  it('registers every rotation action and states the gaps', () => {
    expect(rotateActions.map((a) => a.id)).toEqual([
      'rotate.webhook',
      'k8s.rollout-restart',
      'k8s.revoke-token-secrets',
      'certmanager.renew',
      'k8s.job',
      'k8s.delete-quarantined-pods',
    ]);
    for (const a of rotateActions.slice(1)) {
      expect(a).toMatchObject({ destructive: true, needsCluster: true });
      expect(a.rbac.length).toBeGreaterThan(0);
    }
    expect(rotationGaps.join(' ')).toContain(
      'keeps its bound service-account token until the pod is deleted',
    );
    expect(rotationGaps.join(' ')).toContain('token issue time');
  });
});
