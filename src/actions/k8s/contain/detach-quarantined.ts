/**
 * # k8s.detach-quarantined: keep the evidence when the workload's pods are replaced
 *
 * A quarantined pod is still its ReplicaSet's (StatefulSet's, Job's, DaemonSet's): a rollout restart,
 * a deploy or a scale-down replaces it and the evidence is gone. This removes from each quarantined
 * pod exactly the labels its controller's selector relies on; the controller then releases the pod
 * (drops its ownerReference) and makes a fresh replacement, which is not quarantined. The kept pod
 * runs on, still `quarantine=true` with the incident's annotations, still isolated by the deny
 * policy. The removed labels are recorded on the pod (annotation) and in the outcome, for revert.
 *
 * Put it in the containment step after k8s.deny-egress (planned before the pods are labelled, it
 * lists the pods k8s.quarantine will label) or in any step before k8s.rollout-restart, which refuses
 * to restart while quarantined pods are still owned by the workload.
 *
 * Apply: each pod is re-read and patched with a JSON patch that tests its uid and each removed label
 * and carries its resourceVersion (a pod changed since the read is a 409: read again and retry, a
 * bounded number of times). Verify: each pod has no controller any more, still carries the label, and
 * no NetworkPolicy selects it because of a removed label and lets it out (the containment analysis,
 * analyzeEgress). Revert puts the labels back: the controller may then adopt the pod and, above its
 * replica count, delete a pod (the newest first; the kept pod if its ReplicaSet was scaled to 0).
 *
 * ```yaml
 * - uses: k8s.detach-quarantined
 *   with: { selector: "app={service}", wait: 30s }
 * ```
 */
import { z } from 'zod';
import { DurationText } from '../../../domain/duration.js';
import { CodedError } from '../../../domain/errors.js';
import { assertNamespaceAllowed } from '../../../domain/namespace-policy.js';
import type { JsonPatchOp } from '../../../k8s/cluster.js';
import type { Pod } from '../../../k8s/types.js';
import { type ActionContext, defineAction } from '../../define.js';
import {
  ANNOTATION_INCIDENT,
  DEFAULT_QUARANTINE_KEY,
  DEFAULT_QUARANTINE_VALUE,
  DEFAULT_SELECTOR,
  errorCode,
  errorMessage,
  requireCluster,
  SelectorTemplate,
  sourceOf,
} from './common.js';
import {
  ANNOTATION_DETACHED_FROM,
  ANNOTATION_DETACHED_LABELS,
  ControllerJson,
  controllerOf,
  describeController,
  pointer,
} from './detach-owners.js';
import { DetachPlan, type DetachPlanned, detachDrift, detachPreview, detachScene } from './detach-plan.js';
import { verifyDetach } from './detach-verify.js';

const ID = 'k8s.detach-quarantined';

export const DetachQuarantinedParams = z.strictObject({
  /** The workload's pods, as k8s.quarantine finds them: planned in the same step, before they are labelled. */
  selector: SelectorTemplate.default(DEFAULT_SELECTOR),
  label_key: z.string().min(1).default(DEFAULT_QUARANTINE_KEY),
  label_value: z.string().default(DEFAULT_QUARANTINE_VALUE),
  /** How long verify waits for the controllers to release the pods. */
  wait: DurationText.default(30_000),
  poll: DurationText.default(1_000),
});
export type DetachQuarantinedParams = z.output<typeof DetachQuarantinedParams>;

const PodResult = z.strictObject({
  name: z.string(),
  uid: z.string(),
  controller: ControllerJson.nullable(),
  /** The labels removed (key → value before): what revert puts back. */
  removed: z.record(z.string(), z.string()),
  /** detached now; already: detached before (idempotent re-run); the others were left alone. */
  result: z.enum(['detached', 'already', 'not-quarantined', 'skipped', 'gone', 'failed']),
  note: z.string().optional(),
});
type PodResult = z.output<typeof PodResult>;

export const DetachOutcome = z.strictObject({
  namespace: z.string(),
  labelKey: z.string(),
  labelValue: z.string(),
  dry_run: z.boolean(),
  pods: z.array(PodResult),
  detached: z.array(z.string()),
  failed: z.array(z.string()),
});
export type DetachOutcome = z.output<typeof DetachOutcome>;

const CONFLICT_ATTEMPTS = 3;

/** Labelled for this incident, as k8s.quarantine leaves a pod. */
export function quarantinedFor(pod: Pod, incidentId: string, key: string, value: string): boolean {
  return (
    pod.metadata.labels?.[key] === value && pod.metadata.annotations?.[ANNOTATION_INCIDENT] === incidentId
  );
}

/** Pods k8s.quarantine labelled in a dry run of this incident (nothing was really labelled). */
function dryRunQuarantined(ctx: ActionContext): Set<string> {
  const Labelled = z.object({ data: z.object({ succeeded: z.array(z.string()) }) });
  return new Set(
    ctx.incident.steps
      .flatMap((s) => s.actions)
      .filter((a) => a.uses === 'k8s.quarantine' && a.dryRun)
      .flatMap((a) => Labelled.safeParse(a.outcome).data?.data.succeeded ?? []),
  );
}

