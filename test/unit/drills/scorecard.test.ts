import type { ActionState, Incident, StepState } from '../../../src/domain/incident.js';
import type { TimelineEvent } from '../../../src/domain/timeline.js';
import type { LoadedScenario } from '../../../src/drills/scenario.js';
import { renderScorecard, scoreDrill } from '../../../src/drills/scorecard.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';

// The scorecard keeps "played" (the steps ran through) apart from "contained" (a verified
// containment), and counts each action once by its final state.

const AT = '2026-11-25T14:03:12.123Z';
const LATER = '2026-11-25T14:03:42.123Z';

const scenario: LoadedScenario = {
  file: 'drills/x.yaml',
  scenario: {
    id: 'x',
    title: 'X',
    alert: {},
    repeats: 0,
    later: [],
    targets: {},
    expect: { completed: ['triage', 'contain'] },
  },
};

function action(key: string, over: Partial<ActionState> = {}): ActionState {
  return { key, uses: key, status: 'pending', dryRun: true, attempts: 0, updatedAt: AT, ...over };
}
const plan = { summary: 'a plan', changes: true, data: {} };
const plannedOnly = (key: string) =>
  action(key, { status: 'skipped', plan, reason: 'no cluster configured: planned only' });
const verified = (key: string, ok = true) =>
  action(key, {
    status: 'verified',
    plan,
    attempts: 1,
    outcome: { status: 'applied', summary: 'done', data: {} },
    verification: { ok, line: ok ? 'Verification: contained' : 'Verification: incomplete', data: {} },
  });

function step(
  id: string,
  status: StepState['status'],
  actions: ActionState[],
  over: Partial<StepState> = {},
): StepState {
  return { id, status, checklist: {}, approvals: [], actions, ...over };
}

const triage = step('triage', 'completed', [
  action('triage.contract-verdict', {
    status: 'applied',
    plan,
    outcome: { status: 'applied', summary: 'violation', data: {} },
  }),
]);

function events(extra: Partial<TimelineEvent>[] = []): TimelineEvent[] {
  return [
    aTimelineEvent({ kind: 'incident.opened', at: AT }),
    ...extra.map((e, i) => aTimelineEvent({ id: `e${i}`, at: LATER, ...e })),
  ];
}

