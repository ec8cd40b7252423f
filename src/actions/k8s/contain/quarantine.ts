import { z } from 'zod';
import { CodedError } from '../../../domain/errors.js';
import { assertNamespaceAllowed } from '../../../domain/namespace-policy.js';
import type { Pod } from '../../../k8s/types.js';
import { type ActionContext, defineAction } from '../../define.js';
import {
  ANNOTATION_INCIDENT,
  ANNOTATION_QUARANTINED_AT,
  DEFAULT_QUARANTINE_KEY,
  DEFAULT_QUARANTINE_VALUE,
  DEFAULT_SELECTOR,
  errorCode,
  errorMessage,
  formatSelector,
  mapLimit,
  requireCluster,
  SelectorTemplate,
  selectorLabels,
  serviceAccountOf,
  sourceOf,
} from './common.js';

export const QuarantineParams = z.strictObject({
  /** Label selector template; `{service}` and `{namespace}` come from the alert's source. */
  selector: SelectorTemplate.default(DEFAULT_SELECTOR),
  /** `service-account`: pods whose spec.serviceAccountName is the source's service account. */
  by: z.enum(['selector', 'service-account']).default('selector'),
  label_key: z.string().min(1).default(DEFAULT_QUARANTINE_KEY),
  label_value: z.string().default(DEFAULT_QUARANTINE_VALUE),
  concurrency: z.number().int().min(1).max(50).default(5),
});
export type QuarantineParams = z.output<typeof QuarantineParams>;

const PlannedPod = z.strictObject({
  name: z.string(),
  uid: z.string(),
  /** The label's value before us (null: absent). */
  previous: z.string().nullable(),
  /** Already labelled for this incident when planned: nothing to change. */
  already: z.boolean(),
});
const QuarantinePlan = z.strictObject({
  namespace: z.string(),
  selector: z.string(),
  /** False when no cluster was there to list them (the embedded drill). */
  listed: z.boolean(),
  pods: z.array(PlannedPod),
});
type QuarantinePlan = z.output<typeof QuarantinePlan>;

const PodResult = z.strictObject({
  name: z.string(),
  previous: z.string().nullable(),
  previousAnnotations: z.record(z.string(), z.string().nullable()),
  /** labelled now; already ours when planned; before-restart: labelled by an apply that was interrupted. */
  result: z.enum(['labelled', 'already', 'before-restart', 'gone', 'failed']),
  error: z.string().optional(),
});
type PodResult = z.output<typeof PodResult>;
const QuarantineOutcome = z.strictObject({
  namespace: z.string(),
  labelKey: z.string(),
  labelValue: z.string(),
  quarantinedAt: z.string(),
  pods: z.array(PodResult),
  succeeded: z.array(z.string()),
  failed: z.array(z.string()),
});

/** How the source pods are found, in words (`app=payments-api`, `serviceAccountName=payments-api`). */
export function podQuery(
  ctx: ActionContext,
  params: { selector: string; by?: 'selector' | 'service-account' },
): { describe: string; labelSelector?: string; serviceAccount?: string } {
  if (params.by === 'service-account') {
    const sa = serviceAccountOf(ctx);
    return { describe: `serviceAccountName=${sa}`, serviceAccount: sa };
  }
  const sel = formatSelector(selectorLabels(params.selector, ctx));
  return { describe: sel, labelSelector: sel };
}

/** The source workload's pods, in the alert's source namespace. */
export async function resolvePods(
  ctx: ActionContext,
  params: { selector: string; by?: 'selector' | 'service-account' },
): Promise<Pod[]> {
  const cluster = requireCluster(ctx);
  const { namespace } = sourceOf(ctx);
  const q = podQuery(ctx, params);
  if (q.serviceAccount !== undefined) {
    const all = await cluster.listPods(namespace, { signal: ctx.signal });
    return all.filter((p) => (p.spec?.serviceAccountName ?? 'default') === q.serviceAccount);
  }
  return cluster.listPods(namespace, { labelSelector: q.labelSelector!, signal: ctx.signal });
}

const ours = (pod: Pod, incidentId: string) => pod.metadata.annotations?.[ANNOTATION_INCIDENT] === incidentId;

function planned(pod: Pod, params: QuarantineParams, incidentId: string): z.output<typeof PlannedPod> {
  const labels = pod.metadata.labels ?? {};
  return {
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid ?? '',
    previous: Object.hasOwn(labels, params.label_key) ? labels[params.label_key]! : null,
    already: labels[params.label_key] === params.label_value && ours(pod, incidentId),
  };
}

