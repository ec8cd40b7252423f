import { randomBytes } from 'node:crypto';
import { formatDuration } from '../domain/duration.js';
import type { Incident, StepState } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { Engine } from '../engine/engine.js';
import { type AlertRecorderDeps, type AlertResult, recordAlerts } from '../incidents/record-alerts.js';
import type { ParseOptions } from '../intake/parse.js';
import type { Step } from '../playbooks/schema.js';
import { isDrillClock } from './clock.js';
import type { LoadedScenario } from './scenario.js';
import { type Scorecard, scoreDrill } from './scorecard.js';
import { batchesOf, parseWave, type Wave, wavesOf } from './waves.js';

export interface DrillOptions {
  parse: Omit<ParseOptions, 'receivedAt'>;
  /** Upper bound on pilot rounds, so a playbook that never settles cannot loop forever. */
  maxRounds?: number;
  /** Who answers for people: stand-ins by default (--auto), a facilitator at a prompt (--interactive). */
  facilitator?: Facilitator;
}

export interface DrillReport {
  incident: Incident;
  events: TimelineEvent[];
  intake: AlertResult[];
  /** Every incident the scenario's alerts opened, the first one first, each played to its end. */
  incidents: Incident[];
  /** When each wave of alerts arrived (drill time from the first alert) and what became of it. */
  waves: { at: string; afterMs: number; deliveredMs: number; note?: string; alerts: number }[];
  scorecard: Scorecard;
}

export const DRILL_RESPONDER = 'drill:responder';
const DRILL_APPROVERS = [
  'drill:approver-1',
  'drill:approver-2',
  'drill:approver-3',
  'drill:approver-4',
  'drill:approver-5',
];

/**
 * Run a scenario through the real intake and the real playbook, every action as a dry-run, with the
 * manual steps answered by stand-in people (ticks, confirmations, approvals from distinct approvers).
 */
