import { builtinActions } from '../../../src/actions/builtin/index.js';
import { type ActionDefinition, decodeOutcome, decodePlan } from '../../../src/actions/define.js';
import { k8sEvidenceActions } from '../../../src/actions/k8s/evidence/index.js';
import { k8sContainActions } from '../../../src/actions/k8s/index.js';
import { rotateActions } from '../../../src/actions/rotate/index.js';
import type { Incident } from '../../../src/domain/incident.js';
import { createRedisStore } from '../../../src/store/redis.js';
import type { Store } from '../../../src/store/store.js';
import { seedAdditiveTrap, trapCluster } from '../../builders/additive-trap.js';
import { testEngine } from '../../builders/engine.js';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { deleteKeys, redisUrl, uniquePrefix } from '../../support/redis.js';

// Plans and outcomes are stored as JSON and decoded with each action's own schemas when read back.
// Run every action of a real playbook against the fake cluster on a real Redis, read the incident
// back from Redis, and check each stored plan and outcome decodes to exactly what was stored: the
// schemas accept what the actions write, add nothing and drop nothing.

const prefix = uniquePrefix('data-roundtrip');
let fake: FakeKubeApi;
let store: Store;

beforeAll(async () => {
  // Controllers on: detaching a quarantined pod makes its ReplicaSet release it, as a real one does.
  fake = await startFakeKubeApi({ controllers: true });
});
afterAll(async () => {
  await fake.close();
  await deleteKeys(prefix);
});
beforeEach(() => {
  store = createRedisStore({ url: redisUrl(), keyPrefix: `${prefix}${Math.random()}:` });
});
afterEach(() => store.close());

const playbook = (remedy: string) => `
id: roundtrip
title: Every action
mode: hard
steps:
  - id: triage
    title: Triage
    actions:
      - uses: triage.source-identity
      - uses: triage.destination
      - uses: triage.contract-verdict
  - id: contain
    title: Contain
    role: contain
    actions:
      # The trap's bare pods and the Deployment's share app=payments-api: two owners, widened on purpose.
      - uses: k8s.quarantine
        with: { allow_multiple_owners: true }
      - uses: k8s.deny-egress
        with: { remedy: ${remedy} }
      - uses: k8s.detach-quarantined
        with: { wait: 2s, poll: 20ms }
      - uses: k8s.l7-deny
      - uses: note.add
        with: { text: noted }
  - id: rotate
    title: Rotate
    role: rotate
    actions:
      - uses: k8s.revoke-token-secrets
      - uses: certmanager.renew
      - uses: k8s.rollout-restart
        with: { wait: 100ms, poll: 20ms }
  - id: handoff
    title: Hand off
    actions:
      - uses: k8s.collect-evidence
      - uses: timeline.export
      - uses: notify.message
        with: { text: handed off }
  - id: cleanup
    title: Clean up
    actions:
      - uses: k8s.delete-quarantined-pods
`;

const registry: ActionDefinition[] = [
  ...builtinActions,
  ...k8sContainActions,
  ...k8sEvidenceActions,
  ...rotateActions,
];
const defOf = (uses: string) => registry.find((d) => d.id === uses)!;

async function run(remedy: string): Promise<Incident> {
  seedAdditiveTrap(fake);
  seedDeployment(fake, { namespace: 'prod', name: 'payments-api', replicas: 2 });
  const t = testEngine({
    yaml: playbook(remedy),
    store,
    actions: [...k8sContainActions, ...k8sEvidenceActions, ...rotateActions],
    deps: { cluster: trapCluster(fake) },
  });
  const { id } = await t.open({ mode: 'hard', playbook: { id: 'roundtrip', file: 'roundtrip.yaml' } });
  await t.engine.advance(id);
  return (await store.incidents.get(id))!;
}

describe.each(['isolate', 'detach', 'cni-deny', 'report-only'])('remedy %s', (remedy) => {
  it('every stored plan and outcome decodes to exactly what Redis holds', async () => {
    const incident = await run(remedy);
    const actions = incident.steps.flatMap((s) => s.actions);
    const decoded: string[] = [];
    for (const a of actions) {
      const def = defOf(a.uses);
      if (a.plan !== undefined) {
        expect(JSON.parse(JSON.stringify(decodePlan(def, a.plan)))).toStrictEqual(a.plan);
        decoded.push(`${a.uses} plan`);
      }
      if (a.outcome !== undefined) {
        expect(JSON.parse(JSON.stringify(decodeOutcome(def, a.outcome)))).toStrictEqual(a.outcome);
        decoded.push(`${a.uses} outcome`);
      }
    }
    // Not an empty pass: every action of the playbook was planned, and the cluster ones applied.
    for (const uses of [
      'k8s.quarantine',
      'k8s.deny-egress',
      'k8s.revoke-token-secrets',
      'k8s.rollout-restart',
      'k8s.detach-quarantined',
      'k8s.collect-evidence',
    ]) {
      expect(decoded).toEqual(expect.arrayContaining([`${uses} plan`, `${uses} outcome`]));
    }
    expect(new Set(actions.map((a) => a.uses)).size).toBe(15);
    expect(actions.filter((a) => a.status === 'failed')).toEqual([]);
  });
});

it('a stored plan that does not match its schema is refused with the action named, not used', () => {
  const def = defOf('k8s.quarantine');
  expect(() =>
    decodePlan(def, { summary: 's', changes: true, data: { namespace: 'prod', pods: 'all' } }),
  ).toThrow(/stored plan data of k8s.quarantine does not match its schema/);
});

it('every registered action has an example its own params accept', () => {
  for (const def of registry)
    expect({ id: def.id, ok: def.params.safeParse(def.example).success }).toEqual({ id: def.id, ok: true });
});