/** The patch that detaches: only if the pod is still the one read, with the labels as read. */
function detachPatch(pod: Pod, removed: Record<string, string>, from: string): JsonPatchOp[] {
  const annotations = {
    [ANNOTATION_DETACHED_LABELS]: JSON.stringify(removed),
    [ANNOTATION_DETACHED_FROM]: from,
  };
  const hasAnnotations = pod.metadata.annotations !== undefined;
  return [
    { op: 'test', path: '/metadata/uid', value: pod.metadata.uid },
    // A stale resourceVersion in the patched object is a 409 Conflict, as for any update.
    { op: 'replace', path: '/metadata/resourceVersion', value: pod.metadata.resourceVersion },
    ...Object.entries(removed).flatMap(([k, v]): JsonPatchOp[] => [
      { op: 'test', path: pointer('labels', k), value: v },
      { op: 'remove', path: pointer('labels', k) },
    ]),
    ...(hasAnnotations
      ? Object.entries(annotations).map(
          ([k, v]): JsonPatchOp => ({ op: 'add', path: pointer('annotations', k), value: v }),
        )
      : [{ op: 'add' as const, path: '/metadata/annotations', value: annotations }]),
  ];
}

/** Detach one pod of the plan, from a fresh read each try (a 409 means it changed under us). */
async function detachOne(
  ctx: ActionContext,
  params: DetachQuarantinedParams,
  namespace: string,
  entry: DetachPlanned,
  dryQuarantined: Set<string>,
): Promise<PodResult> {
  const cluster = requireCluster(ctx);
  const base = { name: entry.name, uid: entry.uid, controller: entry.controller, removed: {} };
  for (let attempt = 1; ; attempt++) {
    const pod = await cluster.getPod(namespace, entry.name, { signal: ctx.signal });
    if (!pod || pod.metadata.uid !== entry.uid)
      return { ...base, result: 'gone', note: 'not the pod of the plan any more' };
    const quarantined =
      quarantinedFor(pod, ctx.incident.id, params.label_key, params.label_value) ||
      (ctx.dryRun && dryQuarantined.has(entry.name));
    if (!quarantined)
      return {
        ...base,
        result: 'not-quarantined',
        note: `not labelled ${params.label_key}=${params.label_value} for ${ctx.incident.id}: left alone`,
      };
    const controller = controllerOf(pod);
    if (!controller) {
      const recorded = pod.metadata.annotations?.[ANNOTATION_DETACHED_LABELS];
      return recorded
        ? {
            ...base,
            controller: null,
            removed: JSON.parse(recorded) as Record<string, string>,
            result: 'already',
          }
        : { ...base, controller: null, result: 'already', note: 'no controller: nothing to detach from' };
    }
    if (controller.uid !== entry.controller?.uid)
      return {
        ...base,
        controller,
        result: 'failed',
        note: `now controlled by ${describeController(controller)}, not the plan's ${entry.controller ? describeController(entry.controller) : 'none'}: plan again`,
      };
    const removed = Object.fromEntries(
      Object.keys(entry.remove)
        .filter((k) => Object.hasOwn(pod.metadata.labels ?? {}, k))
        .map((k) => [k, pod.metadata.labels![k]!]),
    );
    try {
      await cluster.patch(
        { apiVersion: 'v1', kind: 'Pod', namespace, name: entry.name },
        detachPatch(pod, removed, describeController(controller)),
        'json',
        { dryRun: ctx.dryRun, signal: ctx.signal },
      );
      return { ...base, controller, removed, result: 'detached' };
    } catch (err) {
      if (errorCode(err) === 'k8s_conflict' && attempt < CONFLICT_ATTEMPTS) continue;
      return { ...base, controller, removed, result: 'failed', note: errorMessage(err) };
    }
  }
}

