import { formatDuration } from '../domain/duration.js';
import { foldedHostsLine } from '../domain/folded-hosts.js';
import { type ActionState, type Incident, type StepState, statusLabels } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';
import { type ComplicationResult, complicationsOf } from './complications.js';
import { type Milestone, milestonesOf, type StepRoles } from './milestones.js';
import type { LoadedScenario } from './scenario.js';

// The drill's verdict keeps apart two things a tabletop run can show:
//   played    — every step the playbook reached ran through (completed or skipped), none failed, none waits;
//   contained — a containment was verified: the incident became `contained`, which the engine only
//               sets once the required layers' verification passed. In a drill every change is a
//               dry-run, so with a cluster that is "contained (dry-run)": the server-side dry-run was
//               admitted and the verification evaluated the policies as they would be. With no cluster
//               nothing is applied or verified: not contained.
// The rule: PASSED = every expectation met, played, and contained (or containment not applicable: the
// containment step was skipped by its condition, or the playbook has none). PLAYED = every
// expectation met and played, but nothing was contained (exit 0: a tabletop run is not a failure).
// FAILED = otherwise. The score only reaches 100 when PASSED.

export interface Expectation {
  what: string;
  expected: string;
  actual: string;
  met: boolean;
}

/** Each action counted once, by its final state; the buckets sum to `total`. */
export interface ActionCounts {
  total: number;
  applied: number;
  appliedDryRun: number;
  /** Destructive actions planned and shown, never applied (no cluster, observe mode). */
  plannedOnly: number;
  /** Skipped because they did not apply: a condition, no mesh, a skipped step. */
  notApplicable: number;
  failed: number;
  /** Applied, then undone by a release. */
  reverted: number;
  /** Left pending, planned or applying when the drill stopped. */
  notRun: number;
  verifiedOk: number;
  verifiedIncomplete: number;
}

/** An action that failed (in a drill: would have failed), why, and what would fix it. */
export interface DrillFailure {
  step: string;
  action: string;
  code: string;
  message: string;
  fix?: string;
}

export type Containment = 'contained' | 'contained-dry-run' | 'not-contained' | 'not-applicable';

export interface Scorecard {
  scenario: string;
  expectations: Expectation[];
  /** Every incident the scenario opened, the scored one first (its distinct hosts, when folded). */
  incidents: { id: string; verdict: string; status: string; alerts: number; hosts?: string }[];
  steps: { id: string; status: string; reason?: string; result?: string }[];
  /** The moments of the response and any target times (from the timeline alone). */
  milestones: Milestone[];
  /** Steps skipped, with why. */
  skipped: { id: string; reason: string }[];
  failures: DrillFailure[];
  /** Each complication the scenario injects, and whether the drill met it. */
  complications: ComplicationResult[];
  actions: ActionCounts;
  played: boolean;
  containment: { state: Containment; why: string };
  /** From the first alert to the first status change to `contained`, when there was one. */
  timeToContainMs?: number;
  /** From the first alert to the last event. */
  durationMs: number;
  /** 0–100: 40 for expectations met, 30 for steps that ran through, 30 for containment. */
  score: number;
  verdict: 'passed' | 'played' | 'failed';
  passed: boolean;
}

function bucket(
  a: ActionState,
  step: StepState,
): keyof Omit<ActionCounts, 'total' | 'verifiedOk' | 'verifiedIncomplete'> {
  switch (a.status) {
    case 'applied':
    case 'verified':
      return a.dryRun ? 'appliedDryRun' : 'applied';
    case 'failed':
      return 'failed';
    case 'reverted':
      return 'reverted';
    case 'skipped':
      // A plan and no outcome: it was shown and never carried out. An outcome (no mesh) or no plan
      // (its condition did not hold): it did not apply.
      return a.plan !== undefined && a.outcome === undefined ? 'plannedOnly' : 'notApplicable';
    default:
      return step.status === 'skipped' ? 'notApplicable' : 'notRun';
  }
}

export function countActions(incident: Incident): ActionCounts {
  const counts: ActionCounts = {
    total: 0,
    applied: 0,
    appliedDryRun: 0,
    plannedOnly: 0,
    notApplicable: 0,
    failed: 0,
    reverted: 0,
    notRun: 0,
    verifiedOk: 0,
    verifiedIncomplete: 0,
  };
  for (const step of incident.steps) {
    for (const a of step.actions) {
      counts.total += 1;
      counts[bucket(a, step)] += 1;
      if (a.verification !== undefined) {
        if ((a.verification as { ok?: unknown }).ok === true) counts.verifiedOk += 1;
        else counts.verifiedIncomplete += 1;
      }
    }
  }
  return counts;
}

