import { k8sContainActions } from '../../../src/actions/k8s/index.js';
import { accessFromLists } from '../../../src/domain/access.js';
import { createMemoryStore } from '../../../src/store/memory.js';
import { containHarness, PODS, seedAdditiveTrap, trapCluster } from '../../builders/additive-trap.js';
import { testEngine } from '../../builders/engine.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// Incidents that always resume: a run whose process died is picked up from the store by any worker,
// with no click; a confirmation given before the crash is not lost; the timeline after a resume says
// what the cluster holds.

class SimulatedCrash extends Error {}

/** Hard mode and nothing for people to do: the whole playbook runs by itself. */
const unattended = `
id: unattended
title: Unattended
mode: hard
steps:
  - id: contain
    title: Contain
    role: contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - { id: first, uses: test.mark }
      - { id: second, uses: test.mark }
  - id: close
    title: Close
    sets_status: { success: resolved }
    actions:
      - uses: note.add
        with: { text: done }
`;

const RESUME_AFTER = 30_000;

async function boundaries(): Promise<string[]> {
  const names: string[] = [];
  const t = testEngine({ yaml: unattended, deps: { checkpoint: (n) => names.push(n) } });
  const { id } = await t.open({ mode: 'hard', playbook: { id: 'unattended', file: 'u.yaml' } });
  await t.engine.advance(id);
  return names;
}

describe('a run whose process died is resumed by the next worker, with no click', () => {
  it('for every boundary: the queued run is due after resumeAfter and a fresh worker finishes it, each effect once', async () => {
    const names = await boundaries();
    expect(names.length).toBeGreaterThan(8);
    for (let k = 1; k <= names.length; k++) {
      let seen = 0;
      const t = testEngine({
        yaml: unattended,
        deps: {
          resumeAfterMs: RESUME_AFTER,
          checkpoint: () => {
            seen += 1;
            if (seen === k) throw new SimulatedCrash(`killed at ${names[k - 1]}`);
          },
        },
      });
      const { id } = await t.open({ mode: 'hard', playbook: { id: 'unattended', file: 'u.yaml' } });
      await expect(t.engine.advance(id)).rejects.toBeInstanceOf(SimulatedCrash);
      const where = `killed at ${names[k - 1]}`;
      // Nothing is due yet: the dead run might still be alive elsewhere, its lease has not lapsed.
      const fresh = t.restart({ resumeAfterMs: RESUME_AFTER });
      expect({ where, early: (await fresh.work(t.clock.now())).advanced }).toEqual({ where, early: 0 });
      t.clock.advance(RESUME_AFTER + 1);
      expect({ where, resumed: (await fresh.work(t.clock.now())).advanced }).toEqual({ where, resumed: 1 });
      const incident = await t.engine.get(id);
      expect({ where, status: incident.status }).toEqual({ where, status: 'resolved' });
      expect({ where, effects: [...t.ledger.effects.values()] }).toEqual({ where, effects: [1, 1] });
      // Settled: nothing left queued for it.
      t.clock.advance(10 * RESUME_AFTER);
      expect({ where, after: (await fresh.work(t.clock.now())).advanced }).toEqual({ where, after: 0 });
    }
  });

  it('confirm before a crash is not lost: the step reads running, and confirming again carries it on', async () => {
    let crash = true;
    const t = testEngine({
      deps: {
        checkpoint: (n) => {
          if (crash && n === 'contain:first:applying') throw new SimulatedCrash(n);
        },
      },
    });
    const { id } = await t.open({ mode: 'soft' });
    await t.engine.runStepNow(id, 'contain', 'slack:U1');
    await expect(t.engine.confirm(id, 'contain', 'slack:U1')).rejects.toBeInstanceOf(SimulatedCrash);
    const stuck = await t.engine.get(id);
    expect(stuck.steps.find((s) => s.id === 'contain')!.status).toBe('running');
    crash = false;
    // Another responder presses Confirm on the old message: it continues, it does not silently do nothing.
    const after = await t.restart({ checkpoint: () => undefined }).confirm(id, 'contain', 'slack:U2');
    expect(after.steps.find((s) => s.id === 'contain')!.status).toBe('completed');
    expect(after.status).toBe('contained');
    expect([...t.ledger.effects.values()]).toEqual([1, 1]);
    // Recorded once: the first confirmation stands, by its first author.
    const confirmations = (await t.store.timeline.read(id)).filter((e) => e.kind === 'confirmation.given');
    expect(confirmations.map((e) => e.actor)).toEqual(['slack:U1']);
  });
});

