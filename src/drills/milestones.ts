import type { Incident } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';

// When a drill reached the moments a facilitator asks about, read from the timeline alone (so the
// scorecard cannot disagree with the export): each time is from the first alert. Pure.

/** The moments of a response, in the order they happen. */
export const milestoneNames = ['acknowledge', 'triage', 'decision', 'contain', 'rotate'] as const;
export type MilestoneName = (typeof milestoneNames)[number];

const milestoneLabels: Record<MilestoneName, string> = {
  acknowledge: 'time to acknowledge',
  triage: 'time to triage verdict',
  decision: 'time to containment decision',
  contain: 'time to contain',
  rotate: 'time to rotation',
};

/** The step ids of the playbook's roles (from the engine's stepFor), where it has them. */
export interface StepRoles {
  triage?: string;
  contain?: string;
  rotate?: string;
}

export interface Milestone {
  /** A milestone name, or a step id (time to that step's completion). */
  name: string;
  label: string;
  /** From the first alert; absent when it never happened. */
  ms?: number;
  /** Why it has no time, or what it was (e.g. "hard mode: no decision asked"). */
  note?: string;
  targetMs?: number;
  /** Only when there is a target: met = reached within it. */
  met?: boolean;
}

const ofStep = (kind: TimelineEvent['kind'], step: string | undefined) => (e: TimelineEvent) =>
  step !== undefined && e.kind === kind && e.details.step === step;

/** The event that marks each milestone (the first one, in timeline order). */
function finders(roles: StepRoles): Record<MilestoneName, (e: TimelineEvent) => boolean> {
  return {
    acknowledge: (e) => e.kind === 'status.changed' && e.details.to === 'acknowledged',
    triage: ofStep('step.completed', roles.triage),
    // A person confirmed the preview or approved it; in hard mode nobody is asked, and the first
    // destructive apply is when the decision was taken (by the playbook).
    decision: (e) =>
      (e.kind === 'confirmation.given' || e.kind === 'approval.granted' || e.kind === 'action.applying') &&
      roles.contain !== undefined &&
      e.details.step === roles.contain &&
      e.details.release !== true,
    contain: (e) => e.kind === 'status.changed' && e.details.to === 'contained',
    rotate: ofStep('step.completed', roles.rotate),
  };
}

function note(
  name: MilestoneName,
  roles: StepRoles,
  incident: Incident,
  found?: TimelineEvent,
): string | undefined {
  if (name === 'decision' && found?.kind === 'action.applying') return 'hard mode: applied without asking';
  if (found) return undefined;
  const role = name === 'acknowledge' || name === 'decision' ? undefined : roles[name];
  if (name !== 'acknowledge' && name !== 'decision' && role === undefined)
    return 'the playbook has no such step';
  const step = incident.steps.find((s) => s.id === (name === 'decision' ? roles.contain : role));
  if (step?.status === 'skipped') return `step skipped${step.reason ? ` (${step.reason})` : ''}`;
  return 'not reached';
}

/**
 * The milestones and any per-step targets of the scenario (`targets: { contain: 15m, evidence: 20m }`:
 * a milestone name or a step id → the longest it may take from the first alert).
 */
export function milestonesOf(
  incident: Incident,
  events: readonly TimelineEvent[],
  roles: StepRoles,
  targets: Readonly<Record<string, number>> = {},
): Milestone[] {
  const t0 = Date.parse(incident.firstSeen);
  const find = finders(roles);
  const out: Milestone[] = milestoneNames.map((name) => {
    const found = events.find(find[name]);
    const n = note(name, roles, incident, found);
    return {
      name,
      label: milestoneLabels[name],
      ...(found ? { ms: Math.max(0, Date.parse(found.at) - t0) } : {}),
      ...(n ? { note: n } : {}),
    };
  });
  for (const stepId of Object.keys(targets).filter(
    (k) => !(milestoneNames as readonly string[]).includes(k),
  )) {
    const found = events.find(ofStep('step.completed', stepId));
    const state = incident.steps.find((s) => s.id === stepId);
    out.push({
      name: stepId,
      label: `time to step ${stepId}`,
      ...(found ? { ms: Math.max(0, Date.parse(found.at) - t0) } : {}),
      ...(found ? {} : { note: state?.status === 'skipped' ? 'step skipped' : 'not completed' }),
    });
  }
  return out.map((m) => {
    const targetMs = targets[m.name];
    return targetMs === undefined ? m : { ...m, targetMs, met: m.ms !== undefined && m.ms <= targetMs };
  });
}
