import type { Logger } from 'pino';
import { CodedError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import type { Json } from '../domain/json.js';
import { SYSTEM_ACTOR, type TimelineEvent, type TimelineKind } from '../domain/timeline.js';
import { type Clock, isoAt } from '../observability/clock.js';
import type { Store } from '../store/store.js';

// The audit trail and the one way to change an incident. Everything that happens to an incident is
// recorded here with a deterministic id (so a replay after a crash records nothing twice), every
// change is a compare-and-set on the stored incident, and observers (the Slack presenter) are told
// about each new event and each stored change.

/** Told about every newly recorded event and every stored incident change. Given at construction. */
export interface IncidentObserver {
  onEvent?(event: TimelineEvent, incident: Incident): void | Promise<void>;
  /** `cause` 'fold': only intake's alert counters moved (observers may take their time to show it). */
  onIncident?(incident: Incident, cause?: 'fold'): void | Promise<void>;
}

/** One event to record. */
export interface RecordInput {
  /** The incident as the caller last saw it (observers render from it). */
  incident: Incident;
  kind: TimelineKind;
  summary: string;
  details?: Record<string, Json>;
  actor?: string;
  /**
   * What makes the event unique within its incident: its id is `<incident>:<key>`, and recording
   * the same key again records nothing. Engine steps use their step and action (`contain:k8s.quarantine:applied`);
   * people's inputs use the request they came with.
   */
  key: string;
  /** Epoch ms; default now. */
  at?: number;
}

export interface JournalDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  observers?: readonly IncidentObserver[];
}

/** How many times a compare-and-set is retried before the conflict is reported. */
const MAX_CAS_ATTEMPTS = 20;

export class Journal {
  readonly #d: JournalDeps;

  constructor(deps: JournalDeps) {
    this.#d = deps;
  }

  async get(id: string): Promise<Incident> {
    const incident = await this.#d.store.incidents.get(id);
    if (!incident) throw new CodedError('incident_not_found', `no incident ${id}`);
    return incident;
  }

  /** Append an event (idempotent on its key); observers hear of it only when it is new. */
  async record(input: RecordInput): Promise<boolean> {
    const event: TimelineEvent = {
      id: `${input.incident.id}:${input.key}`,
      at: isoAt(input.at ?? this.#d.clock.now()),
      incidentId: input.incident.id,
      kind: input.kind,
      actor: input.actor ?? SYSTEM_ACTOR,
      summary: input.summary,
      details: input.details ?? {},
    };
    const fresh = await this.#d.store.timeline.append(event);
    if (fresh) await this.announce([event], input.incident);
    return fresh;
  }

  /** Tell observers about events stored by someone else in the same step (intake's recordAlert). */
  async announce(events: readonly TimelineEvent[], incident: Incident): Promise<void> {
    for (const event of events) await this.#notify((o) => o.onEvent?.(event, incident));
  }

  /** Tell observers an incident changed without a compare-and-set of ours (an alert fold). */
  async changed(incident: Incident): Promise<void> {
    await this.#notify((o) => o.onIncident?.(incident, 'fold'));
  }

  /**
   * Read-modify-write with compare-and-set, retried on conflict. `known`: a copy the caller just
   * read, tried first (saves a round trip; a conflict re-reads). `fn` may throw to abort.
   */
  async mutate(id: string, fn: (draft: Incident) => void, known?: Incident): Promise<Incident> {
    for (let attempt = 1; ; attempt++) {
      const fresh = !(attempt === 1 && known);
      const current = fresh ? await this.get(id) : (known as Incident);
      const expected = current.version;
      // Stores hand out copies; only a caller's snapshot needs copying before it is changed.
      const draft = fresh ? current : structuredClone(current);
      fn(draft);
      draft.updatedAt = isoAt(this.#d.clock.now());
      try {
        const stored = await this.#d.store.incidents.update(draft, expected);
        await this.#notify((o) => o.onIncident?.(stored));
        return stored;
      } catch (err) {
        if (!(err instanceof CodedError && err.code === 'store_conflict') || attempt >= MAX_CAS_ATTEMPTS) {
          throw err;
        }
      }
    }
  }

  async #notify(call: (o: IncidentObserver) => void | Promise<void>): Promise<void> {
    for (const o of this.#d.observers ?? []) {
      try {
        await call(o);
      } catch (err) {
        this.#d.log.warn({ err }, 'incident observer failed');
      }
    }
  }
}
