import { accessFromLists } from '../../../src/domain/access.js';
import { autopilot } from '../../../src/drills/runner.js';
import { testEngine, testPlaybookYaml } from '../../builders/engine.js';

const kinds = async (t: ReturnType<typeof testEngine>, id: string) =>
  (await t.store.timeline.read(id)).map((e) => e.kind);

describe('engine: running a playbook', () => {
  it('in soft mode runs triage checks at once, then waits for the checklist, then for confirmation', async () => {
    const t = testEngine();
    const { id } = await t.open();
    let inc = await t.engine.advance(id);
    expect(inc.steps.map((s) => [s.id, s.status])).toEqual([['triage', 'awaiting_input']]);
    expect(inc.steps[0]!.actions.map((a) => [a.key, a.status])).toEqual([
      ['triage.source-identity', 'applied'],
      ['triage.contract-verdict', 'applied'],
    ]);
    inc = await t.engine.tick(id, 'triage', 'looked', 'slack:U1');
    expect(inc.steps.map((s) => [s.id, s.status])).toEqual([
      ['triage', 'completed'],
      ['contain', 'awaiting_confirmation'],
    ]);
    // Planned (the preview) but nothing applied before a responder confirms.
    expect(inc.steps[1]!.actions.map((a) => a.status)).toEqual(['planned', 'planned']);
    expect(t.ledger.effects.size).toBe(0);

    inc = await t.engine.confirm(id, 'contain', 'slack:U1');
    expect(inc.steps[1]!.status).toBe('completed');
    expect(inc.status).toBe('contained');
    expect([...t.ledger.effects.keys()]).toEqual([`${id}:contain:first`, `${id}:contain:second`]);
    expect(inc.steps[2]!.status).toBe('awaiting_approval');
  });

  it('lets a responder contain out of order, before the triage checklist is ticked', async () => {
    const t = testEngine();
    const { id } = await t.open();
    await t.engine.advance(id);
    let inc = await t.engine.runStepNow(id, 'contain', 'slack:U1');
    expect(inc.steps.map((s) => [s.id, s.status])).toEqual([
      ['triage', 'awaiting_input'],
      ['contain', 'awaiting_confirmation'],
    ]);
    inc = await t.engine.confirm(id, 'contain', 'slack:U1');
    expect(inc.steps.map((s) => [s.id, s.status])).toEqual([
      ['triage', 'awaiting_input'],
      ['contain', 'completed'],
    ]);
    expect(inc.status).toBe('contained');
    // Triage still waits for its people; then the playbook goes on past the finished step.
    inc = await t.engine.tick(id, 'triage', 'looked', 'slack:U1');
    expect(inc.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'awaiting_approval']);
  });

  it('in hard mode an urgent step starts at once, before earlier steps finish', async () => {
    const yaml = testPlaybookYaml.replace('    title: Contain\n', '    title: Contain\n    urgent: true\n');
    const t = testEngine({ yaml });
    const { id } = await t.open({ mode: 'hard' });
    const inc = await t.engine.advance(id);
    expect(inc.steps.map((s) => [s.id, s.status])).toEqual([
      ['contain', 'completed'],
      ['triage', 'awaiting_input'],
    ]);
    expect(inc.status).toBe('contained');
    // Soft mode keeps the order: urgent means nothing without hard mode.
    const soft = await t.open({ mode: 'soft' });
    expect((await t.engine.advance(soft.id)).steps.map((s) => s.id)).toEqual(['triage']);
  });

  it('in hard mode applies destructive actions without waiting for confirmation', async () => {
    const t = testEngine();
    const { id } = await t.open({ mode: 'hard' });
    await t.engine.advance(id);
    const inc = await t.engine.tick(id, 'triage', 'looked', 'system');
    expect(inc.steps[1]!.status).toBe('completed');
    expect(t.ledger.effects.size).toBe(2);
  });

  it('in observe mode records destructive actions as skipped and never applies them', async () => {
    const t = testEngine();
    const { id } = await t.open({ mode: 'observe' });
    const inc = await autopilot(t.engine, id);
    expect(t.ledger.calls).toEqual([]);
    const contain = inc.steps.find((s) => s.id === 'contain')!;
    expect(contain.actions.map((a) => [a.status, a.reason])).toEqual([
      ['skipped', 'observe mode: recorded, not applied'],
      ['skipped', 'observe mode: recorded, not applied'],
    ]);
    expect(inc.status).toBe('resolved');
    // Nothing was contained, so the incident never claimed to be.
    const statuses = (await t.store.timeline.read(id))
      .filter((e) => e.kind === 'status.changed')
      .map((e) => e.summary);
    expect(statuses).toEqual([
      'Status stays open: test.mark (observe mode: recorded, not applied), test.mark (observe mode: recorded, not applied) not applied',
      'Status: open → resolved (step "Close" completed)',
    ]);
  });

  it('skips a step whose condition does not hold, saying why', async () => {
    const t = testEngine();
    const { id } = await t.open({
      verdict: {
        kind: 'allowed',
        message: 'allowed by allowed_external[0]',
        contract: { service: 'payments-api', file: 'c.yaml' },
        rule: { list: 'allowed_external', index: 0, text: 'api.stripe.com 443 https' },
      },
    });
    const inc = await autopilot(t.engine, id);
    const contain = inc.steps.find((s) => s.id === 'contain')!;
    expect(contain.status).toBe('skipped');
    expect(contain.reason).toBe(
      'condition not met: verdict is allowed, step runs only for violation | no-contract',
    );
    const events = await t.store.timeline.read(id);
    expect(events.find((e) => e.kind === 'step.skipped')?.summary).toContain('verdict is allowed');
  });

  it('marks containment incomplete when a verification fails', async () => {
    const yaml = `
id: p
title: P
mode: hard
steps:
  - id: contain
    title: Contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - { uses: test.mark, with: { verify: incomplete } }
`;
    const t = testEngine({ yaml });
    const { id } = await t.open({ playbook: { id: 'p', file: 'p.yaml' }, mode: 'hard' });
    const inc = await t.engine.advance(id);
    expect(inc.status).toBe('containment_incomplete');
    const verified = (await t.store.timeline.read(id)).find((e) => e.kind === 'action.verified');
    expect(verified?.summary).toBe('Verification: incomplete');
  });

  it('stops at a failed action, records it, and retries only what failed', async () => {
    const t = testEngine();
    const { id } = await t.open({ mode: 'hard' });
    t.ledger.failing.add('second');
    await t.engine.advance(id);
    let inc = await t.engine.tick(id, 'triage', 'looked', 'system');
    const contain = inc.steps.find((s) => s.id === 'contain')!;
    expect(contain.status).toBe('failed');
    expect(contain.actions.map((a) => a.status)).toEqual(['verified', 'failed']);
    expect(contain.actions[1]!.error).toEqual({
      code: 'action_failed',
      message: 'second refused by the test',
    });
    expect(inc.steps.find((s) => s.id === 'approve')).toBeUndefined(); // later steps wait, not skipped

    t.ledger.failing.clear();
    inc = await t.engine.retryStep(id, 'contain', 'slack:U1');
    expect(inc.steps.find((s) => s.id === 'contain')!.status).toBe('completed');
    expect(t.ledger.effects.get(`${id}:contain:first`)).toBe(1); // not applied twice
    expect(t.ledger.effects.get(`${id}:contain:second`)).toBe(1);
    expect(await kinds(t, id)).toContain('action.failed');
  });

  it('reverts what a step applied, newest first', async () => {
    const t = testEngine();
    const { id } = await t.open({ mode: 'hard' });
    await t.engine.advance(id);
    await t.engine.tick(id, 'triage', 'looked', 'system');
    expect(t.ledger.effects.size).toBe(2);
    const inc = await t.engine.revertStep(id, 'contain', 'slack:U1');
    expect(t.ledger.effects.size).toBe(0);
    expect(inc.steps.find((s) => s.id === 'contain')!.actions.map((a) => a.status)).toEqual([
      'reverted',
      'reverted',
    ]);
    const reverted = (await t.store.timeline.read(id)).filter((e) => e.kind === 'action.reverted');
    expect(reverted.map((e) => e.details.action)).toEqual(['second', 'first']);
  });

  it('drill incidents run every action as a dry-run', async () => {
    const t = testEngine();
    const { id } = await t.open({ drill: true, mode: 'hard' });
    const inc = await autopilot(t.engine, id);
    expect(t.ledger.calls.length).toBe(3);
    expect(t.ledger.effects.size).toBe(0);
    const applied = (await t.store.timeline.read(id)).filter(
      (e) => e.kind === 'action.applied' && e.details.step === 'contain',
    );
    expect(applied.every((e) => e.summary.startsWith('[dry-run] test.mark applied'))).toBe(true);
    expect(inc.status).toBe('resolved');
  });
});

