import type { Incident } from '../domain/incident.js';
import type { TimelineEvent, TimelineKind } from '../domain/timeline.js';
import type { Metrics } from './metrics.js';

// Most of what an operator counts already happens once in the timeline: the journal tells its
// observers of each new event exactly once, so counting there cannot double-count a replayed step.
// A table from event kind to the counter it moves.

type Count = (m: Metrics, e: TimelineEvent, drill: string) => void;
const str = (v: unknown) => (typeof v === 'string' ? v : 'unknown');
const action =
  (outcome: string): Count =>
  (m, e, drill) =>
    m.inc('actions_total', { action: str(e.details.uses ?? e.details.action), outcome, drill });
const ended =
  (how: string): Count =>
  (m) =>
    m.inc('grants_ended_total', { how });

const byKind: Partial<Record<TimelineKind, Count>> = {
  'incident.opened': (m, _e, drill) => {
    m.inc('incidents_opened_total', { drill });
    if (drill === 'true') m.inc('drills_total');
  },
  'action.applied': action('applied'),
  'action.failed': action('failed'),
  'action.reverted': action('reverted'),
  'engine.resumed': (m) => m.inc('resumes_total'),
  'grant.expired': ended('expired'),
  'grant.revoked': ended('revoked'),
  'grant.denied': ended('denied'),
  'grant.request_expired': ended('request_expired'),
  'grant.failed': ended('failed'),
  'grant.removal_failed': (m) => m.inc('grant_removal_failures_total'),
};

/** A journal observer's onEvent: count the event if its kind has a counter. */
export function countEvent(metrics: Metrics, event: TimelineEvent, incident: Incident): void {
  byKind[event.kind]?.(metrics, event, String(incident.drill));
}
