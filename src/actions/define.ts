import type { Logger } from 'pino';
import type { z } from 'zod';
import type { LoadedContract } from '../domain/contract.js';
import type { Incident } from '../domain/incident.js';
import type { NamespacePolicy } from '../domain/namespace-policy.js';
import type { Cluster } from '../k8s/cluster.js';
import type { Clock } from '../observability/clock.js';
import type { Store } from '../store/store.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A Kubernetes RBAC rule an action needs; deploy/ RBAC is derived from the registry. */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** What the engine hands an action: one per step; actions import nothing stateful. */
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
  store: Store;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  /** Stable across retries and resumes: `<incident>:<step>:<action>`. Pass it to anything remote. */
  idempotencyKey: string;
}

/** Exactly what would change; read-only to produce. `preview` is shown to people (YAML, lists). */
export interface Plan {
  summary: string;
  preview?: string;
  /** Whether apply would change anything; `false` lets the engine record a no-op honestly. */
  changes: boolean;
  data: Json;
}

export interface Outcome {
  status: 'applied' | 'skipped';
  summary: string;
  reason?: string;
  data: Json;
}

export interface Verification {
  ok: boolean;
  /** One line for the thread and the timeline, e.g. `Verification: contained`. */
  line: string;
  data: Json;
}

export interface ActionDefinition<P extends z.ZodType = z.ZodType> {
  id: string;
  description: string;
  params: P;
  rbac: RbacRule[];
  /** Destructive actions need a responder's confirmation in soft mode and never apply in observe mode. */
  destructive: boolean;
  /** Needs a cluster to apply; without one the engine records the plan and skips with the reason. */
  needsCluster: boolean;
  /** A short example of its use in a playbook step (shown by `validate --actions` and docs). */
  example?: Record<string, Json>;
  plan(ctx: ActionContext, params: z.output<P>): Promise<Plan>;
  apply(ctx: ActionContext, plan: Plan, params: z.output<P>): Promise<Outcome>;
  verify?(ctx: ActionContext, outcome: Outcome, params: z.output<P>): Promise<Verification>;
  revert?(ctx: ActionContext, outcome: Outcome, params: z.output<P>): Promise<Outcome>;
}

/** Identity function that keeps the params type flowing into plan/apply/verify/revert. */
export function defineAction<P extends z.ZodType>(def: ActionDefinition<P>): ActionDefinition<P> {
  return def;
}
