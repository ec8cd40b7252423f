import { createHash, randomUUID } from 'node:crypto';
import { CodedError, type ErrorCode } from '../domain/errors.js';
import type { Grant } from '../domain/grant.js';
import type { Incident } from '../domain/incident.js';
import type { Json } from '../domain/json.js';
import type { TimelineKind } from '../domain/timeline.js';
import type { Caller } from '../engine/ports.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../observability/logger.js';
import { SYSTEM } from './settings.js';

// A grant's life, in its incident's timeline: one event per change, with its actor, keyed
// `grant:<id>:<what>` so a replay after a crash (or a second replica) records nothing twice. Refusals
// are recorded too: an attempt to approve one's own grant is part of the audit.

type GrantKindOfEvent = Extract<TimelineKind, `grant.${string}`>;

export class GrantEvents {
  readonly #journal: Journal;
  readonly #log: Logger;

  constructor(journal: Journal, log: Logger) {
    this.#journal = journal;
    this.#log = log;
  }

  async incident(id: string): Promise<Incident | undefined> {
    try {
      return await this.#journal.get(id);
    } catch (err) {
      if (err instanceof CodedError && err.code === 'incident_not_found') return undefined;
      throw err;
    }
  }

  /** Record one event of `grant` (a drill's say "(dry-run)"); false when it was already recorded. */
  async record(
    grant: Pick<Grant, 'id' | 'incidentId' | 'drill'>,
    kind: GrantKindOfEvent,
    what: string,
    summary: string,
    opts: { actor?: string; details?: Record<string, Json> } = {},
  ): Promise<boolean> {
    const incident = await this.incident(grant.incidentId);
    if (!incident) {
      // The grant outlived its incident's record (a lost store): the log keeps what the timeline cannot.
      this.#log.warn(
        { grant: grant.id, incident: grant.incidentId, kind, summary },
        'grant event with no incident to record it on',
      );
      return false;
    }
    return this.#journal.record({
      incident,
      kind,
      summary: `Break-glass ${grant.id}: ${summary}${grant.drill ? ' (dry-run)' : ''}`,
      details: { grant: grant.id, ...opts.details },
      actor: opts.actor ?? SYSTEM,
      key: `grant:${grant.id}:${what}`,
    });
  }

  /** The one refusal path: recorded on the incident (when there is one), then thrown. */
  async refuse(
    incident: Incident | undefined,
    grantId: string | undefined,
    caller: Caller,
    what: string,
    code: Extract<ErrorCode, 'not_authorized' | 'approval_refused' | 'transition_invalid'>,
    why: string,
  ): Promise<never> {
    if (incident) {
      const summary = `Refused: ${caller.actor} may not ${what}${grantId ? ` (${grantId})` : ''}: ${why}`;
      const digest = createHash('sha256').update(summary).digest('hex').slice(0, 12);
      await this.#journal.record({
        incident,
        kind: 'refusal',
        summary,
        details: grantId ? { grant: grantId } : {},
        actor: caller.actor,
        // One request may be refused once per thing it asked for; a retried delivery records nothing new.
        key: `grant:${grantId ?? 'request'}:refusal:${caller.requestId ?? randomUUID()}:${digest}`,
      });
    }
    throw new CodedError(code, `you may not ${what}: ${why}`);
  }
}
