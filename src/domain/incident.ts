import { z } from 'zod';
import { EgressAlert, UtcTimestamp } from './alert.js';
import { Verdict } from './contract.js';

export const Mode = z.enum(['observe', 'soft', 'hard']);
export type Mode = z.infer<typeof Mode>;

// One status vocabulary with named groups (after StackStorm): the Slack root message, /egress status
// and the engine all read these, so there is one table of what may follow what.
export const IncidentStatus = z.enum([
  'open',
  'acknowledged',
  'containment_incomplete',
  'contained',
  'resolved',
  'closed',
]);
export type IncidentStatus = z.infer<typeof IncidentStatus>;

export const activeStatuses: readonly IncidentStatus[] = [
  'open',
  'acknowledged',
  'containment_incomplete',
  'contained',
  'resolved',
];
export const terminalStatuses: readonly IncidentStatus[] = ['closed'];

export const statusLabels: Record<IncidentStatus, string> = {
  open: 'open',
  acknowledged: 'acknowledged',
  containment_incomplete: 'containment incomplete',
  contained: 'contained',
  resolved: 'resolved',
  closed: 'closed',
};

/** Which statuses may follow each status. Release of containment goes back to acknowledged. */
export const statusTransitions: Record<IncidentStatus, readonly IncidentStatus[]> = {
  open: ['acknowledged', 'containment_incomplete', 'contained', 'resolved', 'closed'],
  acknowledged: ['containment_incomplete', 'contained', 'resolved', 'closed'],
  containment_incomplete: ['acknowledged', 'contained', 'resolved', 'closed'],
  contained: ['acknowledged', 'containment_incomplete', 'resolved', 'closed'],
  resolved: ['acknowledged', 'closed'],
  closed: [],
};

export function canTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  return from === to || statusTransitions[from].includes(to);
}

export const StepStatus = z.enum([
  'pending',
  'running',
  'awaiting_input', // manual checklist items not yet ticked
  'awaiting_confirmation', // soft mode: a responder must confirm destructive actions
  'awaiting_approval', // an approval rule is not yet satisfied
  'completed',
  'skipped',
  'failed',
]);
export type StepStatus = z.infer<typeof StepStatus>;
export const settledStepStatuses: readonly StepStatus[] = ['completed', 'skipped', 'failed'];
export const waitingStepStatuses: readonly StepStatus[] = [
  'awaiting_input',
  'awaiting_confirmation',
  'awaiting_approval',
];

export const ActionStatus = z.enum([
  'pending',
  'planned',
  'applying',
  'applied',
  'verified',
  'skipped',
  'failed',
  'reverted',
]);
export type ActionStatus = z.infer<typeof ActionStatus>;

const Json = z.json();

export const ActionState = z.strictObject({
  key: z.string(),
  uses: z.string(),
  status: ActionStatus,
  dryRun: z.boolean(),
  /** Bumped each time apply is (re)started: a resumed `applying` shows up as attempt 2. */
  attempts: z.number().int().min(0),
  /** How many times the plan was made again because the cluster drifted from the confirmed one. */
  replans: z.number().int().min(1).optional(),
  plan: Json.optional(),
  outcome: Json.optional(),
  verification: Json.optional(),
  reason: z.string().optional(),
  /** `fix`: what would make it succeed next time (domain/fixes.ts), when known. */
  error: z.strictObject({ code: z.string(), message: z.string(), fix: z.string().optional() }).optional(),
  updatedAt: UtcTimestamp,
});
export type ActionState = z.infer<typeof ActionState>;

const Mark = z.strictObject({ by: z.string(), at: UtcTimestamp });

export const StepState = z.strictObject({
  id: z.string(),
  status: StepStatus,
  startedAt: UtcTimestamp.optional(),
  endedAt: UtcTimestamp.optional(),
  reason: z.string().optional(),
  checklist: z.record(z.string(), Mark),
  confirmedBy: Mark.optional(),
  requestedBy: z.string().optional(),
  approvals: z.array(Mark.extend({ decision: z.enum(['approve', 'deny']) })),
  actions: z.array(ActionState),
  slaNotifiedAt: UtcTimestamp.optional(),
  /**
   * What a completed step amounts to, said once by the engine as it completes: `planned_only` when
   * its destructive actions were only planned (no cluster, observe mode) and nothing was applied, so
   * no place shows it as done; `line` is what it achieved per layer (`contained at L3/L4 (verified);
   * L7: applied`) and names any optional action that failed.
   */
  result: z.strictObject({ state: z.enum(['applied', 'planned_only']), line: z.string() }).optional(),
  /**
   * A step that is not in the playbook: one action run on request (`/egress rotate <id> <hook>`),
   * persisted and resumed exactly like a playbook step.
   */
  adhoc: z
    .strictObject({ title: z.string(), uses: z.string(), with: z.record(z.string(), z.json()) })
    .optional(),
});
export type StepState = z.infer<typeof StepState>;

/** Distinct hosts sampled on an incident (the first few, in arrival order). */
export const HOST_SAMPLE_SIZE = 5;

/**
 * The distinct FQDN hosts an incident's alerts named: one for an incident fingerprinted by host,
 * many when folded by registrable domain (a DNS tunnel's unique subdomains). Owned by the store's
 * recordAlert like `count`: the count is exact up to the store's cap, past which `capped` says it
 * is a lower bound.
 */
export const FoldedHosts = z.strictObject({
  /** The registrable domain the alerts were folded by; absent when fingerprinted by host. */
  domain: z.string().optional(),
  count: z.number().int().positive(),
  /** More distinct hosts arrived than the store keeps: `count` is the cap, a lower bound. */
  capped: z.boolean(),
  sample: z.array(z.string()).min(1).max(HOST_SAMPLE_SIZE),
});
export type FoldedHosts = z.infer<typeof FoldedHosts>;

export const Incident = z.strictObject({
  id: z.string(),
  /** Compare-and-set version: every update must name the version it read. */
  version: z.number().int().min(0),
  fingerprint: z.string(),
  status: IncidentStatus,
  /** The first alert, as received; later repeats only move count and lastSeen. */
  alert: EgressAlert,
  count: z.number().int().positive(),
  firstSeen: UtcTimestamp,
  lastSeen: UtcTimestamp,
  /** When the sender last reported the alert resolved (cleared by a later firing repeat). */
  resolvedAt: UtcTimestamp.optional(),
  /** FQDN destinations: the distinct hosts folded in (count and a sample). */
  hosts: FoldedHosts.optional(),
  verdict: Verdict,
  playbook: z.strictObject({ id: z.string(), file: z.string() }),
  mode: Mode,
  drill: z.boolean(),
  /** The scenario a drill incident was started from: its injected complications apply to this incident only. */
  drillScenario: z.string().optional(),
  steps: z.array(StepState),
  commander: z.string().optional(),
  /** A release (revert) a responder asked for, waiting for an approver who is not the requester. */
  pendingRevert: z.strictObject({ stepId: z.string(), requestedBy: z.string(), at: UtcTimestamp }).optional(),
  closeReason: z.string().optional(),
  /** Where the incident lives in Slack, once a thread exists. */
  slack: z
    .strictObject({
      channel: z.string(),
      ts: z.string(),
      /** The thread message that shows each step, so updates edit it instead of posting again. */
      steps: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
  createdAt: UtcTimestamp,
  updatedAt: UtcTimestamp,
});
export type Incident = z.infer<typeof Incident>;

export function isActive(incident: Pick<Incident, 'status'>): boolean {
  return activeStatuses.includes(incident.status);
}
