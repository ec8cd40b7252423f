import type { StepState } from '../../../src/domain/incident.js';
import type { TimelineEvent } from '../../../src/domain/timeline.js';
import { milestonesOf } from '../../../src/drills/milestones.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';

// Milestones are read from the timeline alone, from the first alert; a missing one says why instead
// of showing a time, and a target is met only when the moment was reached within it.

const T0 = Date.parse('2026-11-25T14:03:12.123Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const roles = { triage: 'triage', contain: 'contain', rotate: 'rotate' };
const step = (id: string, status: StepState['status'], over: Partial<StepState> = {}): StepState => ({
  id,
  status,
  checklist: {},
  approvals: [],
  actions: [],
  ...over,
});
let n = 0;
const ev = (s: number, kind: TimelineEvent['kind'], details: TimelineEvent['details'] = {}) =>
  aTimelineEvent({ id: `e${n++}`, at: at(s), kind, details });

const incident = (steps: StepState[]) => anIncident({ firstSeen: at(0), steps });

it('soft mode: each moment from its event; the decision is the confirmation', () => {
  const events = [
    ev(0, 'incident.opened'),
    ev(20, 'status.changed', { to: 'acknowledged' }),
    ev(45, 'step.completed', { step: 'triage' }),
    ev(90, 'confirmation.given', { step: 'contain' }),
    ev(91, 'action.applying', { step: 'contain' }),
    ev(95, 'status.changed', { to: 'contained' }),
    ev(300, 'step.completed', { step: 'rotate' }),
  ];
  const ms = milestonesOf(incident([]), events, roles, { decision: 60_000, rotate: 600_000 });
  expect(ms.map((m) => [m.name, m.ms, m.met])).toEqual([
    ['acknowledge', 20_000, undefined],
    ['triage', 45_000, undefined],
    ['decision', 90_000, false],
    ['contain', 95_000, undefined],
    ['rotate', 300_000, true],
  ]);
  expect(ms.find((m) => m.name === 'decision')!.note).toBeUndefined();
});

it('hard mode: nobody was asked, and the note says so', () => {
  const events = [ev(0, 'incident.opened'), ev(3, 'action.applying', { step: 'contain' })];
  const decision = milestonesOf(incident([]), events, roles).find((m) => m.name === 'decision')!;
  expect(decision).toMatchObject({ ms: 3000, note: 'hard mode: applied without asking' });
});

it('a release approval is not the containment decision', () => {
  const events = [ev(0, 'incident.opened'), ev(9, 'approval.granted', { step: 'contain', release: true })];
  expect(milestonesOf(incident([]), events, roles).find((m) => m.name === 'decision')!.ms).toBeUndefined();
});

it('missing moments say why; a target on one is missed, never met', () => {
  const inc = incident([
    step('rotate', 'skipped', { reason: 'verdict is allowed' }),
    step('contain', 'skipped'),
  ]);
  const ms = milestonesOf(
    inc,
    [ev(0, 'incident.opened')],
    { triage: 'triage', contain: 'contain' },
    { contain: 1 },
  );
  const by = Object.fromEntries(ms.map((m) => [m.name, m]));
  expect(by.acknowledge).toMatchObject({ note: 'not reached' });
  expect(by.triage).toMatchObject({ note: 'not reached' });
  expect(by.decision).toMatchObject({ note: 'step skipped' });
  expect(by.contain).toMatchObject({ note: 'step skipped', targetMs: 1, met: false });
  expect(by.rotate).toMatchObject({ note: 'the playbook has no such step' });
  for (const m of ms) expect(m.ms).toBeUndefined();
});

it('a target on a step id times that step; odd ids are just ids', () => {
  const inc = incident([step('evidence', 'completed'), step('constructor', 'skipped')]);
  const events = [ev(0, 'incident.opened'), ev(120, 'step.completed', { step: 'evidence' })];
  const ms = milestonesOf(inc, events, roles, { evidence: 60_000, constructor: 1000 });
  expect(ms.slice(5)).toEqual([
    { name: 'evidence', label: 'time to step evidence', ms: 120_000, targetMs: 60_000, met: false },
    {
      name: 'constructor',
      label: 'time to step constructor',
      note: 'step skipped',
      targetMs: 1000,
      met: false,
    },
  ]);
});