describe('engine: approvals and authorization', () => {
  const access = accessFromLists({ responders: ['U1', 'U2'], approvers: ['U2', 'U3', 'U4'] });

  async function atApproval() {
    const t = testEngine({ access });
    const { id } = await t.open({ mode: 'hard' });
    await t.engine.advance(id, { actor: 'slack:U2' });
    const inc = await t.engine.tick(id, 'triage', 'looked', 'slack:U2');
    expect(inc.steps.find((s) => s.id === 'approve')!.status).toBe('awaiting_approval');
    return { t, id };
  }

  it('needs two distinct approvers and refuses the requester', async () => {
    const { t, id } = await atApproval();
    await expect(t.engine.decide(id, 'approve', 'slack:U2', 'approve')).rejects.toMatchObject({
      code: 'approval_refused',
      message: 'the person who asked for or confirmed this step may not approve it (two-person rule)',
    });
    let inc = await t.engine.decide(id, 'approve', 'slack:U3', 'approve');
    expect(inc.steps.find((s) => s.id === 'approve')!.status).toBe('awaiting_approval');
    await expect(t.engine.decide(id, 'approve', 'slack:U3', 'approve')).rejects.toMatchObject({
      code: 'approval_refused',
    });
    inc = await t.engine.decide(id, 'approve', 'slack:U4', 'approve');
    expect(inc.steps.find((s) => s.id === 'approve')!.status).toBe('completed');
    expect(t.ledger.effects.has(`${id}:approve:third`)).toBe(true);
    const events = await t.store.timeline.read(id);
    expect(events.filter((e) => e.kind === 'refusal').map((e) => e.actor)).toEqual(['slack:U2', 'slack:U3']);
    expect(events.filter((e) => e.kind === 'approval.granted').map((e) => e.actor)).toEqual([
      'slack:U3',
      'slack:U4',
    ]);
  });

  it('refuses people outside the approver list and records the refusal', async () => {
    const { t, id } = await atApproval();
    await expect(t.engine.decide(id, 'approve', 'slack:U1', 'approve')).rejects.toMatchObject({
      code: 'approval_refused',
      message: 'only approvers may decide this step',
    });
    const refusal = (await t.store.timeline.read(id)).find((e) => e.kind === 'refusal');
    expect(refusal).toMatchObject({ actor: 'slack:U1' });
  });

  it('a denial skips the step with the reason and the playbook goes on', async () => {
    const { t, id } = await atApproval();
    const inc = await t.engine.decide(id, 'approve', 'slack:U3', 'deny');
    const step = inc.steps.find((s) => s.id === 'approve')!;
    expect(step.status).toBe('skipped');
    expect(step.reason).toBe('approval denied by slack:U3');
    expect(t.ledger.effects.has(`${id}:approve:third`)).toBe(false);
    expect(inc.status).toBe('resolved');
  });

  it('release is two-person: a responder asks, another approver decides, then the step is undone', async () => {
    const t = testEngine({ access });
    const { id } = await t.open({ mode: 'hard' });
    await t.engine.advance(id);
    let inc = await t.engine.tick(id, 'triage', 'looked', 'slack:U2');
    expect(inc.status).toBe('contained');
    await expect(t.engine.revertStep(id, 'contain', 'slack:U1')).rejects.toMatchObject({
      code: 'not_authorized',
    });
    inc = await t.engine.requestRevert(id, 'contain', 'slack:U2');
    expect(inc.pendingRevert).toMatchObject({ stepId: 'contain', requestedBy: 'slack:U2' });
    await expect(t.engine.decideRevert(id, 'slack:U2', 'approve')).rejects.toMatchObject({
      message: 'the requester may not approve their own request (two-person rule)',
    });
    await expect(t.engine.decideRevert(id, 'slack:U1', 'approve')).rejects.toMatchObject({
      message: 'only approvers may decide a release',
    });
    expect(t.ledger.effects.size).toBe(2);
    inc = await t.engine.decideRevert(id, 'slack:U3', 'approve');
    expect(t.ledger.effects.size).toBe(0);
    expect(inc.status).toBe('acknowledged');
    expect(inc.pendingRevert).toBeUndefined();
    const kinds = (await t.store.timeline.read(id)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'action.reverted')).toHaveLength(2);
    await expect(t.engine.decideRevert(id, 'slack:U4', 'approve')).rejects.toMatchObject({
      code: 'command_invalid',
    });
  });

  it('a denied release changes nothing', async () => {
    const t = testEngine({ access });
    const { id } = await t.open({ mode: 'hard' });
    await t.engine.advance(id);
    await t.engine.tick(id, 'triage', 'looked', 'slack:U2');
    await t.engine.requestRevert(id, 'contain', 'slack:U1');
    const inc = await t.engine.decideRevert(id, 'slack:U3', 'deny');
    expect(inc.status).toBe('contained');
    expect(t.ledger.effects.size).toBe(2);
    expect((await t.store.timeline.read(id)).some((e) => e.kind === 'approval.denied')).toBe(true);
  });

  it('refuses non-responders actions and records each refusal', async () => {
    const t = testEngine({ access });
    const { id } = await t.open();
    await t.engine.advance(id);
    await expect(t.engine.tick(id, 'triage', 'looked', 'slack:U9')).rejects.toMatchObject({
      code: 'not_authorized',
    });
    await expect(t.engine.confirm(id, 'contain', 'slack:U9')).rejects.toMatchObject({
      code: 'not_authorized',
    });
    await expect(t.engine.close(id, 'slack:U9', 'nope')).rejects.toMatchObject({ code: 'not_authorized' });
    const refusals = (await t.store.timeline.read(id)).filter((e) => e.kind === 'refusal');
    expect(refusals.map((e) => e.summary)).toEqual([
      'Refused: slack:U9 may not tick a checklist item of step triage (needs the responder role)',
      'Refused: slack:U9 may not confirm step contain (needs the responder role)',
      'Refused: slack:U9 may not close the incident (needs the responder role)',
    ]);
  });
});