export const detachQuarantined = defineAction({
  id: ID,
  description:
    'Detach the quarantined pods from their controller (remove the labels its selector relies on) so a rollout, deploy or scale-down replaces them instead of destroying the evidence; they stay quarantined and isolated',
  params: DetachQuarantinedParams,
  planData: DetachPlan,
  outcomeData: DetachOutcome,
  rbac: [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] },
    { apiGroups: ['apps'], resources: ['replicasets', 'statefulsets', 'daemonsets'], verbs: ['get'] },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list'] },
  ],
  destructive: true,
  needsCluster: true,
  example: { selector: 'app={service}', wait: '30s' },

  async plan(ctx, params) {
    const { namespace } = sourceOf(ctx);
    assertNamespaceAllowed(ctx.namespaces, namespace);
    const what = `${params.label_key}=${params.label_value}`;
    if (!ctx.cluster) {
      return {
        summary: `detach the pods quarantined ${what} in ${namespace} from their controllers (no cluster configured: not listed)`,
        changes: true,
        data: { namespace, listed: false, pods: [] },
      };
    }
    const pods = await detachScene(ctx, params);
    const todo = pods.filter((p) => p.skip === null);
    return {
      summary: `detach ${todo.length} quarantined pod(s) in ${namespace} from their controllers (${[...new Set(todo.map((p) => describeController(p.controller!)))].join(', ') || 'none'}); they stay ${what} and isolated`,
      preview: detachPreview(pods, params, namespace),
      changes: todo.length > 0,
      data: { namespace, listed: true, pods },
    };
  },

  async drift(ctx, plan, params) {
    if (!plan.data.listed) return [];
    return detachDrift(plan.data.pods, await detachScene(ctx, params));
  },

  /** Detaches exactly the pods of the confirmed plan that are quarantined for this incident now. */
  async apply(ctx, plan, params) {
    const { namespace } = plan.data;
    assertNamespaceAllowed(ctx.namespaces, namespace);
    requireCluster(ctx);
    const dryQuarantined = dryRunQuarantined(ctx);
    const results: PodResult[] = [];
    for (const entry of plan.data.pods) {
      if (entry.skip !== null) {
        results.push({
          name: entry.name,
          uid: entry.uid,
          controller: entry.controller,
          removed: {},
          result: entry.skip.startsWith('already') ? 'already' : 'skipped',
          note: entry.skip,
        });
        continue;
      }
      results.push(await detachOne(ctx, params, namespace, entry, dryQuarantined));
    }
    const detached = results.filter((r) => r.result === 'detached').map((r) => r.name);
    const failed = results.filter((r) => r.result === 'failed' || r.result === 'gone').map((r) => r.name);
    if (failed.length > 0 && detached.length === 0) {
      throw new CodedError(
        'action_failed',
        `${ID}: could not detach any pod in ${namespace}: ${results
          .filter((r) => failed.includes(r.name))
          .map((r) => `${r.name}: ${r.note}`)
          .join('; ')}`,
        { details: { failed } },
      );
    }
    return {
      status: detached.length > 0 ? ('applied' as const) : ('skipped' as const),
      summary: summarize(results, namespace),
      ...(detached.length === 0 ? { reason: 'no quarantined pod had a controller to detach from' } : {}),
      data: {
        namespace,
        labelKey: params.label_key,
        labelValue: params.label_value,
        dry_run: ctx.dryRun,
        pods: results,
        detached,
        failed,
      },
    };
  },

  verify(ctx, outcome, params) {
    return verifyDetach(ctx, outcome.data, params);
  },

  async revert(ctx, outcome) {
    const cluster = requireCluster(ctx);
    const data = outcome.data;
    const notes: string[] = [];
    for (const p of data.pods.filter((x) => x.result === 'detached')) {
      try {
        await cluster.patch(
          { apiVersion: 'v1', kind: 'Pod', namespace: data.namespace, name: p.name },
          {
            metadata: {
              labels: p.removed,
              annotations: { [ANNOTATION_DETACHED_LABELS]: null, [ANNOTATION_DETACHED_FROM]: null },
            },
          },
          'merge',
          { dryRun: ctx.dryRun, signal: ctx.signal },
        );
        notes.push(`relabelled ${p.name} (${Object.keys(p.removed).join(', ')})`);
      } catch (err) {
        if (errorCode(err) !== 'k8s_not_found') throw err;
        notes.push(`${p.name} already gone`);
      }
    }
    return {
      status: 'applied',
      summary: `${notes.join('; ') || 'nothing to relabel'}. Warning: with its labels back a pod may be adopted by its controller again, which then deletes a pod to get back to its replica count (the kept one itself if that ReplicaSet was scaled to 0 by a rollout)`,
      data: { notes },
    };
  },
});

function summarize(results: PodResult[], namespace: string): string {
  const of = (r: PodResult['result']) => results.filter((x) => x.result === r);
  const parts = [
    `detached ${of('detached').length} quarantined pod(s) in ${namespace}${
      of('detached').length > 0
        ? ` (${of('detached')
            .map(
              (r) =>
                `${r.name} from ${describeController(r.controller!)}: removed ${Object.keys(r.removed).join(', ')}`,
            )
            .join('; ')})`
        : ''
    }`,
  ];
  if (of('already').length > 0)
    parts.push(
      `already detached: ${of('already')
        .map((r) => r.name)
        .join(', ')}`,
    );
  for (const kind of ['not-quarantined', 'skipped'] as const)
    if (of(kind).length > 0)
      parts.push(
        `left alone: ${of(kind)
          .map((r) => `${r.name} (${r.note})`)
          .join('; ')}`,
      );
  const failed = [...of('failed'), ...of('gone')];
  if (failed.length > 0)
    parts.push(`FAILED ${failed.length}: ${failed.map((r) => `${r.name}: ${r.note}`).join('; ')}`);
  return parts.join('; ');
}