describe('drill scorecard', () => {
  it('no cluster: played, not contained; never PASSED and never 100; each action counted once', () => {
    const incident: Incident = anIncident({
      drill: true,
      steps: [
        triage,
        step(
          'contain',
          'completed',
          [plannedOnly('k8s.quarantine'), plannedOnly('k8s.deny-egress'), plannedOnly('k8s.l7-deny')],
          {
            result: { state: 'planned_only', line: 'planned only — nothing applied (no cluster configured)' },
          },
        ),
      ],
    });
    // The timeline has a planned and a skipped event per action: neither counts an action twice.
    const evs = events(
      incident.steps[1]!.actions.flatMap((a) => [
        { kind: 'action.planned' as const, summary: `${a.uses} planned` },
        { kind: 'action.skipped' as const, summary: `${a.uses} not applied` },
      ]),
    );
    const card = scoreDrill(scenario, incident, evs, { contain: 'contain' });
    expect(card.played).toBe(true);
    expect(card.containment).toEqual({
      state: 'not-contained',
      why: 'planned only — nothing applied (no cluster configured)',
    });
    expect(card.verdict).toBe('played');
    expect(card.passed).toBe(false);
    expect(card.score).toBe(70);
    expect(card.timeToContainMs).toBeUndefined();
    expect(card.actions).toMatchObject({
      total: 4,
      applied: 0,
      appliedDryRun: 1,
      plannedOnly: 3,
      notApplicable: 0,
      failed: 0,
    });
    const text = renderScorecard(card, incident);
    expect(text).toContain('Drill scorecard: x — PLAYED, NOT CONTAINED (score 70/100)');
    expect(text).toContain('time to contain: not contained');
    expect(text).toContain(
      'actions (4, each by its final state): 0 applied, 1 applied (dry-run), 3 planned only, 0 skipped (not applicable), 0 failed',
    );
  });

  it('a server-side dry-run verified containment: contained in dry-run, PASSED at 100', () => {
    const incident = anIncident({
      drill: true,
      status: 'contained',
      steps: [
        triage,
        step(
          'contain',
          'completed',
          [
            verified('k8s.deny-egress'),
            action('k8s.l7-deny', {
              status: 'skipped',
              plan,
              outcome: { status: 'skipped', summary: 'no mesh', data: {} },
              reason: 'no mesh',
            }),
          ],
          {
            result: { state: 'applied', line: 'contained at L3/L4 (verified, dry-run); L7: no mesh' },
          },
        ),
      ],
    });
    const evs = events([{ kind: 'status.changed', details: { from: 'open', to: 'contained' } }]);
    const card = scoreDrill(scenario, incident, evs, { contain: 'contain' });
    expect(card.containment.state).toBe('contained-dry-run');
    expect(card.verdict).toBe('passed');
    expect(card.score).toBe(100);
    expect(card.timeToContainMs).toBe(30_000);
    expect(card.actions).toMatchObject({ total: 3, appliedDryRun: 2, notApplicable: 1, verifiedOk: 1 });
    const text = renderScorecard(card, incident);
    expect(text).toContain('— PASSED (score 100/100)');
    expect(text).toContain(
      'contained: in dry-run — verified in a dry run (nothing was changed): contained at L3/L4 (verified, dry-run); L7: no mesh',
    );
    expect(text).toContain('time to contain: 00:00:30.000 (dry-run)');
  });

  it('a verification that stays incomplete is not contained even though every step completed', () => {
    const incident = anIncident({
      status: 'containment_incomplete',
      steps: [
        triage,
        step('contain', 'completed', [verified('k8s.deny-egress', false)], {
          result: { state: 'applied', line: 'not contained at L3/L4 (verification: incomplete)' },
        }),
      ],
    });
    const card = scoreDrill(scenario, incident, events(), { contain: 'contain' });
    expect([card.played, card.containment.state, card.verdict]).toEqual([true, 'not-contained', 'played']);
    expect(card.actions).toMatchObject({ verifiedOk: 0, verifiedIncomplete: 1 });
  });

  it('containment skipped by its condition is not applicable: PASSED without a time to contain', () => {
    const incident = anIncident({
      steps: [
        triage,
        step('contain', 'skipped', [action('k8s.quarantine'), action('k8s.deny-egress')], {
          reason: 'verdict is allowed',
        }),
      ],
    });
    const card = scoreDrill(
      { ...scenario, scenario: { ...scenario.scenario, expect: {} } },
      incident,
      events(),
      { contain: 'contain' },
    );
    expect(card.containment).toEqual({
      state: 'not-applicable',
      why: 'containment step skipped (verdict is allowed)',
    });
    expect(card.verdict).toBe('passed');
    // Actions of a skipped step did not apply: counted as such, once.
    expect(card.actions).toMatchObject({ total: 3, notApplicable: 2 });
  });

  it('a failed step fails the drill; the buckets still sum to the total', () => {
    const incident = anIncident({
      steps: [
        triage,
        step('contain', 'failed', [
          action('k8s.quarantine', {
            status: 'failed',
            plan,
            error: { code: 'k8s_forbidden', message: 'no' },
          }),
          action('k8s.deny-egress', { status: 'planned', plan }),
          action('note.add', { status: 'skipped', reason: 'mode is observe' }),
        ]),
      ],
    });
    const card = scoreDrill(scenario, incident, events(), { contain: 'contain' });
    expect([card.played, card.verdict, card.passed]).toEqual([false, 'failed', false]);
    const a = card.actions;
    expect(a).toMatchObject({ total: 4, failed: 1, notRun: 1, notApplicable: 1, appliedDryRun: 1 });
    expect(
      a.applied + a.appliedDryRun + a.plannedOnly + a.notApplicable + a.failed + a.reverted + a.notRun,
    ).toBe(a.total);
    expect(renderScorecard(card, incident)).toContain('— FAILED');
  });
});