describe('engine: SLAs, notes, status', () => {
  it('records an SLA breach once for a step still open past its SLA', async () => {
    const t = testEngine();
    const { id } = await t.open();
    await t.engine.advance(id);
    expect((await t.engine.work(t.clock.now())).reminders).toBe(0);
    t.clock.advance(15 * 60_000 + 1);
    expect((await t.engine.work(t.clock.now())).reminders).toBe(1);
    expect((await t.engine.work(t.clock.now())).reminders).toBe(0);
    const breach = (await t.store.timeline.read(id)).filter((e) => e.kind === 'sla.breached');
    // The step and what it waits for in words, never the raw status.
    expect(breach.map((e) => e.summary)).toEqual([
      'SLA breached: step "Triage" is waiting for its checklist to be ticked (0 of 1 item done)',
    ]);
    expect(breach[0]?.details).toMatchObject({ step: 'triage', status: 'awaiting_input' });
    expect(breach[0]?.details.commander).toBeUndefined();
  });

  it('an SLA breach after someone took command records the commander, for the reminder to name', async () => {
    const t = testEngine();
    const { id } = await t.open();
    await t.engine.advance(id);
    await t.engine.acknowledge(id, 'slack:U0AAA');
    t.clock.advance(15 * 60_000 + 1);
    expect((await t.engine.work(t.clock.now())).reminders).toBe(1);
    const [breach] = (await t.store.timeline.read(id)).filter((e) => e.kind === 'sla.breached');
    expect(breach?.details).toMatchObject({ step: 'triage', commander: 'slack:U0AAA' });
  });

  it('no SLA breach for a step that completed in time', async () => {
    const t = testEngine();
    const { id } = await t.open();
    await t.engine.advance(id);
    await t.engine.tick(id, 'triage', 'looked', 'system');
    t.clock.advance(60 * 60_000);
    expect((await t.engine.work(t.clock.now())).reminders).toBe(0);
  });

  it('keeps a note with its original time and author, once per source message', async () => {
    const t = testEngine();
    const { id } = await t.open();
    const at = Date.parse('2026-11-25T14:05:00.000Z');
    await t.engine.note(id, 'slack:U1', 'pinned: saw it in the proxy logs', {
      at,
      source: 'slack:C1:1700000000.0001',
    });
    await t.engine.note(id, 'slack:U1', 'pinned: saw it in the proxy logs', {
      at,
      source: 'slack:C1:1700000000.0001',
    });
    const notes = (await t.store.timeline.read(id)).filter((e) => e.kind === 'note');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ at: '2026-11-25T14:05:00.000Z', actor: 'slack:U1' });
  });

  it('acknowledge makes the actor commander; a closed incident refuses further work', async () => {
    const t = testEngine();
    const { id } = await t.open();
    let inc = await t.engine.acknowledge(id, 'slack:U1');
    expect(inc).toMatchObject({ status: 'acknowledged', commander: 'slack:U1' });
    inc = await t.engine.close(id, 'slack:U1', 'false positive');
    expect(inc).toMatchObject({ status: 'closed', closeReason: 'false positive' });
    await expect(t.engine.tick(id, 'triage', 'looked', 'slack:U1')).rejects.toMatchObject({
      code: 'incident_closed',
    });
    expect(await t.store.incidents.byFingerprint(inc.fingerprint)).toBeUndefined();
  });
});
