import type { EgressAlert } from '../domain/alert.js';
import type { Incident } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { Engine } from '../engine/engine.js';
import { type AlertRecorderDeps, type AlertResult, recordAlerts } from '../incidents/record-alerts.js';
import { type ParseOptions, parseAlertBody } from '../intake/parse.js';
import type { LoadedScenario } from './scenario.js';
import { type Scorecard, scoreDrill } from './scorecard.js';

export interface DrillOptions {
  parse: Omit<ParseOptions, 'receivedAt'>;
  /** Upper bound on pilot rounds, so a playbook that never settles cannot loop forever. */
  maxRounds?: number;
}

export interface DrillReport {
  incident: Incident;
  events: TimelineEvent[];
  intake: AlertResult[];
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
  const body = JSON.stringify(scenario.alert);
  const now = recorder.clock.now();
  const parsed = parseAlertBody(body, 'application/json', { ...opts.parse, receivedAt: now });
  // A drill happens now, whatever time the scenario's payload was captured at.
  const stamp = new Date(now).toISOString();
  const stamped = (alerts: EgressAlert[]) => ({
    format: parsed.format,
    alerts,
    items: alerts.map((alert, index) => ({ index, at: `[${index}]`, alert })),
  });
  const batch = stamped(parsed.alerts.map((a) => ({ ...a, firstSeen: stamp, lastSeen: stamp })));
  const intake = await recordAlerts(recorder, batch, { drill: true });
  for (let i = 1; i <= scenario.repeats; i++) {
    intake.push(
      ...(await recordAlerts(recorder, stamped(batch.alerts.map((a) => asRepeat(a, i))), { drill: true })),
    );
  }
  const id = intake.find((r) => r.id !== null)?.id;
  if (!id)
    throw new Error(
      `scenario ${scenario.id} opened no incident (its alerts were all resolved or duplicates)`,
    );

  const incident = await autopilot(engine, id, opts.maxRounds ?? 50);
  const events = await engine.timeline(id);
  const roles = {
    triage: engine.stepFor(incident, 'triage')?.id,
    contain: engine.stepFor(incident, 'contain')?.id,
    rotate: engine.stepFor(incident, 'rotate')?.id,
  };
  return { incident, events, intake, scorecard: scoreDrill(loaded, incident, events, roles) };
}

/**
 * Drive an incident to the end of its playbook as stand-in people would: tick checklists, confirm
 * previews, approve with distinct approvers (never the requester). Stops when nothing waits, a step
 * fails, or after `maxRounds`.
 */
export async function autopilot(engine: Engine, id: string, maxRounds = 50): Promise<Incident> {
  let incident = await engine.get(id);
  for (let round = 0; round < maxRounds; round++) {
    incident = await engine.advance(id, { actor: 'drill' });
    const waiting = incident.steps.find((s) => s.status.startsWith('awaiting_'));
    if (!waiting) break;
    const step = engine.stepOf(incident, waiting.id);
    if (!step) break;
    if (waiting.status === 'awaiting_input') {
      for (const item of step.checklist) {
        if (!waiting.checklist[item.id]) incident = await engine.tick(id, step.id, item.id, DRILL_RESPONDER);
      }
    } else if (waiting.status === 'awaiting_confirmation') {
      incident = await engine.confirm(id, step.id, DRILL_RESPONDER);
    } else {
      const decided = new Set(waiting.approvals.map((a) => a.by));
      const approver = DRILL_APPROVERS.find((a) => !decided.has(a) && a !== waiting.requestedBy);
      if (!approver) break;
      incident = await engine.decide(id, step.id, approver, 'approve');
    }
  }
  return incident;
}

function asRepeat(alert: EgressAlert, i: number): EgressAlert {
  return alert.requestId ? { ...alert, requestId: `${alert.requestId}-repeat-${i}` } : alert;
}
