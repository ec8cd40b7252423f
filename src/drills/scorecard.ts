import { formatDuration } from '../domain/duration.js';
import { type Incident, statusLabels } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { LoadedScenario } from './scenario.js';

export interface Expectation {
  what: string;
  expected: string;
  actual: string;
  met: boolean;
}

export interface Scorecard {
  scenario: string;
  expectations: Expectation[];
  steps: { id: string; status: string; reason?: string }[];
  actions: Record<'planned' | 'applied' | 'skipped' | 'failed' | 'verifiedOk' | 'verifiedIncomplete', number>;
  /** From the first alert to the first status change to `contained`, when there was one. */
  timeToContainMs?: number;
  /** From the first alert to the last event. */
  durationMs: number;
  /** 0–100: half for expectations met, half for steps that settled without failing. */
  score: number;
  passed: boolean;
}

const countKinds = {
  planned: 'action.planned',
  applied: 'action.applied',
  skipped: 'action.skipped',
  failed: 'action.failed',
} as const;

/** Pure: the scorecard follows from the scenario, the final incident and its timeline. */
export function scoreDrill(
  loaded: LoadedScenario,
  incident: Incident,
  events: readonly TimelineEvent[],
): Scorecard {
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

  const verifications = incident.steps.flatMap((s) => s.actions).filter((a) => a.verification !== undefined);
  const okCount = verifications.filter((a) => (a.verification as { ok?: boolean }).ok === true).length;
  const actions = {
    ...(Object.fromEntries(
      Object.entries(countKinds).map(([k, kind]) => [k, events.filter((e) => e.kind === kind).length]),
    ) as Record<keyof typeof countKinds, number>),
    verifiedOk: okCount,
    verifiedIncomplete: verifications.length - okCount,
  };

  const t0 = Date.parse(incident.firstSeen);
  const contained = events.find((e) => e.kind === 'status.changed' && e.details.to === 'contained');
  const last = events.at(-1);
  const settled = incident.steps.filter((s) => s.status === 'completed' || s.status === 'skipped').length;
  const stepShare = incident.steps.length === 0 ? 0 : settled / incident.steps.length;
  const expectShare =
    expectations.length === 0 ? 1 : expectations.filter((e) => e.met).length / expectations.length;
  const scorecard: Scorecard = {
    scenario: loaded.scenario.id,
    expectations,
    steps: incident.steps.map((s) =>
      s.reason ? { id: s.id, status: s.status, reason: s.reason } : { id: s.id, status: s.status },
    ),
    actions,
    durationMs: last ? Date.parse(last.at) - t0 : 0,
    score: Math.round(50 * expectShare + 50 * stepShare),
    passed: expectations.every((e) => e.met) && incident.steps.every((s) => s.status !== 'failed'),
  };
  if (contained) scorecard.timeToContainMs = Date.parse(contained.at) - t0;
  return scorecard;
}

export function renderScorecard(card: Scorecard, incident: Incident): string {
  const lines = [
    `Drill scorecard: ${card.scenario} — ${card.passed ? 'PASSED' : 'FAILED'} (score ${card.score}/100)`,
    `  incident ${incident.id}: ${statusLabels[incident.status]}, verdict ${incident.verdict.kind}, ${incident.count} alert(s)`,
    '  steps:',
    ...card.steps.map((s) => `    - ${s.id}: ${s.status}${s.reason ? ` (${s.reason})` : ''}`),
    `  actions: ${card.actions.planned} planned, ${card.actions.applied} applied (dry-run), ${card.actions.skipped} skipped, ${card.actions.failed} failed; verifications ${card.actions.verifiedOk} ok, ${card.actions.verifiedIncomplete} incomplete`,
    `  time to contain: ${card.timeToContainMs === undefined ? 'not contained' : formatDuration(card.timeToContainMs)}; drill took ${formatDuration(card.durationMs)}`,
  ];
  if (card.expectations.length > 0) {
    lines.push('  expectations:');
    for (const e of card.expectations) {
      lines.push(`    ${e.met ? '✓' : '✗'} ${e.what}: expected ${e.expected}, got ${e.actual}`);
    }
  }
  return lines.join('\n');
}
