// k8s.detach-quarantined's plan: which pods, which labels, which controller, what the controller does
// next (the preview), and what changed since (drift).
import { z } from 'zod';
import type { KubeObject, Pod } from '../../../k8s/types.js';
import type { ActionContext } from '../../define.js';
import { ANNOTATION_INCIDENT, formatSelector, requireCluster, selectorLabels, sourceOf } from './common.js';
import {
  ANNOTATION_DETACHED_FROM,
  ANNOTATION_DETACHED_LABELS,
  afterRelease,
  ControllerJson,
  describeController,
  readController,
  replaces,
  selectedLabels,
} from './detach-owners.js';

const Planned = z.strictObject({
  name: z.string(),
  uid: z.string(),
  /** Labelled for this incident when planned; false: one k8s.quarantine (same step) is to label. */
  quarantined: z.boolean(),
  controller: ControllerJson.nullable(),
  /** The labels its controller's selector relies on, with their values when planned. */
  remove: z.record(z.string(), z.string()),
  /** Why it is left alone (null: it is detached). `already …` means detached before. */
  skip: z.string().nullable(),
  /** What its controller does once it lets go of the pod. */
  afterwards: z.string(),
});
export type DetachPlanned = z.output<typeof Planned>;

export const DetachPlan = z.strictObject({
  namespace: z.string(),
  /** False when no cluster was there to list them (the embedded drill). */
  listed: z.boolean(),
  pods: z.array(Planned),
});

interface SceneParams {
  selector: string;
  label_key: string;
  label_value: string;
}

/** Whether this step also quarantines (then its pods are planned before they carry the label). */
function stepQuarantines(ctx: ActionContext): boolean {
  const step = ctx.incident.steps.find((s) => s.id === ctx.stepId);
  return (step?.actions ?? []).some((a) => a.uses === 'k8s.quarantine');
}

/** The quarantined pods of this incident (and, when this step quarantines, the pods it will label). */
export async function detachScene(ctx: ActionContext, params: SceneParams): Promise<DetachPlanned[]> {
  const cluster = requireCluster(ctx);
  const { namespace } = sourceOf(ctx);
  const toBeLabelled = stepQuarantines(ctx);
  // Both lists at once: independent reads, a round trip each.
  const [labelled, workload] = await Promise.all([
    cluster.listPods(namespace, {
      labelSelector: `${params.label_key}=${params.label_value}`,
      signal: ctx.signal,
    }),
    toBeLabelled
      ? cluster.listPods(namespace, {
          labelSelector: formatSelector(selectorLabels(params.selector, ctx)),
          signal: ctx.signal,
        })
      : [],
  ]);
  const pods = new Map<string, { pod: Pod; quarantined: boolean }>();
  for (const pod of labelled) {
    if (pod.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id)
      pods.set(pod.metadata.name ?? '', { pod, quarantined: true });
  }
  if (toBeLabelled) {
    for (const pod of workload) {
      const name = pod.metadata.name ?? '';
      if (!pods.has(name) && pod.metadata.labels?.[params.label_key] === undefined)
        pods.set(name, { pod, quarantined: false });
    }
  }
  const owners = new Map<string, Promise<KubeObject | undefined>>();
  const out: DetachPlanned[] = [];
  for (const [name, { pod, quarantined }] of [...pods].sort(([a], [b]) => a.localeCompare(b))) {
    const found = await readController(ctx, pod, owners);
    const labels = pod.metadata.labels ?? {};
    const base = { name, uid: pod.metadata.uid ?? '', quarantined, controller: found?.ref ?? null };
    const left = (skip: string) => ({ ...base, remove: {}, skip, afterwards: 'nothing' });
    if (!found) {
      const before = pod.metadata.annotations?.[ANNOTATION_DETACHED_LABELS];
      out.push(
        left(
          before
            ? `already detached (from ${pod.metadata.annotations?.[ANNOTATION_DETACHED_FROM] ?? 'its controller'}; removed ${before})`
            : 'no controller: nothing replaces it',
        ),
      );
      continue;
    }
    const what = describeController(found.ref);
    if (!found.object) {
      out.push(
        left(
          `controlled by ${what}, which this action cannot read (an unknown kind, or gone): not detached, so that controller may still replace it`,
        ),
      );
      continue;
    }
    const remove = selectedLabels(found.object, labels);
    if (
      Object.hasOwn(
        selectedLabels(found.object, { [params.label_key]: params.label_value }),
        params.label_key,
      )
    ) {
      out.push(
        left(`${what} selects on ${params.label_key} itself: detaching would remove the quarantine label`),
      );
    } else if (Object.keys(remove).length === 0) {
      out.push(
        left(
          `${what} selects on no label the pod carries (NotIn / DoesNotExist only): cannot detach by labels`,
        ),
      );
    } else {
      out.push({ ...base, remove, skip: null, afterwards: afterRelease(found.ref.kind, name) });
    }
  }
  return out;
}

export function detachPreview(pods: DetachPlanned[], params: SceneParams, namespace: string): string {
  const todo = pods.filter((p) => p.skip === null);
  const left = pods.filter((p) => p.skip !== null);
  const replacements = todo.filter((p) => replaces(p.controller!.kind)).length;
  const labels = (r: Record<string, string>) =>
    Object.entries(r)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
  return [
    `namespace: ${namespace}`,
    `pods to detach (they keep ${params.label_key}=${params.label_value}, the incident annotations and the deny policy; they keep running):`,
    ...(todo.length === 0 ? ['  (none)'] : []),
    ...todo.map(
      (p) =>
        `  - ${p.name}: remove label(s) ${labels(p.remove)} that ${describeController(p.controller!)} selects; it then releases the pod and ${p.afterwards}${p.quarantined ? '' : ` (not labelled yet: detached only once k8s.quarantine has labelled it)`}`,
    ),
    ...(left.length > 0 ? ['left alone:', ...left.map((p) => `  - ${p.name}: ${p.skip}`)] : []),
    `the controllers will create ${replacements} replacement pod(s); they are not quarantined (not labelled ${params.label_key}=${params.label_value}, not isolated by the deny policy)`,
    'the removed labels also take the kept pods out of the Services and policies that select on them',
    `adds annotations: ${ANNOTATION_DETACHED_LABELS} (the removed labels, JSON), ${ANNOTATION_DETACHED_FROM} (the controller)`,
    'revert: puts the labels back; the controller may then adopt a kept pod and delete a pod to get back to its replica count',
  ].join('\n');
}

/** The plan's pods against the cluster's now. */
export function detachDrift(planned: DetachPlanned[], now: DetachPlanned[]): string[] {
  const current = new Map(now.map((p) => [p.name, p]));
  const out: string[] = [];
  for (const p of planned) {
    const c = current.get(p.name);
    if (!c) {
      if (p.skip === null) out.push(`pod ${p.name} gone since the preview`);
      continue;
    }
    if (c.uid !== p.uid) out.push(`pod ${p.name} replaced since the preview`);
    else if ((c.controller?.uid ?? null) !== (p.controller?.uid ?? null))
      out.push(
        `pod ${p.name} now controlled by ${c.controller ? describeController(c.controller) : 'nothing'} (was ${p.controller ? describeController(p.controller) : 'nothing'})`,
      );
    else if (JSON.stringify(c.remove) !== JSON.stringify(p.remove))
      out.push(`pod ${p.name}: the labels to remove changed since the preview`);
  }
  const listed = new Set(planned.map((p) => p.name));
  for (const c of now)
    if (!listed.has(c.name) && c.skip === null) out.push(`pod ${c.name} new since the preview`);
  return out;
}
