import { createHash, randomBytes } from 'node:crypto';
import type { AccessPolicy } from '../domain/access.js';
import { CodedError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import { NOTE_SOURCES, type TimelineEvent } from '../domain/timeline.js';
import type { Engine } from '../engine/engine.js';
import type { By, DrillScenario, DrillStarter } from '../engine/ports.js';
import { callerOf } from '../engine/ports.js';
import type { ItemHandler } from '../engine/worker.js';
import { type AlertRecorderDeps, type AlertResult, recordAlerts } from '../incidents/record-alerts.js';
import type { ParseOptions } from '../intake/parse.js';
import type { LoadedScenario } from './scenario.js';
import { renderScorecard, scoreDrill } from './scorecard.js';
import { batchesOf, parseWave, type Wave, wavesOf } from './waves.js';

// A drill people play in Slack: the scenario's alerts go through the real intake, marked drill and in
// their own fingerprint space, so the incident thread opens like any other (DRILL in every message)
// and the real playbook runs with real people clicking; the engine gives a drill's actions a cluster
// that only dry-runs. Each later wave is an item in the store's schedule (`drill-wave:<run>:<n>`, due
// at its `after`), sent by whichever replica's worker takes it, so a restart in between delays it by
// no more than the restart; the incident itself lives in the store like any other.

export interface LiveDrillDeps {
  recorder: AlertRecorderDeps;
  /** Reads the finished drill and records its scorecard (as a note by whoever closed it). */
  engine: Pick<Engine, 'get' | 'timeline' | 'stepFor' | 'note'>;
  scenarios: () => readonly LoadedScenario[];
  parse: Omit<ParseOptions, 'receivedAt'>;
  access: AccessPolicy;
  /** Told when alerts were recorded (the server wakes its worker). */
  onRecorded?: (results: AlertResult[]) => void;
  /** Logs what could not be done: a scorecard not recorded, a wave whose scenario is gone. */
  warn: (message: string, err: unknown) => void;
}

/** The kind of a later wave's schedule item (engine/timers.ts). */
export const DRILL_WAVE_KIND = 'drill-wave';
type WaveItem = Parameters<ItemHandler['run']>[0];

const describe = (s: LoadedScenario): DrillScenario => ({
  id: s.scenario.id,
  title: s.scenario.title,
  ...(s.scenario.description ? { description: s.scenario.description } : {}),
});

export class LiveDrills implements DrillStarter {
  readonly #d: LiveDrillDeps;

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
    // Later waves by their index among the scenario's waves (1 is the first after the first wave).
    for (const [i, wave] of later.entries()) {
      await this.#d.recorder.store.schedule.put({
        id: `${DRILL_WAVE_KIND}:${drillRun}:${i + 1}`,
        dueAt: t0 + wave.afterMs,
        data: { kind: DRILL_WAVE_KIND, scenario: loaded.scenario.id, run: drillRun, wave: i + 1 },
      });
    }
    return { scenario: describe(loaded), incidents };
  }

  /**
   * The worker's row for a later wave: send it (its alerts keep their request ids, so a wave sent
   * twice, by a replica that died after sending, is recorded once). A scenario no longer loaded, or
   * changed so the wave is gone, sends nothing and says so.
   */
  async fireWave(item: WaveItem): Promise<boolean> {
    const { scenario, run, wave } = item.data;
    const loaded = this.#d.scenarios().find((s) => s.scenario.id === scenario);
    const w = loaded ? wavesOf(loaded.scenario)[Number(wave)] : undefined;
    if (!loaded || !w) {
      this.#d.warn(
        `drill ${String(run)}: wave ${String(wave)} of ${String(scenario)} not sent`,
        'no such wave',
      );
      return false;
    }
    await this.#deliver(loaded, w, String(run));
    return true;
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
