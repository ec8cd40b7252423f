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
 * ```yaml
 * - uses: k8s.rollout-restart
 *   with: { kind: Deployment, name: payments-api, wait: 2m, poll: 2s }
 * ```
 */
import { z } from 'zod';
import { DurationText } from '../../domain/duration.js';
import { CodedError } from '../../domain/errors.js';
import type { KubeObject, ObjectRef } from '../../k8s/types.js';
import { defineAction, type Json, type Outcome, type Plan } from '../define.js';
import {
  allowedNamespace,
  NO_CLUSTER_NOTE,
  num,
  pollUntil,
  record,
  requireCluster,
  shortDuration,
  sourceOf,
} from './k8s-common.js';

export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
export const DRY_RUN_ROLLOUT_LINE = 'dry-run: rollout not awaited';

export const RolloutRestartParams = z.strictObject({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment'),
  /** Default: the alert's source service. */
  name: z.string().min(1).max(253).optional(),
  wait: DurationText.default(120_000),
  poll: DurationText.default(2_000),
});
export type RolloutRestartParams = z.output<typeof RolloutRestartParams>;

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
  id: 'k8s.rollout-restart',
  description:
    'Restart the source workload like `kubectl rollout restart` (stamp kubectl.kubernetes.io/restartedAt on the pod template) and wait for the rollout; refuses paused Deployments; no revert (a restart cannot be undone)',
  params: RolloutRestartParams,
  rbac: [
    {
      apiGroups: ['apps'],
      resources: ['deployments', 'statefulsets', 'daemonsets'],
      verbs: ['get', 'patch'],
    },
  ],
  destructive: true,
  needsCluster: true,
  example: { kind: 'Deployment', wait: '2m' },

  async plan(ctx, params): Promise<Plan> {
    const namespace = allowedNamespace(ctx);
    const ref = workloadRef(namespace, params.kind, params.name ?? sourceOf(ctx).service);
    const patch = restartPatch('<time of apply>');
    const preview = [
      `PATCH ${ref.kind} ${namespace}/${ref.name} (merge patch${ctx.dryRun ? ', dryRun=All' : ''})`,
      JSON.stringify(patch, null, 2),
    ].join('\n');
    const base = { kind: ref.kind, namespace, name: ref.name, dry_run: ctx.dryRun };
    if (!ctx.cluster) {
      return {
        summary: `restart ${ref.kind} ${namespace}/${ref.name} (${NO_CLUSTER_NOTE})`,
        preview,
        changes: true,
        data: base,
      };
    }
    const obj = await ctx.cluster.get(ref, { signal: ctx.signal });
    if (!obj) {
      throw new CodedError('action_failed', `${ref.kind} ${ref.name} not found in namespace ${namespace}`, {
        details: base,
      });
    }
    if (ref.kind === 'Deployment' && record(obj.spec).paused === true) {
      throw new CodedError(
        'action_failed',
        `deployment ${ref.name} is paused: resume it (kubectl rollout resume) before restarting`,
        { details: base },
      );
    }
    const previous = record(record(record(obj.spec).template).metadata).annotations;
    const last = record(previous)[RESTARTED_AT_ANNOTATION];
    return {
      summary: `restart ${ref.kind} ${namespace}/${ref.name} (rollout awaited up to ${shortDuration(params.wait)})`,
      preview,
      changes: true,
      data: {
        ...base,
        generation: num(obj.metadata.generation) ?? null,
        previous_restarted_at: typeof last === 'string' ? last : null,
      },
    };
  },

  async apply(ctx, _plan, params): Promise<Outcome> {
    const cluster = requireCluster(ctx, 'k8s.rollout-restart');
    const namespace = allowedNamespace(ctx);
    const ref = workloadRef(namespace, params.kind, params.name ?? sourceOf(ctx).service);
    const stamp = restartStamp(ctx.clock.now());
    const patched = await cluster.patch(ref, restartPatch(stamp), 'merge', {
      dryRun: ctx.dryRun,
      signal: ctx.signal,
    });
    return {
      status: 'applied',
      summary: `${ref.kind} ${namespace}/${ref.name} restarted (${RESTARTED_AT_ANNOTATION}=${stamp})`,
      data: {
        kind: ref.kind,
        namespace,
        name: ref.name,
        restarted_at: stamp,
        generation: num(patched.metadata.generation) ?? null,
        dry_run: ctx.dryRun,
      },
    };
  },

  async verify(ctx, outcome, params) {
    const data = record(outcome.data);
    const namespace = String(data.namespace ?? sourceOf(ctx).namespace);
    const ref = workloadRef(
      namespace,
      params.kind,
      String(data.name ?? params.name ?? sourceOf(ctx).service),
    );
    const what = `${ref.kind} ${namespace}/${ref.name}`;
    if (ctx.dryRun) return { ok: true, line: DRY_RUN_ROLLOUT_LINE, data: { kind: ref.kind, name: ref.name } };
    const cluster = requireCluster(ctx, 'k8s.rollout-restart');
    const minGeneration = num(data.generation) ?? 0;
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

function workloadRef(namespace: string, kind: string, name: string): ObjectRef {
  return { apiVersion: 'apps/v1', kind, namespace, name };
}