function containmentOf(
  incident: Incident,
  events: readonly TimelineEvent[],
  containStep: string | undefined,
): Scorecard['containment'] {
  const step = incident.steps.find((s) => s.id === containStep);
  if (!step) return { state: 'not-applicable', why: 'the playbook has no containment step' };
  if (step.status === 'skipped')
    return { state: 'not-applicable', why: `containment step skipped (${step.reason ?? 'its condition'})` };
  const event = events.find((e) => e.kind === 'status.changed' && e.details.to === 'contained');
  if (event) {
    // A drill is dry-run whatever happened since (a release reverts the actions it verified).
    const dry = incident.drill || step.actions.some((a) => a.dryRun && a.status === 'verified');
    return dry
      ? {
          state: 'contained-dry-run',
          why: `verified in a dry run (nothing was changed): ${step.result?.line ?? 'contained'}`,
        }
      : { state: 'contained', why: step.result?.line ?? 'verified' };
  }
  const why =
    step.status === 'completed'
      ? (step.result?.line ?? `status ${statusLabels[incident.status]}`)
      : `containment step ${step.status}${step.reason ? ` (${step.reason})` : ''}`;
  return { state: 'not-contained', why };
}

/**
 * Pure: the scorecard follows from the scenario, the final incident and its timeline. `containStep`:
 * the id of the playbook's `contain` step, when it has one.
 */
export function scoreDrill(
  loaded: LoadedScenario,
  incident: Incident,
  events: readonly TimelineEvent[],
  roles: StepRoles = {},
  /** Every incident the scenario's alerts opened, `incident` first. */
  opened: readonly Incident[] = [incident],
): Scorecard {
  const containStep = roles.contain;
  const { expect } = loaded.scenario;
  const expectations: Expectation[] = [];
  const check = (what: string, expected: string | undefined, actual: string) => {
    if (expected !== undefined) expectations.push({ what, expected, actual, met: expected === actual });
  };
  check('contract verdict', expect.verdict, incident.verdict.kind);
  check('playbook', expect.playbook, incident.playbook.id);
  check('final status', expect.status, incident.status);
  for (const stepId of expect.completed ?? []) {
    check(
      `step ${stepId}`,
      'completed',
      incident.steps.find((s) => s.id === stepId)?.status ?? 'not reached',
    );
  }
  for (const stepId of expect.skipped ?? []) {
    check(`step ${stepId}`, 'skipped', incident.steps.find((s) => s.id === stepId)?.status ?? 'not reached');
  }
  if (expect.incidents !== undefined)
    check('incidents opened', String(expect.incidents), String(opened.length));
  if (expect.distinct_hosts !== undefined) {
    const h = incident.hosts;
    check('distinct hosts', String(expect.distinct_hosts), h ? `${h.count}${h.capped ? '+' : ''}` : '0');
  }

  const t0 = Date.parse(incident.firstSeen);
  const contained = events.find((e) => e.kind === 'status.changed' && e.details.to === 'contained');
  const last = events.at(-1);
  const settled = incident.steps.filter((s) => s.status === 'completed' || s.status === 'skipped').length;
  const played = incident.steps.length > 0 && settled === incident.steps.length;
  const containment = containmentOf(incident, events, containStep);
  const containedOk = containment.state !== 'not-contained';
  const met = expectations.every((e) => e.met);
  const stepShare = incident.steps.length === 0 ? 0 : settled / incident.steps.length;
  const expectShare =
    expectations.length === 0 ? 1 : expectations.filter((e) => e.met).length / expectations.length;
  const verdict = !met || !played ? 'failed' : containedOk ? 'passed' : 'played';
  const scorecard: Scorecard = {
    scenario: loaded.scenario.id,
    expectations,
    incidents: opened.map((i) => {
      const hosts = foldedHostsLine(i.hosts);
      return {
        id: i.id,
        verdict: i.verdict.kind,
        status: i.status,
        alerts: i.count,
        ...(hosts ? { hosts } : {}),
      };
    }),
    steps: incident.steps.map((s) => ({
      id: s.id,
      status: s.status,
      ...(s.reason ? { reason: s.reason } : {}),
      ...(s.result ? { result: s.result.line } : {}),
    })),
    milestones: milestonesOf(incident, events, roles, loaded.scenario.targets),
    skipped: incident.steps
      .filter((s) => s.status === 'skipped')
      .map((s) => ({ id: s.id, reason: s.reason ?? 'skipped' })),
    failures: failuresOf(incident),
    complications: complicationsOf(loaded.scenario, incident, events),
    actions: countActions(incident),
    played,
    containment,
    durationMs: last ? Date.parse(last.at) - t0 : 0,
    score: Math.round(40 * expectShare + 30 * stepShare + (containedOk ? 30 : 0)),
    verdict,
    passed: verdict === 'passed',
  };
  if (contained) scorecard.timeToContainMs = Date.parse(contained.at) - t0;
  return scorecard;
}

function failuresOf(incident: Incident): DrillFailure[] {
  return incident.steps.flatMap((step) =>
    step.actions
      .filter((a) => a.status === 'failed' && a.error)
      .map((a) => ({
        step: step.id,
        action: a.uses,
        code: a.error!.code,
        message: a.error!.message,
        ...(a.error!.fix ? { fix: a.error!.fix } : {}),
      })),
  );
}

