import {
  ALLOW,
  containHarness,
  NS,
  PODS,
  runContain,
  seedAdditiveTrap,
} from '../../builders/additive-trap.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// The API server writes a nil field as null as readily as it leaves it out; both mean absent. A
// policy with `ports: null` (and other nulls) made the analysis throw a TypeError and the whole
// containment step fail. Served by the fake API through the real client, it must now read as the
// server means it, and an object that truly cannot be read fails with a sentence naming it.

const playbook = (remedy: string) => `
id: null-test
title: Nulls
mode: hard
steps:
  - id: contain
    title: Contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - uses: k8s.quarantine
      - uses: k8s.deny-egress
        with: { remedy: ${remedy} }
`;

/** An allow-policy as a Go client may write it: nil fields as null. `ports: null` = all ports. */
const NULL_SPEC = {
  podSelector: { matchLabels: { app: 'payments-api' }, matchExpressions: null },
  policyTypes: ['Egress'],
  ingress: null,
  egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: null }, podSelector: null }], ports: null }],
};

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());
beforeEach(() => {
  seedAdditiveTrap(fake);
  fake.put({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: NS, name: ALLOW, labels: null, annotations: null },
    spec: structuredClone(NULL_SPEC),
  });
  const pod = fake.get('Pod', NS, PODS[0]!)!;
  fake.put({ ...pod, metadata: { ...(pod.metadata as object), annotations: null, ownerReferences: null } });
});

it('report-only: completes and verifies incomplete, the null ports read as all ports', async () => {
  const { inc, lines } = await runContain(containHarness(fake, playbook('report-only')));
  expect(inc.steps[0]!.actions.map((a) => a.status)).toEqual(['applied', 'verified']);
  expect(lines.filter((l) => l.startsWith('Verification:'))).toEqual([
    `Verification: incomplete — ${ALLOW} still allows all ports to 10.0.0.0/8`,
  ]);
});

it('isolate: completes and verifies contained; revert restores the policy exactly as the server sent it', async () => {
  const h = containHarness(fake, playbook('isolate'));
  const { inc, lines } = await runContain(h);
  expect(inc.status).toBe('contained');
  expect(lines.filter((l) => l.startsWith('Verification:'))).toEqual([
    'Verification: contained — 2 pods isolated by quarantine-deny-egress',
  ]);
  expect((fake.get('NetworkPolicy', NS, ALLOW)!.spec as typeof NULL_SPEC).podSelector).toEqual({
    matchLabels: { app: 'payments-api' },
    matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }],
  });
  await h.engine.revertStep(inc.id, 'contain', 'slack:U1');
  expect(fake.get('NetworkPolicy', NS, ALLOW)!.spec).toEqual(NULL_SPEC);
});

it('an object that cannot be read fails with a user-safe k8s_invalid naming the object and the field', async () => {
  fake.put({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: NS, name: 'broken' },
    spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: true }] }] },
  });
  const { inc } = await runContain(containHarness(fake, playbook('report-only')));
  const deny = inc.steps[0]!.actions[1]!;
  expect(deny.status).toBe('failed');
  expect(deny.error?.code).toBe('k8s_invalid');
  expect(deny.error?.message).toMatch(
    /^cannot read NetworkPolicy prod\/broken: spec\.egress\[0\]\.ports\[0\]\.port: /,
  );
});
