/**
 * # k8s.rollout-restart: restart the source workload the way `kubectl rollout restart` does
 *
 * Merge-patches `spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]` with the
 * current time (RFC 3339), so the controller replaces every pod: new pods mount fresh projected
 * service-account tokens and re-read rotated Secrets. Paused Deployments are refused (the restart
 * would not roll out). Verify waits (bounded by `wait`) until the controller has observed the new
 * generation and every replica is updated and available. There is no revert: a restart cannot be
 * undone, and the old pods should not come back.
 *
 * The plan records the workload's uid, resourceVersion, generation and last restartedAt; the patch
 * carries that resourceVersion (optimistic concurrency: a workload changed since the plan fails as a
 * conflict rather than being restarted). `drift` names what changed: gone, replaced, paused, spec
 * changed, restarted by someone else, or updated, or the step now naming another workload. A later
 * apply attempt (resumed after a restart, or retried) that finds the workload already restarted since
 * the plan says so and does not restart it again.
 *
 * ```yaml
 * - uses: k8s.rollout-restart
 *   with: { kind: Deployment, name: payments-api, wait: 2m, poll: 2s }
 * ```
 */
import { z } from 'zod';
import { DurationText } from '../../domain/duration.js';
import { CodedError } from '../../domain/errors.js';
import type { KubeObject, ObjectRef } from '../../k8s/types.js';
import { type ActionContext, defineAction, type Json } from '../define.js';
import {
  allowedNamespace,
  isConflict,
  laterAttempt,
  NO_CLUSTER_NOTE,
  NOT_READ_DRIFT,
  NOT_READ_REASON,
  num,
  plannedNamespace,
  pollUntil,
  record,
  requireCluster,
  shortDuration,
  sourceOf,
} from './k8s-common.js';
import { evidenceAtRisk, podsARestartWouldDelete } from './kept-pods.js';

const ID = 'k8s.rollout-restart';

export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
export const DRY_RUN_ROLLOUT_LINE = 'dry-run: rollout not awaited';

const WorkloadKind = z.enum(['Deployment', 'StatefulSet', 'DaemonSet']);

export const RolloutRestartParams = z.strictObject({
  kind: WorkloadKind.default('Deployment'),
  /** Default: the alert's source service. */
  name: z.string().min(1).max(253).optional(),
  wait: DurationText.default(120_000),
  poll: DurationText.default(2_000),
  /** The quarantine label: pods carrying it are evidence, and a restart must not delete them. */
  quarantine_label_key: z.string().min(1).default('quarantine'),
  quarantine_label_value: z.string().default('true'),
});
export type RolloutRestartParams = z.output<typeof RolloutRestartParams>;

export const RolloutRestartPlan = z.strictObject({
  kind: WorkloadKind,
  namespace: z.string(),
  name: z.string(),
  dry_run: z.boolean(),
  /** False when planned without a cluster: the fields below are null and apply restarts nothing. */
  read: z.boolean(),
  uid: z.string().nullable(),
  /** Sent with the patch: a workload changed since the plan is a conflict, not a restart. */
  resource_version: z.string().nullable(),
  generation: z.number().nullable(),
  previous_restarted_at: z.string().nullable(),
});
export type RolloutRestartPlan = z.output<typeof RolloutRestartPlan>;

export const RolloutRestartOutcome = z.strictObject({
  kind: WorkloadKind,
  namespace: z.string(),
  name: z.string(),
  /** The restartedAt stamp the rollout is for (null: nothing restarted). */
  restarted_at: z.string().nullable(),
  /** The generation verify waits for the controller to observe. */
  generation: z.number().nullable(),
  dry_run: z.boolean(),
  /** The restart was found already done when an interrupted apply resumed (not restarted again). */
  restarted_before_resume: z.boolean(),
});
export type RolloutRestartOutcome = z.output<typeof RolloutRestartOutcome>;

/** RFC 3339 without fractional seconds, as kubectl writes it. */
export function restartStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function restartPatch(stamp: string): Record<string, unknown> {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: stamp } } } } };
}