/** The plan's pods against the cluster's now: new, gone, and replaced (same name, another pod). */
function podDrift(plan: QuarantinePlan, now: Pod[]): string[] {
  const byName = new Map(now.map((p) => [p.metadata.name ?? '', p]));
  const planned = new Set(plan.pods.map((p) => p.name));
  const out: string[] = [];
  for (const p of plan.pods) {
    const current = byName.get(p.name);
    if (!current) out.push(`pod ${p.name} gone since the preview`);
    else if (p.uid && current.metadata.uid && current.metadata.uid !== p.uid)
      out.push(`pod ${p.name} replaced since the preview`);
  }
  for (const name of byName.keys()) if (!planned.has(name)) out.push(`pod ${name} new since the preview`);
  return out;
}

export const quarantine = defineAction({
  id: 'k8s.quarantine',
  description: "Label the source workload's pods quarantine=true (and annotate them with the incident)",
  params: QuarantineParams,
  planData: QuarantinePlan,
  outcomeData: QuarantineOutcome,
  rbac: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] }],
  destructive: true,
  needsCluster: true,
  example: { selector: 'app={service}', label_key: 'quarantine', label_value: 'true' },

  async plan(ctx, params) {
    const { namespace } = sourceOf(ctx);
    assertNamespaceAllowed(ctx.namespaces, namespace);
    const q = podQuery(ctx, params);
    const adds = `label ${params.label_key}=${params.label_value}; annotations ${ANNOTATION_INCIDENT}=${ctx.incident.id}, ${ANNOTATION_QUARANTINED_AT}=<time of apply>`;
    if (!ctx.cluster) {
      return {
        summary: `label the pods matching ${q.describe} in ${namespace} ${params.label_key}=${params.label_value}`,
        preview: `pods: ${q.describe} in ${namespace} (no cluster configured: not listed)\nadds: ${adds}`,
        changes: true,
        data: { namespace, selector: q.describe, listed: false, pods: [] },
      };
    }
    const pods = await resolvePods(ctx, params);
    if (pods.length === 0)
      throw new CodedError('k8s_not_found', `no pods matched ${q.describe} in ${namespace}`);
    const entries = pods.map((p) => planned(p, params, ctx.incident.id));
    const todo = entries.filter((e) => !e.already);
    return {
      summary: `label ${todo.length} of ${pods.length} pod(s) matching ${q.describe} in ${namespace} ${params.label_key}=${params.label_value}`,
      preview: [
        `namespace: ${namespace}`,
        `pods (${q.describe}):`,
        ...entries.map((e) => `  - ${e.name}${e.already ? ' (already quarantined: no change)' : ''}`),
        'adds:',
        `  labels: { ${params.label_key}: "${params.label_value}" }`,
        `  annotations: { ${ANNOTATION_INCIDENT}: ${ctx.incident.id}, ${ANNOTATION_QUARANTINED_AT}: <time of apply> }`,
      ].join('\n'),
      changes: todo.length > 0,
      data: { namespace, selector: q.describe, listed: true, pods: entries },
    };
  },

  async drift(ctx, plan, params) {
    if (!plan.data.listed) return [];
    return podDrift(plan.data, await resolvePods(ctx, params));
  },

  /** Labels exactly the pods of the confirmed plan; a pod of the plan that is gone is reported, never replaced by another. */
  async apply(ctx, plan, params) {
    const cluster = requireCluster(ctx);
    const { namespace } = plan.data;
    assertNamespaceAllowed(ctx.namespaces, namespace);
    const at = new Date(ctx.clock.now()).toISOString();
    const results = await mapLimit(plan.data.pods, params.concurrency, async (entry): Promise<PodResult> => {
      const pod = await cluster.getPod(namespace, entry.name, { signal: ctx.signal });
      const base = { name: entry.name, previous: entry.previous };
      if (!pod || (entry.uid && pod.metadata.uid && pod.metadata.uid !== entry.uid)) {
        return {
          ...base,
          previousAnnotations: {},
          result: 'gone',
          error: 'not the pod of the plan any more',
        };
      }
      const annotations = pod.metadata.annotations ?? {};
      const mine = ours(pod, ctx.incident.id);
      // A resumed apply finds our own annotations: the values before us are the ones the plan saw.
      const previousAnnotations = {
        [ANNOTATION_INCIDENT]: mine ? null : (annotations[ANNOTATION_INCIDENT] ?? null),
        [ANNOTATION_QUARANTINED_AT]: mine ? null : (annotations[ANNOTATION_QUARANTINED_AT] ?? null),
      };
      if (mine && pod.metadata.labels?.[params.label_key] === params.label_value) {
        return {
          ...base,
          previousAnnotations,
          result: entry.already || ctx.attempt <= 1 ? 'already' : 'before-restart',
        };
      }
      return patchPod(ctx, params, namespace, entry.name, at).then(
        () => ({ ...base, previousAnnotations, result: 'labelled' as const }),
        (err: unknown) => ({
          ...base,
          previousAnnotations,
          result: 'failed' as const,
          error: errorMessage(err),
        }),
      );
    });
    const failed = results.filter((r) => r.result === 'failed' || r.result === 'gone');
    if (results.length > 0 && failed.length === results.length) {
      const messages = [...new Set(failed.map((f) => f.error))];
      const why = messages.length === 1 ? messages[0] : failed.map((f) => `${f.name}: ${f.error}`).join('; ');
      throw new CodedError(
        'action_failed',
        `could not label any of the ${failed.length} pod(s) of the plan in ${namespace} (${failed.map((f) => f.name).join(', ')}): ${why}`,
        { details: { succeeded: [], failed: failed.map((f) => f.name) } },
      );
    }
    return {
      status: 'applied' as const,
      summary: summarize(results, params, namespace),
      data: {
        namespace,
        labelKey: params.label_key,
        labelValue: params.label_value,
        quarantinedAt: at,
        pods: results,
        succeeded: results.filter((r) => !failed.includes(r)).map((r) => r.name),
        failed: failed.map((r) => r.name),
      },
    };
  },

  async revert(ctx, outcome) {
    const cluster = requireCluster(ctx);
    const data = outcome.data;
    const restored: string[] = [];
    const gone: string[] = [];
    for (const pod of data.pods.filter((p) => p.result !== 'failed' && p.result !== 'gone')) {
      try {
        await cluster.patch(
          { apiVersion: 'v1', kind: 'Pod', namespace: data.namespace, name: pod.name },
          { metadata: { labels: { [data.labelKey]: pod.previous }, annotations: pod.previousAnnotations } },
          'merge',
          { dryRun: ctx.dryRun, signal: ctx.signal },
        );
        restored.push(pod.name);
      } catch (err) {
        if (errorCode(err) !== 'k8s_not_found') throw err;
        gone.push(pod.name);
      }
    }
    return {
      status: 'applied',
      summary: `restored label ${data.labelKey} on ${restored.length} pod(s)${restored.length > 0 ? ` (${restored.join(', ')})` : ''}${gone.length > 0 ? `; already gone: ${gone.join(', ')}` : ''}`,
      data: { restored, gone },
    };
  },
});