describe('two-person rule', () => {
  const access = accessFromLists({ responders: ['U1', 'U2'], approvers: ['U1', 'U3', 'U4'] });
  const approvalStep = `
id: approve-test
title: Approve test
mode: soft
steps:
  - id: step
    title: Needs approval
    approval: { from: approvers, count: 1 }
    actions:
      - { id: only, uses: test.mark }
`;

  it('whoever asked for or confirmed a step may not approve it; confirming never rewrites the requester', async () => {
    const t = testEngine({ yaml: approvalStep, access });
    const { id } = await t.open({ mode: 'soft', playbook: { id: 'approve-test', file: 'a.yaml' } });
    await t.engine.runStepNow(id, 'step', 'slack:U2');
    await t.engine.confirm(id, 'step', 'slack:U1');
    const state = (await t.engine.get(id)).steps[0]!;
    expect(state.requestedBy).toBe('slack:U2');
    expect(state.confirmedBy?.by).toBe('slack:U1');
    await expect(t.engine.decide(id, 'step', 'slack:U1', 'approve')).rejects.toMatchObject({
      code: 'approval_refused',
    });
    const refusals = (await t.store.timeline.read(id)).filter((e) => e.kind === 'refusal');
    expect(refusals.map((e) => e.actor)).toEqual(['slack:U1']);
    const done = await t.engine.decide(id, 'step', 'slack:U3', 'approve');
    expect(done.steps[0]!.status).toBe('completed');
  });
});

describe('reads and notes need a role', () => {
  const access = accessFromLists({ responders: ['U1'], approvers: ['U2'], viewers: ['U9'] });

  it('notes need a responder; status and timeline a viewer; a refusal is recorded', async () => {
    const t = testEngine({ access });
    const { id } = await t.open();
    await expect(t.engine.note(id, { actor: 'slack:U7', requestId: 'r1' }, 'hello')).rejects.toMatchObject({
      code: 'not_authorized',
    });
    await expect(t.engine.view(id, 'slack:U7')).rejects.toMatchObject({ code: 'not_authorized' });
    await expect(t.engine.viewOpen('slack:U7', 10)).rejects.toMatchObject({ code: 'not_authorized' });
    await expect(
      t.engine.note(id, { actor: 'slack:U9', requestId: 'r2' }, 'viewer note'),
    ).rejects.toMatchObject({
      code: 'not_authorized',
    });
    expect((await t.engine.view(id, 'slack:U9')).id).toBe(id);
    expect((await t.engine.viewTimeline(id, 'slack:U2')).events.length).toBeGreaterThan(0);
    await t.engine.note(id, { actor: 'slack:U1', requestId: 'r3' }, 'responder note');
    await t.engine.note(id, { actor: 'slack:U1', requestId: 'r3' }, 'responder note'); // a retried delivery
    const events = await t.store.timeline.read(id);
    expect(events.filter((e) => e.kind === 'note').map((e) => e.summary)).toEqual(['responder note']);
    expect(events.filter((e) => e.kind === 'refusal').map((e) => e.actor)).toEqual([
      'slack:U7',
      'slack:U7',
      'slack:U9',
    ]);
  });
});

describe('after a resume the timeline says what the cluster holds', () => {
  let fake: FakeKubeApi;
  beforeAll(async () => {
    fake = await startFakeKubeApi();
  });
  afterAll(() => fake.close());

  it('pods labelled before the restart are reported so, never "labelled 0 pods"', async () => {
    seedAdditiveTrap(fake);
    const yaml = `
id: q
title: Q
mode: hard
steps:
  - id: contain
    title: Contain
    actions:
      - uses: k8s.quarantine
`;
    const h = containHarness(fake, yaml);
    const { id } = await h.open({ playbook: { id: 'q', file: 'q.yaml' } });
    await h.engine.advance(id);
    // What the store holds when a process dies after its patches and before it recorded them: the
    // action `applying` (attempt 1), no outcome, no `applied` event — while the pods carry the label.
    const done = await h.engine.get(id);
    const store = createMemoryStore();
    await store.incidents.createOrGetByFingerprint({
      ...done,
      version: 0,
      status: 'open',
      steps: done.steps.map((s) => ({
        ...s,
        status: 'running',
        actions: s.actions.map(({ outcome: _o, verification: _v, ...a }) => ({
          ...a,
          status: 'applying',
          attempts: 1,
        })),
      })),
    });
    for (const e of await h.store.timeline.read(id))
      if (e.kind !== 'action.applied') await store.timeline.append(e);
    const fresh = testEngine({
      yaml,
      actions: k8sContainActions,
      store,
      deps: { cluster: trapCluster(fake) },
    });
    await fresh.engine.advance(id);
    const summaries = (await store.timeline.read(id)).map((e) => e.summary);
    expect(summaries).toContain(
      `k8s.quarantine was interrupted while applying (attempt 1); resuming with the same plan and idempotency key`,
    );
    const applied = summaries.filter((s) => s.startsWith('k8s.quarantine applied'));
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatch(
      /labelled 2 pod\(s\) quarantine=true in prod \(.+\): 2 before the restart, 0 now$/,
    );
    for (const pod of PODS) expect(applied[0]).toContain(pod);
  });
});
