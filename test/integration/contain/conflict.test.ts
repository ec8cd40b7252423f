import type { Incident } from '../../../src/domain/incident.js';
import {
  ALLOW,
  ALLOW_SPEC,
  containHarness,
  NS,
  PODS,
  runContain,
  seedAdditiveTrap,
  TRAP_LINE,
} from '../../builders/additive-trap.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// A 409 on a write means someone wrote the object between our read and our write. Through the real
// client against the fake API's fault injection: the write is re-read, re-checked and tried again a
// bounded number of times, and each object's result is recorded; what could not be written is said,
// and verification counts it as not contained.

const playbook = (remedy: string) => `
id: conflict-test
title: Conflict test
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

const quarantineOnly = `
id: conflict-test
title: Conflict test
mode: hard
steps:
  - id: contain
    title: Contain
    actions:
      - uses: k8s.quarantine
`;

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());
beforeEach(() => seedAdditiveTrap(fake));

const podPath = (name: string) => `/api/v1/namespaces/${NS}/pods/${name}`;
const policyPath = (name: string) => `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/${name}`;
const patchesOf = (path: string) => fake.requestsMatching({ method: 'PATCH', path }).length;
const labelsOf = (name: string) =>
  (fake.get('Pod', NS, name)!.metadata as { labels?: Record<string, string> }).labels ?? {};

type PodResult = { name: string; result: string; attempts?: number; error?: string };
/** Pod name → [result, attempts]: the fake lists pods by name, not in PODS order. */
const byName = (pods: PodResult[]) => Object.fromEntries(pods.map((p) => [p.name, [p.result, p.attempts]]));
function quarantineOf(inc: Incident) {
  const q = inc.steps[0]!.actions[0]!;
  const outcome = q.outcome as {
    summary: string;
    data: { pods: PodResult[]; succeeded: string[]; failed: string[] };
  };
  return { status: q.status, ...outcome };
}

describe('k8s.quarantine: a 409 on a pod patch', () => {
  it('once: the pod is re-read and labelled on the second try; every pod labelled, the outcome says it was retried', async () => {
    fake.fail({ method: 'PATCH', path: podPath(PODS[1]!), status: 409, reason: 'Conflict', times: 1 });
    const { inc } = await runContain(containHarness(fake, playbook('isolate')));
    const q = quarantineOf(inc);
    expect(q.status).toBe('applied');
    expect(byName(q.data.pods)).toEqual({
      [PODS[0]!]: ['labelled', undefined],
      [PODS[1]!]: ['labelled', 2],
    });
    expect(q.data.failed).toEqual([]);
    expect(q.summary).toContain(`retried after a 409 conflict: ${PODS[1]} (2 attempts)`);
    expect(patchesOf(podPath(PODS[1]!))).toBe(2);
    for (const pod of PODS) expect(labelsOf(pod).quarantine).toBe('true');
    expect(inc.status).toBe('contained');
  });

  it('forever: bounded at 3 tries, that pod recorded as conflict-gave-up, the other labelled, verification incomplete', async () => {
    fake.fail({ method: 'PATCH', path: podPath(PODS[1]!), status: 409, reason: 'Conflict', times: Infinity });
    const { inc, lines } = await runContain(containHarness(fake, playbook('isolate')));
    const q = quarantineOf(inc);
    expect(q.status).toBe('applied');
    expect(byName(q.data.pods)).toEqual({
      [PODS[0]!]: ['labelled', undefined],
      [PODS[1]!]: ['conflict-gave-up', 3],
    });
    expect(q.data.pods.find((p) => p.name === PODS[1])!.error).toMatch(/^3 writes answered 409 Conflict/);
    expect(q.data).toMatchObject({ succeeded: [PODS[0]], failed: [PODS[1]] });
    expect(q.summary).toContain(`FAILED 1: ${PODS[1]}: 3 writes answered 409 Conflict`);
    expect(patchesOf(podPath(PODS[1]!))).toBe(3);
    expect(labelsOf(PODS[0]!).quarantine).toBe('true');
    expect(labelsOf(PODS[1]!).quarantine).toBeUndefined();
    // The unlabelled pod is still the source's and not contained: verification says so.
    expect(inc.status).toBe('containment_incomplete');
    // The allow-policy was isolated from quarantined pods only: the unlabelled one still leaks by it.
    expect(lines.filter((l) => l.startsWith('Verification:'))).toEqual([TRAP_LINE]);
    const verification = inc.steps[0]!.actions[1]!.verification as {
      data: { perPod: Record<string, { verdict: string }> };
    };
    expect(verification.data.perPod[PODS[0]!]!.verdict).toBe('contained');
    expect(verification.data.perPod[PODS[1]!]!.verdict).toBe('incomplete');
  });

  it('a pod relabelled between the 409 and the retry is left alone and recorded as changed, not blindly patched', async () => {
    // The 409 is answered late; meanwhile whoever caused it moves the pod out of the selection.
    fake.fail({ method: 'PATCH', path: podPath(PODS[1]!), status: 409, reason: 'Conflict', delayMs: 300 });
    const relabel = setInterval(() => {
      if (patchesOf(podPath(PODS[1]!)) === 0) return;
      clearInterval(relabel);
      const pod = fake.get('Pod', NS, PODS[1]!)!;
      fake.put({ ...pod, metadata: { ...(pod.metadata as object), labels: { app: 'moved' } } });
    }, 5);
    const { inc } = await runContain(containHarness(fake, playbook('report-only')));
    clearInterval(relabel);
    expect(quarantineOf(inc).data.pods.find((p) => p.name === PODS[1])).toMatchObject({
      name: PODS[1],
      result: 'changed',
      attempts: 2,
      error: 'no longer matches app=payments-api: left alone',
    });
    expect(patchesOf(podPath(PODS[1]!))).toBe(1);
    expect(labelsOf(PODS[1]!)).toEqual({ app: 'moved' });
  });

  it('429 stays kube-requests’ business: retried there, not counted as a conflict', async () => {
    fake.fail({ method: 'PATCH', path: podPath(PODS[0]!), status: 429, retryAfterSeconds: 0, times: 1 });
    const { inc } = await runContain(containHarness(fake, playbook('isolate')));
    expect(byName(quarantineOf(inc).data.pods)).toEqual({
      [PODS[0]!]: ['labelled', undefined],
      [PODS[1]!]: ['labelled', undefined],
    });
  });
});

describe('remedies and the deny policy: a 409 is re-read and retried', () => {
  it('isolate: the allow-policy patch answered 409 once is re-read, still as previewed, patched → contained', async () => {
    fake.fail({ method: 'PATCH', path: policyPath(ALLOW), status: 409, reason: 'Conflict', times: 1 });
    const { inc } = await runContain(containHarness(fake, playbook('isolate')));
    const deny = inc.steps[0]!.actions[1]!.outcome as {
      data: { remedied: { name: string; ok: boolean; attempts?: number; original: { spec: unknown } }[] };
    };
    expect(deny.data.remedied).toMatchObject([{ name: ALLOW, ok: true, attempts: 2 }]);
    expect(deny.data.remedied[0]!.original.spec).toEqual(ALLOW_SPEC);
    expect(inc.status).toBe('contained');
  });

  it('isolate: 409 forever → bounded, recorded as not remedied, verification incomplete', async () => {
    fake.fail({ method: 'PATCH', path: policyPath(ALLOW), status: 409, reason: 'Conflict', times: Infinity });
    const { inc, lines } = await runContain(containHarness(fake, playbook('isolate')));
    const deny = inc.steps[0]!.actions[1]!.outcome as {
      summary: string;
      data: { remedied: { ok: boolean; attempts?: number; error?: string }[] };
    };
    expect(deny.data.remedied).toMatchObject([{ ok: false, attempts: 3 }]);
    expect(deny.data.remedied[0]!.error).toMatch(/^3 writes answered 409 Conflict/);
    expect(deny.summary).toContain(`FAILED: ${ALLOW}: 3 writes answered 409 Conflict`);
    expect(patchesOf(policyPath(ALLOW))).toBe(3);
    expect(lines.filter((l) => l.startsWith('Verification:'))).toEqual([TRAP_LINE]);
  });

  it('detach: a pod patch answered 409 once is re-read and detached → contained', async () => {
    // The quarantine patch of this pod is the first PATCH; the detach patch the second.
    fake.fail({ method: 'PATCH', path: podPath(PODS[0]!), status: 409, reason: 'Conflict', times: 1 });
    const { inc } = await runContain(containHarness(fake, playbook('detach')));
    expect(byName(quarantineOf(inc).data.pods)[PODS[0]!]).toEqual(['labelled', 2]);
    expect(labelsOf(PODS[0]!)).toEqual({ quarantine: 'true' });
    expect(inc.status).toBe('contained');
  });

  it('detach: its own patch answered 409 twice still lands on the third try', async () => {
    const h = containHarness(fake, quarantineOnly);
    const { id } = await h.open();
    await h.engine.advance(id);
    fake.fail({ method: 'PATCH', path: podPath(PODS[0]!), status: 409, reason: 'Conflict', times: 2 });
    const after = await h.engine.runAction(
      id,
      { uses: 'k8s.deny-egress', with: { remedy: 'detach' } },
      'slack:U1',
    );
    const deny = after.steps.find((s) => s.adhoc)!.actions[0]!.outcome as {
      data: { detached: { name: string; ok: boolean; attempts?: number }[] };
    };
    expect(Object.fromEntries(deny.data.detached.map((d) => [d.name, [d.ok, d.attempts]]))).toEqual({
      [PODS[0]!]: [true, 3],
      [PODS[1]!]: [true, undefined],
    });
    for (const pod of PODS) expect(labelsOf(pod)).toEqual({ quarantine: 'true' });
  });

  it('the deny policy: a server-side apply answered 409 once is re-read and applied again', async () => {
    fake.fail({
      method: 'PATCH',
      path: policyPath('quarantine-deny-egress'),
      status: 409,
      reason: 'Conflict',
      times: 1,
    });
    const { inc } = await runContain(containHarness(fake, playbook('isolate')));
    expect(inc.steps[0]!.actions[1]!.status).toBe('verified');
    expect(patchesOf(policyPath('quarantine-deny-egress'))).toBe(2);
    expect(fake.get('NetworkPolicy', NS, 'quarantine-deny-egress')).toBeDefined();
    expect(inc.status).toBe('contained');
  });
});
