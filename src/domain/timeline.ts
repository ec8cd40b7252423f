import { z } from 'zod';
import { UtcTimestamp } from './alert.js';

export const TimelineKind = z.enum([
  'alert.received',
  'alert.folded',
  'alert.duplicate',
  'alert.resolved',
  'incident.opened',
  'incident.closed',
  'status.changed',
  'step.started',
  'step.waiting',
  'step.completed',
  'step.skipped',
  'step.failed',
  'checklist.ticked',
  'confirmation.given',
  'action.planned',
  'action.applying',
  'action.applied',
  'action.verified',
  'action.skipped',
  'action.failed',
  'action.reverted',
  'plan.drift',
  'approval.requested',
  'approval.granted',
  'approval.denied',
  'refusal',
  'note',
  'sla.breached',
  'engine.resumed',
  'slack.posted',
  /** An artifact (evidence file, export) was stored with the incident: name, size, sha256, path if written. */
  'artifact.stored',
  /** Artifacts were uploaded to the incident's thread (file names, sha256, Slack file ids). */
  'slack.uploaded',
  /** Break-glass: one kind per lifecycle event of a grant (details.grant is its id). */
  'grant.requested',
  'grant.approved',
  'grant.denied',
  'grant.request_expired',
  'grant.applied',
  'grant.verified',
  'grant.extension_requested',
  'grant.extended',
  'grant.revoked',
  'grant.expired',
  'grant.removed',
  'grant.removal_failed',
  'grant.failed',
]);
export type TimelineKind = z.infer<typeof TimelineKind>;

/**
 * An immutable record. `id` is deterministic for engine events (`<incident>:<step>:<what>`) so that
 * a step replayed after a crash does not record the same thing twice: stores ignore a repeated id.
 */
export const TimelineEvent = z.strictObject({
  id: z.string().min(1),
  at: UtcTimestamp,
  incidentId: z.string().min(1),
  kind: TimelineKind,
  /** `system` for the engine, `slack:U123` for a Slack user, `cli:<user>`, `drill` … */
  actor: z.string().min(1),
  summary: z.string(),
  details: z.record(z.string(), z.json()),
});
export type TimelineEvent = z.infer<typeof TimelineEvent>;

export const SYSTEM_ACTOR = 'system';

/** `note` events the bot writes itself, by `details.source` (the presenter posts these in the thread). */
export const NOTE_SOURCES = { drillScorecard: 'drill-scorecard' } as const;
