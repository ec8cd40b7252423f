import { verificationPassed } from '../actions/define.js';
import type { ActionRegistry } from '../actions/registry.js';
import type { CodedError } from '../domain/errors.js';
import type { ActionState, StepState } from '../domain/incident.js';
import type { Step } from '../playbooks/schema.js';
import { actionKey } from './state.js';

// What a step that ran through amounts to, read from its actions' final states: which verifications
// decide its status, whether anything was applied at all, and one line per enforcement layer. Pure,
// so the step's completion event, the Slack thread and the drill scorecard all say the same thing.

export interface StepOutcome {
  /** Required actions whose verification failed: the step's status is its `incomplete` one. */
  failedChecks: ActionState[];
  /**
   * Actions only planned (no cluster, observe mode): a status such as `contained` is a
   * claim about the world and is not made. (An action that ran and found itself not applicable — no
   * mesh for an L7 block — has an outcome and does not count.)
   */
  notApplied: ActionState[];
  /** The step has containment layers but none that is required verified it: an L7 block alone. */
  noRequiredLayer: boolean;
  result: StepState['result'];
}

/** Whether this action of the step may fail without failing the step (`optional: true` on its ref). */
export function isOptional(step: Step, key: string): boolean {
  return step.actions.some((ref) => actionKey(ref) === key && ref.optional === true);
}

export function stepOutcome(step: Step, state: StepState, registry: ActionRegistry): StepOutcome {
  const required = state.actions.filter((a) => !isOptional(step, a.key));
  const failedChecks = required.filter((a) => verificationPassed(a.verification) === false);
  const destructive = state.actions.filter((a) => registry.get(a.uses)?.destructive);
  // Planned, then not carried out (no cluster, observe mode); a read-only collection counts too: it
  // gathered nothing. An action whose condition did not hold has no plan and is not among them.
  const notApplied = state.actions.filter((a) => a.status === 'skipped' && a.outcome === undefined && a.plan);
  const applied = destructive.filter((a) => ['applied', 'verified', 'reverted'].includes(a.status));
  const layered = state.actions.filter((a) => registry.get(a.uses)?.layer);
  const noRequiredLayer =
    notApplied.length === 0 &&
    layered.length > 0 &&
    !required.some(
      (a) => !registry.get(a.uses)?.layer?.supplementary && registry.get(a.uses)?.layer && verified(a),
    );

  if (notApplied.length > 0 && applied.length === 0) {
    // Nothing reached the cluster: the step must never read as done.
    const why = [...new Set(notApplied.map((a) => whyNotApplied(a.reason)))].join('; ');
    return {
      failedChecks,
      notApplied,
      noRequiredLayer,
      result: { state: 'planned_only', line: `planned only — nothing applied (${why})` },
    };
  }
  const parts: string[] = [];
  for (const a of state.actions) {
    const layer = registry.get(a.uses)?.layer;
    const optional = isOptional(step, a.key);
    if (layer) parts.push(layerPhrase(a, layer.name, !layer.supplementary && !optional));
    else if (optional && a.status === 'failed')
      parts.push(`optional ${a.uses} failed: ${a.reason ?? a.error?.message ?? 'see the timeline'}`);
  }
  if (notApplied.length > 0) {
    parts.push(
      `${notApplied.map((a) => a.uses).join(', ')} planned only (${[...new Set(notApplied.map((a) => whyNotApplied(a.reason)))].join('; ')})`,
    );
  }
  return {
    failedChecks,
    notApplied,
    noRequiredLayer,
    result: parts.length > 0 ? { state: 'applied', line: parts.join('; ') } : undefined,
  };
}

function verified(a: ActionState): boolean {
  return a.status === 'verified' && verificationPassed(a.verification) === true;
}

/** `no cluster configured: planned only` → `no cluster configured`. */
function whyNotApplied(reason: string | undefined): string {
  return reason?.split(':')[0]?.trim() || 'not applied';
}

/**
 * One layer as it ended. A required layer says whether it contains (from its verification); a
 * supplementary or optional one says only whether it was applied: it is never what contains.
 */
function layerPhrase(a: ActionState, layer: string, decides: boolean): string {
  const dry = a.dryRun ? ', dry-run' : '';
  switch (a.status) {
    case 'verified':
      if (decides) {
        return verificationPassed(a.verification)
          ? `contained at ${layer} (verified${dry})`
          : `not contained at ${layer} (verification: incomplete${dry})`;
      }
      return verificationPassed(a.verification)
        ? `${layer}: applied${a.dryRun ? ' (dry-run)' : ''}`
        : `${layer}: applied, its verification failed${a.dryRun ? ' (dry-run)' : ''}`;
    case 'applied':
    case 'reverted':
      return `${layer}: ${a.status}${a.dryRun ? ' (dry-run)' : ''}`;
    case 'skipped': {
      if (a.outcome === undefined) return `${layer}: not applied (${whyNotApplied(a.reason)})`;
      const summary = (a.outcome as { summary?: unknown }).summary;
      return `${layer}: ${typeof summary === 'string' ? summary : 'skipped'}`;
    }
    case 'failed':
      return `${layer}: not applied: ${a.reason ?? a.error?.message ?? 'failed'}`;
    default:
      return `${layer}: ${a.status}`;
  }
}

/**
 * A failure in a few words for the step's line: an RBAC denial names what is missing
 * (`forbidden (RBAC: patch authorizationpolicies in istio-system)`); anything else its message.
 */
export function failureReason(err: CodedError, message: string): string {
  const d = err.details;
  // Only an RBAC denial names its user (kube errors.ts); a 401 or an admission refusal is not one.
  const rbac = err.code === 'k8s_forbidden' && typeof d.user === 'string';
  if (rbac && typeof d.verb === 'string' && typeof d.resource === 'string') {
    const where = typeof d.namespace === 'string' ? `in ${d.namespace}` : 'cluster-wide';
    return `forbidden (RBAC: ${d.verb} ${d.resource} ${where})`;
  }
  return message;
}