function patchPod(ctx: ActionContext, params: QuarantineParams, namespace: string, name: string, at: string) {
  return requireCluster(ctx).patch(
    { apiVersion: 'v1', kind: 'Pod', namespace, name },
    {
      metadata: {
        labels: { [params.label_key]: params.label_value },
        annotations: { [ANNOTATION_INCIDENT]: ctx.incident.id, [ANNOTATION_QUARANTINED_AT]: at },
      },
    },
    'merge',
    { dryRun: ctx.dryRun, signal: ctx.signal },
  );
}

/** What the cluster holds now, in one line: after a resume, how much was done before the restart. */
function summarize(results: PodResult[], params: QuarantineParams, namespace: string): string {
  const named = (rs: PodResult[]) => (rs.length > 0 ? ` (${rs.map((r) => r.name).join(', ')})` : '');
  const of = (kind: PodResult['result']) => results.filter((r) => r.result === kind);
  const labelled = of('labelled');
  const before = of('before-restart');
  const already = of('already');
  const failed = [...of('failed'), ...of('gone')];
  const done = [...before, ...labelled];
  return [
    `labelled ${done.length} pod(s) ${params.label_key}=${params.label_value} in ${namespace}${named(done)}${before.length > 0 ? `: ${before.length} before the restart, ${labelled.length} now` : ''}`,
    ...(already.length > 0
      ? [`${already.length} already quarantined (no-op: ${already.map((r) => r.name).join(', ')})`]
      : []),
    ...(failed.length > 0
      ? [`FAILED ${failed.length}: ${failed.map((r) => `${r.name}: ${r.error}`).join('; ')}`]
      : []),
  ].join('; ');
}