const verdictText = { passed: 'PASSED', played: 'PLAYED, NOT CONTAINED', failed: 'FAILED' } as const;
const containmentText: Record<Containment, string> = {
  contained: 'yes',
  'contained-dry-run': 'in dry-run',
  'not-contained': 'no',
  'not-applicable': 'not applicable',
};

export function renderScorecard(card: Scorecard, incident: Incident): string {
  const a = card.actions;
  const counts = [
    `${a.applied} applied`,
    `${a.appliedDryRun} applied (dry-run)`,
    `${a.plannedOnly} planned only`,
    `${a.notApplicable} skipped (not applicable)`,
    `${a.failed} failed`,
    ...(a.reverted > 0 ? [`${a.reverted} reverted`] : []),
    ...(a.notRun > 0 ? [`${a.notRun} not run`] : []),
  ];
  const toContain =
    card.timeToContainMs === undefined
      ? 'not contained'
      : `${formatDuration(card.timeToContainMs)}${card.containment.state === 'contained-dry-run' ? ' (dry-run)' : ''}`;
  const lines = [
    `Drill scorecard: ${card.scenario} — ${verdictText[card.verdict]} (score ${card.score}/100)`,
    `  played: ${card.played ? 'yes, every step ran through' : 'no, a step failed or still waits'}`,
    `  contained: ${containmentText[card.containment.state]} — ${card.containment.why}`,
    `  incident ${incident.id}: ${statusLabels[incident.status]}, verdict ${incident.verdict.kind}, ${incident.count} alert(s)`,
    ...(card.incidents[0]?.hosts ? [`    ${card.incidents[0].hosts}`] : []),
    ...(card.incidents.length > 1
      ? [
          `  incidents opened by the scenario: ${card.incidents.length}`,
          ...card.incidents
            .slice(1)
            .map(
              (i) =>
                `    - ${i.id}: ${i.status}, verdict ${i.verdict}, ${i.alerts} alert(s)${i.hosts ? `; ${i.hosts}` : ''}`,
            ),
        ]
      : []),
    '  steps:',
    ...card.steps.map(
      (s) =>
        `    - ${s.id}: ${s.status}${s.result ? ` — ${s.result}` : ''}${s.reason ? ` (${s.reason})` : ''}`,
    ),
    `  actions (${a.total}, each by its final state): ${counts.join(', ')}; verifications ${a.verifiedOk} ok, ${a.verifiedIncomplete} incomplete`,
    `  time to contain: ${toContain}; drill took ${formatDuration(card.durationMs)}`,
    ...milestoneLines(card.milestones),
    ...(card.skipped.length > 0
      ? [`  steps skipped: ${card.skipped.map((s) => `${s.id} (${s.reason})`).join(', ')}`]
      : []),
    ...failureLines(card),
    ...(card.complications.length > 0
      ? [
          '  complications injected:',
          ...card.complications.map((c) => `    - ${c.what}: ${c.state} — ${c.detail}`),
        ]
      : []),
    '  rule: PASSED = expectations met, every step ran through and containment verified (a dry-run verification, server-side or on a snapshot, counts as contained in dry-run); PLAYED = ran through, nothing contained; FAILED = otherwise',
  ];
  if (card.expectations.length > 0) {
    lines.push('  expectations:');
    for (const e of card.expectations) {
      lines.push(`    ${e.met ? '✓' : '✗'} ${e.what}: expected ${e.expected}, got ${e.actual}`);
    }
  }
  return lines.join('\n');
}

function milestoneLines(milestones: readonly Milestone[]): string[] {
  const targets = milestones.filter((m) => m.targetMs !== undefined);
  const lines = ['  milestones (from the first alert):'];
  for (const m of milestones) {
    const time =
      m.ms === undefined
        ? (m.note ?? 'not reached')
        : `${formatDuration(m.ms)}${m.note ? ` (${m.note})` : ''}`;
    const target =
      m.targetMs === undefined ? '' : ` — target ${formatDuration(m.targetMs)}: ${m.met ? 'met' : 'missed'}`;
    lines.push(`    - ${m.label}: ${time}${target}`);
  }
  if (targets.length > 0)
    lines.push(`  targets: ${targets.filter((m) => m.met).length} of ${targets.length} met`);
  return lines;
}

function failureLines(card: Scorecard): string[] {
  if (card.failures.length === 0) return [];
  const what =
    card.actions.appliedDryRun > 0 || card.actions.plannedOnly > 0 ? 'would have failed' : 'failed';
  return [
    `  actions that ${what}:`,
    ...card.failures.map(
      (f) => `    - ${f.step} / ${f.action}: ${f.message}${f.fix ? `\n      fix: ${f.fix}` : ''}`,
    ),
  ];
}