export async function runDrill(
  core: { engine: Engine; recorder: AlertRecorderDeps },
  loaded: LoadedScenario,
  opts: DrillOptions,
): Promise<DrillReport> {
  const { engine, recorder } = core;
  const { scenario } = loaded;
  const clock = recorder.clock;
  // A drill happens now, whatever time the scenario's payloads were captured at.
  const t0 = clock.now();
  // Its own fingerprint space: never folds into (or takes in) a real incident, and a replay is a new drill.
  const drillRun = `${scenario.id}-${t0.toString(36)}-${randomBytes(3).toString('hex')}`;
  const intake: AlertResult[] = [];
  const waves: DrillReport['waves'] = [];
  const deliver = async (wave: Wave): Promise<void> => {
    // The drill clock moves to the wave's time; a real clock (people answering) is where it is.
    if (isDrillClock(clock)) clock.advanceTo(t0 + wave.afterMs);
    const now = clock.now();
    const { alerts, format, issues } = parseWave(wave, { ...opts.parse, receivedAt: now });
    if (issues.length > 0) {
      throw new Error(
        `scenario ${scenario.id}: ${wave.at}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      );
    }
    let sent = 0;
    for (const batch of batchesOf(wave, alerts, new Date(now).toISOString(), format ?? 'egress-event')) {
      // One lane: the distinct hosts' sample reads in the order the scenario sends them.
      intake.push(...(await recordAlerts(recorder, batch, { drill: true, drillRun, concurrency: 1 })));
      sent += batch.alerts.length;
    }
    waves.push({
      at: wave.at,
      afterMs: wave.afterMs,
      deliveredMs: now - t0,
      ...(wave.note ? { note: wave.note } : {}),
      alerts: sent,
    });
  };
  const [first, ...later] = wavesOf(scenario);
  await deliver(first!);
  const id = intake.find((r) => r.id !== null)?.id;
  if (!id)
    throw new Error(
      `scenario ${scenario.id} opened no incident (its alerts were all resolved or duplicates)`,
    );

  // Follow-ups arrive while their step waits for people (by default the first step that waits);
  // any whose step is never reached arrive once the playbook is done.
  const pending = [...later];
  let waited = false;
  const onWaiting = async (stepId: string): Promise<void> => {
    const due = pending.filter((w) => w.during === stepId || (w.during === undefined && !waited));
    waited = true;
    for (const wave of due) {
      pending.splice(pending.indexOf(wave), 1);
      await deliver(wave);
    }
  };
  const facilitator = opts.facilitator ?? standIns;
  let incident = await autopilot(engine, id, opts.maxRounds ?? 50, onWaiting, facilitator);
  for (const wave of pending.splice(0)) await deliver(wave);
  if (waves.length > 1) incident = await autopilot(engine, id, opts.maxRounds ?? 50, undefined, facilitator);
  const others: Incident[] = [];
  for (const other of new Set(intake.map((r) => r.id))) {
    if (other !== null && other !== id)
      others.push(await autopilot(engine, other, opts.maxRounds ?? 50, undefined, facilitator));
  }
  const events = await engine.timeline(id);
  const roles = {
    triage: engine.stepFor(incident, 'triage')?.id,
    contain: engine.stepFor(incident, 'contain')?.id,
    rotate: engine.stepFor(incident, 'rotate')?.id,
  };
  const incidents = [incident, ...others];
  return {
    incident,
    events,
    intake,
    incidents,
    waves,
    scorecard: scoreDrill(loaded, incident, events, roles, incidents),
  };
}

/**
 * Drive an incident to the end of its playbook as stand-in people would: tick checklists, confirm
 * previews, approve with distinct approvers (never the requester). Stops when nothing waits, a step
 * fails, or after `maxRounds`.
 */
export async function autopilot(
  engine: Engine,
  id: string,
  maxRounds = 50,
  /** Called each time a step waits for people, before they answer (a drill's follow-up alerts). */
  onWaiting?: (stepId: string) => Promise<void>,
  facilitator: Facilitator = standIns,
): Promise<Incident> {
  let incident = await engine.get(id);
  for (let round = 0; round < maxRounds; round++) {
    incident = await engine.advance(id, { actor: 'drill' });
    const waiting = incident.steps.find((s) => s.status.startsWith('awaiting_'));
    if (!waiting) break;
    const step = engine.stepOf(incident, waiting.id);
    if (!step) break;
    await onWaiting?.(waiting.id);
    const answer = await facilitator.answer({ incident, step, state: waiting });
    if (answer.kind === 'stop') break;
    if (answer.kind === 'tick') {
      for (const item of answer.items) incident = await engine.tick(id, step.id, item, answer.by);
    } else if (answer.kind === 'confirm') {
      incident = await engine.confirm(id, step.id, answer.by);
    } else {
      incident = await engine.decide(id, step.id, answer.by, answer.kind);
    }
  }
  return incident;
}

/** What a step that waits for people is shown as, to whoever answers for them. */
export interface WaitingStep {
  incident: Incident;
  step: Step;
  state: StepState;
}

/** An answer to a waiting step, in the words of the engine's commands. */
export type FacilitatorAnswer =
  | { kind: 'tick'; items: string[]; by: string }
  | { kind: 'confirm'; by: string }
  | { kind: 'approve' | 'deny'; by: string }
  /** Nobody answers: the drill ends here (the scorecard says the step still waits). */
  | { kind: 'stop' };

/** Who answers checklists, confirmations and approvals in a drill: stand-ins (--auto) or a person. */
export interface Facilitator {
  answer(waiting: WaitingStep): Promise<FacilitatorAnswer>;
}

/** Stand-in people: tick everything, confirm, approve with a distinct approver (never the requester). */
export const standIns: Facilitator = {
  async answer({ step, state }) {
    if (state.status === 'awaiting_input')
      return {
        kind: 'tick',
        items: step.checklist.filter((i) => !state.checklist[i.id]).map((i) => i.id),
        by: DRILL_RESPONDER,
      };
    if (state.status === 'awaiting_confirmation') return { kind: 'confirm', by: DRILL_RESPONDER };
    const decided = new Set(state.approvals.map((a) => a.by));
    const approver = DRILL_APPROVERS.find((a) => !decided.has(a) && a !== state.requestedBy);
    return approver ? { kind: 'approve', by: approver } : { kind: 'stop' };
  },
};

/** The waves of alerts as they arrived, in drill time from the first alert. */
export function renderWaves(waves: DrillReport['waves']): string {
  return [
    'Alerts as the scenario sent them (drill time from the first alert):',
    ...waves.map(
      (w) =>
        `  - T+${formatDuration(w.deliveredMs)} ${w.at}: ${w.alerts} alert(s)${w.note ? ` — ${w.note}` : ''}${w.deliveredMs - w.afterMs >= 1000 ? ` (due at T+${formatDuration(w.afterMs)}; the drill was past it)` : ''}`,
    ),
    '',
  ].join('\n');
}
