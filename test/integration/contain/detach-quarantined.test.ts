// Keep the evidence: quarantine → detach → rollout restart against the fake API with real controller
// behaviour (a Deployment's ReplicaSet releases pods that stop matching and replaces them; a rollout
// deletes only what the old ReplicaSet owns), through the real engine and @kubernetes/client-node.
import { k8sContainActions } from '../../../src/actions/k8s/index.js';
import { rotateActions } from '../../../src/actions/rotate/index.js';
import type { ActionState, Incident } from '../../../src/domain/incident.js';
import { allowPolicy, NS, trapCluster } from '../../builders/additive-trap.js';
import { testEngine } from '../../builders/engine.js';
import {
  aDeployment,
  type FakeKubeApi,
  type JsonObject,
  startFakeKubeApi,
} from '../../fakes/kube-api/index.js';
import { rotateContext } from '../rotate/context.js';

const SERVICE = 'payments-api';
type Meta = {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
};

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi({ controllers: true });
});
afterAll(() => fake.close());

const m = (o: JsonObject) => o.metadata as unknown as Meta;
const pod = (name: string) => fake.get('Pod', NS, name);
const podNames = () => fake.list('Pod', NS).map((p) => m(p).name);
const writes = () => fake.requests.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));

/** A Deployment of 2 whose ReplicaSet and pods the fake's controllers made, and the trap's allow-policy. */
function seed(extraPolicies: JsonObject[] = []): string[] {
  fake.reset();
  fake.put(aDeployment({ namespace: NS, name: SERVICE, replicas: 2 }));
  fake.put(allowPolicy());
  for (const p of extraPolicies) fake.put(p);
  fake.reconcile();
  return podNames();
}

function playbook(opts: { detach?: boolean; rotate?: boolean } = {}): string {
  return `
id: evidence
title: Keep the evidence
mode: hard
steps:
  - id: contain
    title: Contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - uses: k8s.quarantine
      - uses: k8s.deny-egress
        with: { remedy: isolate }
${opts.detach === false ? '' : '      - uses: k8s.detach-quarantined\n        with: { wait: 1s, poll: 20ms }\n'}${
  opts.rotate === false
    ? ''
    : `  - id: rotate
    title: Rotate
    actions:
      - uses: k8s.rollout-restart
        with: { wait: 2s, poll: 20ms }
`
}`;
}

function harness(yaml: string) {
  return testEngine({
    yaml,
    actions: [...k8sContainActions, ...rotateActions],
    deps: { cluster: trapCluster(fake) },
  });
}

async function run(yaml: string, over: Partial<Incident> = {}) {
  const t = harness(yaml);
  const { id } = await t.open({ mode: 'hard', ...over });
  const inc = await t.engine.advance(id);
  return { t, inc, lines: (await t.store.timeline.read(id)).map((e) => e.summary) };
}

const action = (inc: Incident, uses: string): ActionState =>
  inc.steps.flatMap((s) => s.actions).find((a) => a.uses === uses)!;
const verification = (a: ActionState) => a.verification as { ok: boolean; line: string };

/** A default-allow policy for everything that is not payments-api: it starts selecting detached pods. */
const notPayments = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: NS, name: 'others-allow-https' },
  spec: {
    podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: [SERVICE] }] },
    policyTypes: ['Egress'],
    egress: [{ ports: [{ protocol: 'TCP', port: 443 }] }],
  },
};

