import { z } from 'zod';
import { AlertOrigin, DestinationType } from '../domain/alert.js';
import { DurationText } from '../domain/duration.js';
import { IncidentStatus, Mode } from '../domain/incident.js';

// The playbook file format. Strict everywhere: an unknown key is a typo, and a typo in a safety
// gate (`approvel:`) must fail validation, not silently drop the gate.

const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
  error: 'expected a lower-case id: letters, digits and dashes, at most 63',
});

const VerdictKind = z.enum(['violation', 'allowed', 'no-contract']);

/** All listed conditions must hold; each list means "any of". */
export const When = z.strictObject({
  verdict: z.array(VerdictKind).min(1).optional(),
  origin: z.array(AlertOrigin).min(1).optional(),
  destination_type: z.array(DestinationType).min(1).optional(),
  namespace: z.array(z.string().min(1)).min(1).optional(),
  mode: z.array(Mode).min(1).optional(),
});
export type When = z.infer<typeof When>;

export const ActionRef = z.strictObject({
  /** Key of the action within its step; defaults to `uses`. */
  id: Slug.optional(),
  uses: z
    .string()
    .regex(/^[a-z0-9]+(\.[a-z0-9-]+)+$/, { error: 'expected an action id such as k8s.quarantine' }),
  with: z.record(z.string(), z.unknown()).default({}),
  when: When.optional(),
  /**
   * A supplementary layer (an L7 block next to the NetworkPolicy): when it fails, the failure is
   * recorded with its reason and the step carries on; its verification does not decide `sets_status`.
   */
  optional: z.boolean().optional(),
});
export type ActionRef = z.infer<typeof ActionRef>;

export const Approval = z.strictObject({
  /** A role from the config, or explicit Slack user IDs. */
  from: z
    .union([z.enum(['responders', 'approvers']), z.array(z.string().min(1)).min(1)])
    .default('approvers'),
  count: z.number().int().min(1).max(5).default(1),
  /** The person who asked for the step may not approve it unless this is true. */
  allow_requester: z.boolean().default(false),
});
export type Approval = z.infer<typeof Approval>;

/**
 * What a step is for. Slack's buttons and `/egress contain|rotate|release` find steps by role, never
 * by id or by guessing from their actions.
 */
export const StepRole = z.enum(['triage', 'contain', 'rotate', 'handoff', 'cleanup', 'close']);
export type StepRole = z.infer<typeof StepRole>;

/** Roles a button or command finds: a playbook may have at most one step of each. */
export const uniqueRoles: readonly StepRole[] = ['contain', 'rotate'];

export const Step = z.strictObject({
  id: Slug,
  title: z.string().min(1),
  role: StepRole.optional(),
  description: z.string().optional(),
  when: When.optional(),
  sla: DurationText.optional(),
  checklist: z.array(z.strictObject({ id: Slug, text: z.string().min(1) })).default([]),
  actions: z.array(ActionRef).default([]),
  approval: Approval.optional(),
  /** Incident status once the step settles: `success` when every verification passed, else `incomplete`. */
  sets_status: z
    .strictObject({ success: IncidentStatus.optional(), incomplete: IncidentStatus.optional() })
    .optional(),
  /** In hard mode this step runs as soon as the incident opens, without waiting for the steps before it. */
  urgent: z.boolean().default(false),
  /** Text shown with the step's results (e.g. what containment does not cover). */
  notes: z.array(z.string().min(1)).default([]),
});
export type Step = z.infer<typeof Step>;

export const Playbook = z.strictObject({
  id: Slug,
  title: z.string().min(1),
  description: z.string().optional(),
  /** Which alerts this playbook handles; absent keys match everything. Lower `priority` wins. */
  match: z
    .strictObject({
      origin: z.array(AlertOrigin).min(1).optional(),
      namespace: z.array(z.string().min(1)).min(1).optional(),
      destination_type: z.array(DestinationType).min(1).optional(),
      verdict: z.array(VerdictKind).min(1).optional(),
    })
    .default({}),
  priority: z.number().int().default(100),
  mode: Mode,
  steps: z.array(Step).min(1),
});
export type Playbook = z.infer<typeof Playbook>;

export interface LoadedPlaybook {
  file: string;
  playbook: Playbook;
}