/** What is not yet rolled out; empty when the rollout is complete. */
export function rolloutPending(obj: KubeObject, minGeneration = 0): string[] {
  const spec = record(obj.spec);
  const status = record(obj.status);
  const generation = Math.max(num(obj.metadata.generation) ?? 0, minGeneration);
  const observed = num(status.observedGeneration) ?? 0;
  const pending: string[] = [];
  if (observed < generation) pending.push(`observedGeneration ${observed} < generation ${generation}`);
  if (obj.kind === 'DaemonSet') {
    const desired = num(status.desiredNumberScheduled) ?? 0;
    const updated = num(status.updatedNumberScheduled) ?? 0;
    const available = num(status.numberAvailable) ?? 0;
    if (updated < desired) pending.push(`${updated}/${desired} pods updated`);
    if (available < desired) pending.push(`${available}/${desired} pods available`);
    return pending;
  }
  const desired = num(spec.replicas) ?? 1;
  const replicas = num(status.replicas) ?? 0;
  const updated = num(status.updatedReplicas) ?? 0;
  const available = num(status.availableReplicas) ?? 0;
  if (updated < desired) pending.push(`${updated}/${desired} replicas updated`);
  if (replicas > updated) pending.push(`${replicas - updated} old replicas pending termination`);
  if (available < desired) pending.push(`${available}/${desired} replicas available`);
  if (obj.kind === 'StatefulSet') {
    const cur = status.currentRevision;
    const upd = status.updateRevision;
    if (typeof cur === 'string' && typeof upd === 'string' && cur !== upd && updated < desired) {
      pending.push(`revision ${upd} not yet current`);
    }
  }
  return pending;
}