describe('k8s.detach-quarantined, then k8s.rollout-restart', () => {
  it('the quarantined pods survive the restart: still quarantined, no controller, still isolated; fresh replacements run', async () => {
    const kept = seed();
    const { inc, lines } = await run(playbook());

    const detach = action(inc, 'k8s.detach-quarantined');
    expect(detach.status).toBe('verified');
    expect(verification(detach).ok).toBe(true);
    expect(verification(detach).line).toContain(
      'Verification: contained — 2 pods isolated by quarantine-deny-egress',
    );
    const preview = (detach.plan as { preview: string }).preview;
    for (const name of kept) expect(preview).toContain(name);
    expect(preview).toContain('the controllers will create 2 replacement pod(s); they are not quarantined');
    expect(preview).toMatch(
      /remove label\(s\) app=payments-api, pod-template-hash=\w+ that ReplicaSet\/payments-api-\w+ selects/,
    );
    expect(inc.status).toBe('contained');
    expect(action(inc, 'k8s.rollout-restart').status).toBe('verified');
    expect(lines).toContain(verification(detach).line);

    for (const name of kept) {
      const p = pod(name)!;
      expect(m(p).labels).toEqual({ quarantine: 'true' });
      expect(m(p).ownerReferences).toBeUndefined();
      expect(m(p).annotations).toMatchObject({
        'egress-responder.io/incident': inc.id,
        'egress-responder.io/detached-from': expect.stringMatching(/^ReplicaSet\/payments-api-/),
      });
      expect(JSON.parse(m(p).annotations!['egress-responder.io/detached-labels']!)).toMatchObject({
        app: SERVICE,
      });
    }
    // The restart's ReplicaSet runs 2 fresh pods; the detach's replacements were rolled away.
    const current = fake
      .list('ReplicaSet', NS)
      .find((rs) => (rs.spec as { replicas: number }).replicas === 2)!;
    const fresh = fake.list('Pod', NS).filter((p) => m(p).ownerReferences?.[0]?.name === m(current).name);
    expect(fresh).toHaveLength(2);
    for (const p of fresh) {
      expect(m(p).labels).not.toHaveProperty('quarantine');
      expect(m(p).annotations).toHaveProperty(['kubectl.kubernetes.io/restartedAt']);
    }
    expect(podNames()).toHaveLength(4);
  });

  it('a NotIn allow-policy that starts selecting the detached pods fails the verification, naming it', async () => {
    seed([notPayments]);
    const { inc } = await run(playbook({ rotate: false }));
    const detach = action(inc, 'k8s.detach-quarantined');
    expect(verification(detach).ok).toBe(false);
    expect(verification(detach).line).toMatch(
      /^Detach verification failed — NetworkPolicy others-allow-https selects payments-api-\S+, payments-api-\S+ since label\(s\) app, pod-template-hash were removed, and allows TCP\/443 to /,
    );
    expect(inc.status).toBe('containment_incomplete');
  });

  it('in a dry run (drill) sends dryRun=All and changes nothing', async () => {
    const kept = seed();
    const before = JSON.stringify(fake.list('Pod', NS));
    fake.requests.length = 0;
    const { inc } = await run(playbook(), { drill: true });
    const detach = action(inc, 'k8s.detach-quarantined');
    expect(detach.status).toBe('verified');
    expect((detach.outcome as { data: { detached: string[] } }).data.detached).toEqual(kept);
    expect(verification(detach).line).toMatch(/^Detach \(dry-run\): 2 pod\(s\) would be released/);
    const podPatches = writes().filter((w) => w.resource === 'pods');
    expect(podPatches.length).toBeGreaterThanOrEqual(4); // quarantine's 2 labels, detach's 2 patches
    for (const w of writes()) expect(w.query.dryRun).toBe('All');
    expect(JSON.stringify(fake.list('Pod', NS))).toBe(before);
  });

  it('revert puts the labels back: the ReplicaSet adopts the kept pods again and deletes its newest extra pods', async () => {
    const kept = seed();
    const { t, inc } = await run(playbook({ rotate: false }));
    expect(podNames()).toHaveLength(4);
    const reverted = await t.engine.revertStep(inc.id, 'contain', 'slack:U1');
    const undo = action(reverted, 'k8s.detach-quarantined');
    expect(undo.status).toBe('reverted');
    expect(podNames()).toEqual(kept);
    for (const name of kept) {
      expect(m(pod(name)!).labels).toMatchObject({ app: SERVICE });
      expect(m(pod(name)!).ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
      expect(m(pod(name)!).annotations).not.toHaveProperty(['egress-responder.io/detached-labels']);
    }
  });

  it('a second run finds the pods already detached: nothing to change, nothing written', async () => {
    seed();
    const { inc } = await run(playbook({ rotate: false }));
    const { detachQuarantined } = await import('../../../src/actions/k8s/contain/index.js');
    const ctx = rotateContext({ cluster: trapCluster(fake), incident: inc });
    const params = detachQuarantined.params.parse({ wait: '100ms', poll: '20ms' });
    const plan = await detachQuarantined.plan(ctx, params);
    expect(plan.changes).toBe(false);
    expect(plan.preview).toContain('already detached (from ReplicaSet/payments-api-');
    const count = writes().length;
    const outcome = await detachQuarantined.apply(ctx, plan, params);
    expect(outcome.status).toBe('skipped');
    expect(outcome.data.pods.map((p) => p.result)).toEqual(['already', 'already']);
    expect(writes()).toHaveLength(count);
    expect((await detachQuarantined.verify!(ctx, outcome, params)).ok).toBe(true);
  });

  it('without the detach, rollout-restart refuses, naming the pods and the action to run first', async () => {
    const kept = seed();
    const { inc } = await run(playbook({ detach: false }));
    const restart = action(inc, 'k8s.rollout-restart');
    expect(restart.status).toBe('failed');
    expect(restart.error?.code).toBe('action_failed');
    for (const name of kept) expect(restart.error?.message).toContain(name);
    expect(restart.error?.message).toContain('Run k8s.detach-quarantined first');
    expect(
      fake.requestsMatching({ method: 'PATCH', path: `/apis/apps/v1/namespaces/${NS}/deployments` }),
    ).toHaveLength(0);
    expect(podNames()).toEqual(kept);
  });
});
