import type { Logger } from 'pino';
import type { ActionRegistry } from '../actions/registry.js';
import type { AccessPolicy } from '../domain/access.js';
import type { LoadedContract } from '../domain/contract.js';
import { CodedError } from '../domain/errors.js';
import type { ActionState, Incident, StepState } from '../domain/incident.js';
import type { NamespacePolicy } from '../domain/namespace-policy.js';
import type { Journal } from '../journal/journal.js';
import type { Cluster } from '../k8s/cluster.js';
import { type Clock, isoAt } from '../observability/clock.js';
import type { LoadedPlaybook, Step } from '../playbooks/schema.js';
import type { Store } from '../store/store.js';

// What the engine's parts share: their dependencies, and small readers of an incident's step state.

export interface EngineDeps {
  /** Locks, the schedule and timeline reads; every incident change goes through `journal`. */
  store: Store;
  journal: Journal;
  registry: ActionRegistry;
  playbooks: () => readonly LoadedPlaybook[];
  contracts: () => readonly LoadedContract[];
  cluster: Cluster | undefined;
  /**
   * What a drill incident's actions get beneath the dry-run guard: the composition root wraps the
   * cluster in the incident's scenario complications (injected RBAC denials, a slow API). Absent: the
   * cluster itself. Never asked for a real incident.
   */
  drillCluster?: (incident: Incident, cluster: Cluster) => Cluster;
  clock: Clock;
  log: Logger;
  access: AccessPolicy;
  namespaces: NamespacePolicy;
  /** Per-incident lock: short, kept alive by a heartbeat while a holder works. */
  lock?: { ttlMs: number; waitMs: number };
  /** Artifacts (evidence, exports): the cap per artifact and the directory they are also written to. */
  evidence?: { directory?: string; maxArtifactBytes?: number };
  /** An action running longer than this is aborted. Default 5 minutes. */
  actionTimeoutMs?: number;
  /** A run whose process died is resumed by any replica after this long. Default 30 s. */
  resumeAfterMs?: number;
  /**
   * Called at every persistence boundary with its name. Production leaves it out; the crash tests
   * throw from it to stop the engine exactly there and prove a fresh engine resumes correctly.
   */
  checkpoint?: (name: string) => void;
}

export const DEFAULT_LOCK = { ttlMs: 15_000, waitMs: 20_000 };

/** Action states the engine still has work for: apply (planned, interrupted applying) or verify (applied). */
export const unfinished: readonly ActionState['status'][] = ['planned', 'applying', 'applied'];

export function stepState(incident: Incident, stepId: string): StepState {
  const s = incident.steps.find((x) => x.id === stepId);
  if (!s) throw new CodedError('internal', `step ${stepId} has no state`, { userSafe: false });
  return s;
}

export function actionState(incident: Incident, stepId: string, key: string): ActionState {
  const a = stepState(incident, stepId).actions.find((x) => x.key === key);
  if (!a) throw new CodedError('internal', `action ${key} has no state`, { userSafe: false });
  return a;
}

export const actionKey = (ref: Step['actions'][number]) => ref.id ?? ref.uses;

export function dryTag(dryRun: boolean): string {
  return dryRun ? '[dry-run] ' : '';
}

export function nowIso(clock: Clock): string {
  return isoAt(clock.now());
}

/** Change one step's state through the journal (compare-and-set). */
export function mutateStep(
  journal: Journal,
  id: string,
  stepId: string,
  fn: (s: StepState) => void,
): Promise<Incident> {
  return journal.mutate(id, (d) => {
    const s = d.steps.find((x) => x.id === stepId);
    if (!s) throw new CodedError('internal', `step ${stepId} has no state`, { userSafe: false });
    fn(s);
  });
}

/** Change one action's state through the journal (compare-and-set). */
export function mutateAction(
  journal: Journal,
  clock: Clock,
  id: string,
  stepId: string,
  key: string,
  fn: (a: ActionState) => void,
): Promise<Incident> {
  return mutateStep(journal, id, stepId, (s) => {
    const a = s.actions.find((x) => x.key === key);
    if (!a) throw new CodedError('internal', `action ${key} has no state`, { userSafe: false });
    fn(a);
    a.updatedAt = nowIso(clock);
  });
}