export const rolloutRestart = defineAction({
  id: ID,
  description:
    'Restart the source workload like `kubectl rollout restart` (stamp kubectl.kubernetes.io/restartedAt on the pod template) and wait for the rollout; refuses paused Deployments; no revert (a restart cannot be undone)',
  params: RolloutRestartParams,
  planData: RolloutRestartPlan,
  outcomeData: RolloutRestartOutcome,
  rbac: [
    {
      apiGroups: ['apps'],
      resources: ['deployments', 'statefulsets', 'daemonsets'],
      verbs: ['get', 'patch'],
    },
    // The quarantined pods a restart would delete: pods by label, their ReplicaSets by name.
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
  ],
  destructive: true,
  needsCluster: true,
  example: { kind: 'Deployment', wait: '2m' },

  async plan(ctx, params) {
    const namespace = allowedNamespace(ctx);
    const ref = workloadRef(namespace, params.kind, params.name ?? sourceOf(ctx).service);
    const patch = restartPatch('<time of apply>');
    const preview = [
      `PATCH ${ref.kind} ${namespace}/${ref.name} (merge patch${ctx.dryRun ? ', dryRun=All' : ''})`,
      JSON.stringify(patch, null, 2),
    ].join('\n');
    const base = { kind: params.kind, namespace, name: ref.name, dry_run: ctx.dryRun };
    if (!ctx.cluster) {
      return {
        summary: `restart ${ref.kind} ${namespace}/${ref.name} (${NO_CLUSTER_NOTE})`,
        preview,
        changes: true,
        data: {
          ...base,
          read: false,
          uid: null,
          resource_version: null,
          generation: null,
          previous_restarted_at: null,
        },
      };
    }
    const obj = await ctx.cluster.get(ref, { signal: ctx.signal });
    if (!obj) {
      throw new CodedError('action_failed', `${ref.kind} ${ref.name} not found in namespace ${namespace}`, {
        details: {
          ...base,
          fix: `the workload to restart is not ${ref.kind} ${namespace}/${ref.name}: set \`kind\` and \`name\` in the step's \`with:\` to the workload that runs the pods (a bare pod has none: skip this action)`,
        },
      });
    }
    if (ref.kind === 'Deployment' && record(obj.spec).paused === true) {
      throw new CodedError(
        'action_failed',
        `deployment ${ref.name} is paused: resume it (kubectl rollout resume) before restarting`,
        { details: base },
      );
    }
    const atRisk = await podsARestartWouldDelete(ctx, obj, quarantineOf(params));
    if (atRisk.length > 0) throw evidenceAtRisk(`${ref.kind} ${namespace}/${ref.name}`, atRisk);
    return {
      summary: `restart ${ref.kind} ${namespace}/${ref.name} (rollout awaited up to ${shortDuration(params.wait)})`,
      preview,
      changes: true,
      data: {
        ...base,
        read: true,
        uid: obj.metadata.uid ?? null,
        resource_version: obj.metadata.resourceVersion ?? null,
        generation: num(obj.metadata.generation) ?? null,
        previous_restarted_at: restartedAtOf(obj),
      },
    };
  },

  async drift(ctx, plan, params) {
    if (!ctx.cluster) return [];
    const d = plan.data;
    if (!d.read) return [NOT_READ_DRIFT];
    const what = `${d.kind} ${d.name}`;
    const wanted = `${params.kind} ${params.name ?? sourceOf(ctx).service}`;
    const target = wanted === what ? [] : [`the step now targets ${wanted}, not ${what}`];
    const obj = await ctx.cluster.get(workloadRef(d.namespace, d.kind, d.name), { signal: ctx.signal });
    if (!obj) return [...target, `${what} gone`];
    if (d.uid !== null && obj.metadata.uid !== d.uid)
      return [...target, `${what} replaced since the preview (new uid)`];
    const out: string[] = [...target];
    const atRisk = await podsARestartWouldDelete(ctx, obj, quarantineOf(params));
    if (atRisk.length > 0)
      out.push(`quarantined pod(s) ${atRisk.join(', ')} owned by ${what} again since the preview`);
    if (d.kind === 'Deployment' && record(obj.spec).paused === true)
      out.push(`${what} paused since the preview`);
    const restartedAt = restartedAtOf(obj);
    const generation = num(obj.metadata.generation) ?? null;
    if (restartedAt !== d.previous_restarted_at) {
      out.push(`${what} restarted since the preview (restartedAt ${restartedAt ?? 'removed'})`);
    } else if (generation !== d.generation && out.length === target.length) {
      out.push(
        `${what} spec changed since the preview (generation ${d.generation ?? '?'} → ${generation ?? '?'})`,
      );
    }
    if (out.length === target.length && (obj.metadata.resourceVersion ?? null) !== d.resource_version) {
      out.push(
        `${what} updated since the preview (resourceVersion ${d.resource_version ?? '?'} → ${obj.metadata.resourceVersion ?? '?'})`,
      );
    }
    return out;
  },

  async apply(ctx, plan, params) {
    const cluster = requireCluster(ctx, ID);
    const d = plan.data;
    const namespace = plannedNamespace(ctx, d.namespace);
    const ref = workloadRef(namespace, d.kind, d.name);
    const what = `${d.kind} ${namespace}/${d.name}`;
    const base = { kind: d.kind, namespace, name: d.name, dry_run: ctx.dryRun };
    if (!d.read || d.resource_version === null) {
      return {
        status: 'skipped',
        summary: `${what} not restarted`,
        reason: NOT_READ_REASON,
        data: { ...base, restarted_at: null, generation: null, restarted_before_resume: false },
      };
    }
    // Held again just before the patch: a pod quarantined (or re-adopted) since the plan is evidence too.
    const now = await cluster.get(ref, { signal: ctx.signal });
    const atRisk = now ? await podsARestartWouldDelete(ctx, now, quarantineOf(params)) : [];
    if (atRisk.length > 0) throw evidenceAtRisk(what, atRisk);
    const stamp = restartStamp(ctx.clock.now());
    const patch = { metadata: { resourceVersion: d.resource_version }, ...restartPatch(stamp) };
    let patched: KubeObject;
    try {
      patched = await cluster.patch(ref, patch, 'merge', { dryRun: ctx.dryRun, signal: ctx.signal });
    } catch (err) {
      if (!isConflict(err)) throw err;
      return restartedBeforeResume(ctx, d, ref, what, base, err);
    }
    return {
      status: 'applied',
      summary: `${what} restarted (${RESTARTED_AT_ANNOTATION}=${stamp})`,
      data: {
        ...base,
        restarted_at: stamp,
        generation: num(patched.metadata.generation) ?? null,
        restarted_before_resume: false,
      },
    };
  },

  async verify(ctx, outcome, params) {
    const data = outcome.data;
    const ref = workloadRef(data.namespace, data.kind, data.name);
    const what = `${ref.kind} ${data.namespace}/${ref.name}`;
    if (ctx.dryRun) return { ok: true, line: DRY_RUN_ROLLOUT_LINE, data: { kind: ref.kind, name: ref.name } };
    const cluster = requireCluster(ctx, ID);
    const minGeneration = data.generation ?? 0;
    const result = await pollUntil(
      { waitMs: params.wait, pollMs: params.poll, signal: ctx.signal },
      async () => {
        const obj = await cluster.get(ref, { signal: ctx.signal });
        const pending = obj ? rolloutPending(obj, minGeneration) : [`${what} no longer exists`];
        return { done: pending.length === 0, value: pending };
      },
    );
    const out: Json = { kind: ref.kind, name: ref.name, waited_ms: result.waitedMs, pending: result.value };
    return result.done
      ? { ok: true, line: `Rollout of ${what} complete`, data: out }
      : {
          ok: false,
          line: `Rollout of ${what} not complete after ${shortDuration(params.wait)}: ${result.value.join('; ')}`,
          data: out,
        };
  },
});

