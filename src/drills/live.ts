import { createHash, randomBytes } from 'node:crypto';
import type { AccessPolicy } from '../domain/access.js';
import { CodedError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import { NOTE_SOURCES, type TimelineEvent } from '../domain/timeline.js';
import type { Engine } from '../engine/engine.js';
import type { By, DrillScenario, DrillStarter } from '../engine/ports.js';
import { callerOf } from '../engine/ports.js';
import { type AlertRecorderDeps, type AlertResult, recordAlerts } from '../incidents/record-alerts.js';
import type { ParseOptions } from '../intake/parse.js';
import type { LoadedScenario } from './scenario.js';
import { renderScorecard, scoreDrill } from './scorecard.js';
import { batchesOf, parseWave, type Wave, wavesOf } from './waves.js';

// A drill people play in Slack: the scenario's alerts go through the real intake, marked drill and in
// their own fingerprint space, so the incident thread opens like any other (DRILL in every message)
// and the real playbook runs with real people clicking; the engine gives a drill's actions a cluster
// that only dry-runs. Later waves are sent at their `after` by this process (a restart in between
// drops them, and says so in the log); the incident itself lives in the store like any other.

export interface LiveDrillDeps {
  recorder: AlertRecorderDeps;
  /** Reads the finished drill and records its scorecard (as a note by whoever closed it). */
  engine: Pick<Engine, 'get' | 'timeline' | 'stepFor' | 'note'>;
  scenarios: () => readonly LoadedScenario[];
  parse: Omit<ParseOptions, 'receivedAt'>;
  access: AccessPolicy;
  /** Told when alerts were recorded (the server wakes its worker). */
  onRecorded?: (results: AlertResult[]) => void;
  /** Logs a later wave that could not be sent. */
  warn: (message: string, err: unknown) => void;
}

const describe = (s: LoadedScenario): DrillScenario => ({
  id: s.scenario.id,
  title: s.scenario.title,
  ...(s.scenario.description ? { description: s.scenario.description } : {}),
});

export class LiveDrills implements DrillStarter {
  readonly #d: LiveDrillDeps;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(deps: LiveDrillDeps) {
    this.#d = deps;
  }

  scenarios(): DrillScenario[] {
    return this.#d.scenarios().map(describe);
  }

  async start(scenarioId: string, by: By): Promise<{ scenario: DrillScenario; incidents: string[] }> {
    const { actor } = callerOf(by);
    if (!this.#d.access.has(actor, 'responder'))
      throw new CodedError('not_authorized', 'only responders may start a drill');
    // Looked up by own id only: the name is compared, never used as a key or a path.
    const loaded = this.#d.scenarios().find((s) => s.scenario.id === scenarioId);
    if (!loaded) {
      const known = this.scenarios().map((s) => s.id);
      throw new CodedError(
        'command_invalid',
        `no drill scenario "${scenarioId.slice(0, 60)}"; known: ${known.join(', ') || 'none'}`,
      );
    }
    const t0 = this.#d.recorder.clock.now();
    // The same request (a retried delivery, a double click) is the same run: its alerts are then
    // duplicates or folds of the first, never a second drill.
    const { requestId } = callerOf(by);
    const run = requestId
      ? createHash('sha256').update(requestId).digest('hex').slice(0, 12)
      : `${t0.toString(36)}-${randomBytes(3).toString('hex')}`;
    const drillRun = `${loaded.scenario.id}-${run}`;
    const [first, ...later] = wavesOf(loaded.scenario);
    const incidents = first ? await this.#deliver(loaded, first, drillRun) : [];
    if (incidents.length === 0)
      throw new CodedError('scenario_invalid', `scenario ${loaded.scenario.id} opened no incident`);
    for (const wave of later) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#deliver(loaded, wave, drillRun).catch((err) =>
          this.#d.warn(`drill ${drillRun}: ${wave.at} not sent`, err),
        );
      }, wave.afterMs);
      timer.unref();
      this.#timers.add(timer);
    }
    return { scenario: describe(loaded), incidents };
  }

  /**
   * A journal observer: when a drill incident closes, its scorecard goes into the timeline (and so
   * the export and the thread) once, from the stored incident and timeline alone, so it is the same
   * on any replica and after a restart. Failures are logged, never thrown at the journal.
   */
  onEvent(event: TimelineEvent, incident: Incident): void {
    if (event.kind !== 'incident.closed' || !incident.drill) return;
    this.#score(incident.id, event.actor).catch((err) =>
      this.#d.warn(`drill ${incident.id}: scorecard not recorded`, err),
    );
  }

  async #score(id: string, closedBy: string): Promise<void> {
    const { engine } = this.#d;
    const [incident, events] = await Promise.all([engine.get(id), engine.timeline(id)]);
    const scenarioId = events.find((e) => e.kind === 'incident.opened')?.details.scenario;
    const loaded = this.#d.scenarios().find((s) => s.scenario.id === scenarioId);
    if (!loaded) return;
    const roles = {
      triage: engine.stepFor(incident, 'triage')?.id,
      contain: engine.stepFor(incident, 'contain')?.id,
      rotate: engine.stepFor(incident, 'rotate')?.id,
    };
    const card = scoreDrill(loaded, incident, events, roles);
    await engine.note(id, closedBy, renderScorecard(card, incident), { source: NOTE_SOURCES.drillScorecard });
  }

  /** Later waves not yet sent are dropped (the process is stopping). */
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  async #deliver(loaded: LoadedScenario, wave: Wave, drillRun: string): Promise<string[]> {
    const now = this.#d.recorder.clock.now();
    const { alerts, format, issues } = parseWave(wave, { ...this.#d.parse, receivedAt: now });
    if (issues.length > 0)
      throw new CodedError(
        'scenario_invalid',
        `scenario ${loaded.scenario.id}: ${wave.at}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      );
    const ids = new Set<string>();
    for (const batch of batchesOf(wave, alerts, new Date(now).toISOString(), format ?? 'egress-event')) {
      const results = await recordAlerts(this.#d.recorder, batch, {
        drill: true,
        drillRun,
        drillScenario: loaded.scenario.id,
      });
      this.#d.onRecorded?.(results);
      for (const r of results) if (r.id) ids.add(r.id);
    }
    return [...ids];
  }
}
