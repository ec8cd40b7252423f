import type { Logger } from 'pino';
import { z } from 'zod';
import type { ArtifactMeta } from '../domain/artifact.js';
import type { LoadedContract } from '../domain/contract.js';
import { CodedError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import type { Json } from '../domain/json.js';
import type { NamespacePolicy } from '../domain/namespace-policy.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { Cluster } from '../k8s/cluster.js';
import type { Clock } from '../observability/clock.js';

export type { Json } from '../domain/json.js';

/** A Kubernetes RBAC rule an action needs; deploy/ RBAC is derived from the registry. */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** An artifact as the port stored it: `created` false when the incident already had it (kept as first stored). */
export interface StoredArtifact extends ArtifactMeta {
  created: boolean;
  /** Where it was written, when an evidence directory is configured and the write succeeded. */
  path?: string;
  /** Why it was not written to the configured directory (a drill, a failed write), in words. */
  notWritten?: string;
}

/**
 * Where an action keeps files of evidence: in the store (every replica reads them; the Slack
 * presenter uploads them to the thread), in the evidence directory when one is configured, and a
 * timeline event per artifact with its name, size and sha256.
 */
export interface ArtifactPort {
  /** The cap per artifact: larger content is refused, so cut it first (logs keep their end). */
  readonly maxBytes: number;
  put(artifact: {
    name: string;
    contentType: string;
    bytes: Uint8Array;
    /** What was cut to fit the cap, in words. */
    truncated?: string;
  }): Promise<StoredArtifact>;
}

/**
 * What the engine hands an action: one per run. Actions import nothing stateful: what they may know
 * of the incident and its timeline reaches them here.
 */
export interface ActionContext {
  incident: Incident;
  stepId: string;
  actionKey: string;
  /** Who caused this run: `system`, `slack:U123`, `drill` … */
  actor: string;
  /** Every Kubernetes mutation must then be sent with dryRun=All; webhooks say dry_run: true. */
  dryRun: boolean;
  /** Absent when no cluster is configured (the embedded drill): such actions only plan. */
  cluster: Cluster | undefined;
  contracts: readonly LoadedContract[];
  /** Namespaces the bot may mutate; Kubernetes actions refuse the others. */
  namespaces: NamespacePolicy;
  /** The incident's timeline as recorded so far (for exports). */
  timeline(): Promise<TimelineEvent[]>;
  clock: Clock;
  log: Logger;
  /** Aborts when the incident's lock is lost or the action runs past its time. */
  signal: AbortSignal;
  /** Stable across retries and resumes: `<incident>:<step>:<action>`. Pass it to anything remote. */
  idempotencyKey: string;
  /** 1 for the first apply; more when an interrupted apply is resumed (after a restart) or a failed one retried. */
  attempt: number;
  /** Where evidence files go; absent when the caller gave none (hand-built contexts): nothing can be stored. */
  artifacts?: ArtifactPort;
}

/** Exactly what would change; read-only to produce. `preview` is shown to people (YAML, lists). */
export interface Plan<D = unknown> {
  summary: string;
  preview?: string;
  /** Whether apply would change anything; `false` lets the engine record a no-op honestly. */
  changes: boolean;
  data: D;
}

export interface Outcome<D = unknown> {
  status: 'applied' | 'skipped';
  summary: string;
  reason?: string;
  data: D;
}

export interface Verification {
  ok: boolean;
  /** One line for the thread and the timeline, e.g. `Verification: contained`. */
  line: string;
  data: Json;
}

/**
 * A self-describing side effect (after falco-talon's actionners and Backstage's scaffolder actions):
 * typed params, typed plan and outcome data (decoded with these schemas whenever the engine reads
 * them back from the store), the RBAC it needs, and plan → apply → verify → revert.
 */
export interface ActionDefinition<
  P extends z.ZodType = z.ZodType,
  PD extends z.ZodType = z.ZodType,
  OD extends z.ZodType = z.ZodType,
> {
  id: string;
  description: string;
  params: P;
  /** The shape of `Plan.data`: what the responder confirmed, and what apply consumes. */
  planData: PD;
  /** The shape of `Outcome.data`: what was done, and what verify and revert read. */
  outcomeData: OD;
  rbac: RbacRule[];
  /** Destructive actions need a responder's confirmation in soft mode and never apply in observe mode. */
  destructive: boolean;
  /** Needs a cluster to apply; without one the engine records the plan and skips with the reason. */
  needsCluster: boolean;
  /**
   * The enforcement layer a containment action acts at (`L3/L4`, `L7`): the step's result reads per
   * layer. A `supplementary` layer never contains on its own: its verification says what it covers,
   * and a step whose only verified layer is supplementary does not claim its success status.
   */
  layer?: { name: string; supplementary?: boolean };
  /** A short example of its use in a playbook step (shown by `validate --actions`; parsed by `params` in a test). */
  example: Record<string, Json>;
  plan(ctx: ActionContext, params: z.output<P>): Promise<Plan<z.output<PD>>>;
  /**
   * What in the cluster differs from the plan people confirmed (a new pod, an edited policy, a pod
   * gone), in words; empty when nothing does. The engine asks before applying, records a plan drift,
   * and never applies a plan other than the one confirmed without saying so.
   */
  drift?(ctx: ActionContext, plan: Plan<z.output<PD>>, params: z.output<P>): Promise<string[]>;
  /** Carries out exactly the confirmed plan. */
  apply(ctx: ActionContext, plan: Plan<z.output<PD>>, params: z.output<P>): Promise<Outcome<z.output<OD>>>;
  verify?(ctx: ActionContext, outcome: Outcome<z.output<OD>>, params: z.output<P>): Promise<Verification>;
  revert?(ctx: ActionContext, outcome: Outcome<z.output<OD>>, params: z.output<P>): Promise<Outcome<Json>>;
}

/** Identity function that keeps the params and data types flowing into plan/apply/verify/revert. */
export function defineAction<P extends z.ZodType, PD extends z.ZodType, OD extends z.ZodType>(
  def: ActionDefinition<P, PD, OD>,
): ActionDefinition<P, PD, OD> {
  return def;
}

// ---------------------------------------------------------------- stored plans and outcomes

const StoredPlan = z.object({
  summary: z.string(),
  preview: z.string().optional(),
  changes: z.boolean(),
  data: z.unknown(),
});
const StoredOutcome = z.object({
  status: z.enum(['applied', 'skipped']),
  summary: z.string(),
  reason: z.string().optional(),
  data: z.unknown(),
});

function decodeWith<T>(what: string, def: ActionDefinition, schema: z.ZodType<T>, value: unknown): T {
  const res = schema.safeParse(value);
  if (!res.success) {
    throw new CodedError(
      'internal',
      `stored ${what} of ${def.id} does not match its schema: ${z.prettifyError(res.error)}`,
      {
        userSafe: false,
      },
    );
  }
  return res.data;
}

/** A plan read back from the store, its data decoded by the action's own schema. */
export function decodePlan(def: ActionDefinition, stored: Json | undefined): Plan {
  const plan = decodeWith('plan', def, StoredPlan, stored);
  return { ...plan, data: decodeWith('plan data', def, def.planData, plan.data) };
}

/** An outcome read back from the store, its data decoded by the action's own schema. */
export function decodeOutcome(def: ActionDefinition, stored: Json | undefined): Outcome {
  const outcome = decodeWith('outcome', def, StoredOutcome, stored);
  return { ...outcome, data: decodeWith('outcome data', def, def.outcomeData, outcome.data) };
}

const StoredVerification = z.object({ ok: z.boolean(), line: z.string(), data: z.unknown() });

/** Whether a stored verification passed (undefined when there is none). */
export function verificationPassed(stored: Json | undefined): boolean | undefined {
  if (stored === undefined) return undefined;
  const res = StoredVerification.safeParse(stored);
  return res.success ? res.data.ok : false;
}