const quarantineOf = (p: RolloutRestartParams) => ({
  key: p.quarantine_label_key,
  value: p.quarantine_label_value,
});

function restartedAtOf(obj: KubeObject): string | null {
  const annotations = record(record(record(record(obj.spec).template).metadata).annotations);
  const at = annotations[RESTARTED_AT_ANNOTATION];
  return typeof at === 'string' ? at : null;
}

/**
 * The patch met a conflict: the workload changed since the plan. On a resumed apply, a restartedAt
 * other than the plan's means the interrupted attempt (or someone) restarted it already: say so and
 * await that rollout instead of restarting again. Anything else is the conflict it is.
 */
async function restartedBeforeResume(
  ctx: ActionContext,
  d: RolloutRestartPlan,
  ref: ObjectRef,
  what: string,
  base: { kind: RolloutRestartPlan['kind']; namespace: string; name: string; dry_run: boolean },
  err: unknown,
) {
  const cluster = requireCluster(ctx, ID);
  const now = await cluster.get(ref, { signal: ctx.signal });
  const sameObject = now !== undefined && (d.uid === null || now.metadata.uid === d.uid);
  const restartedAt = now ? restartedAtOf(now) : null;
  if (ctx.attempt > 1 && sameObject && restartedAt !== null && restartedAt !== d.previous_restarted_at) {
    return {
      status: 'applied' as const,
      summary: `${what} was already restarted ${laterAttempt(ctx)} (${RESTARTED_AT_ANNOTATION}=${restartedAt}, set before it): not restarted again`,
      data: {
        ...base,
        restarted_at: restartedAt,
        generation: num(now.metadata.generation) ?? null,
        restarted_before_resume: true,
      },
    };
  }
  const how = !now
    ? 'it is gone'
    : !sameObject
      ? 'it was replaced (new uid)'
      : `resourceVersion ${d.resource_version ?? '?'} → ${now.metadata.resourceVersion ?? '?'}`;
  throw new CodedError(
    'k8s_conflict',
    `${ID}: ${what} changed since the plan was confirmed (${how}): not restarted. Plan the step again to restart it as it is now`,
    { cause: err, details: { ...base, planned_resource_version: d.resource_version } },
  );
}

function workloadRef(namespace: string, kind: string, name: string): ObjectRef {
  return { apiVersion: 'apps/v1', kind, namespace, name };
}
