import { z } from 'zod';
import { CodedError } from '../../../domain/errors.js';
import { assertNamespaceAllowed } from '../../../domain/namespace-policy.js';
import type { Pod } from '../../../k8s/types.js';
import { type ActionContext, defineAction, type Json, type Outcome } from '../../define.js';
import {
  ANNOTATION_INCIDENT,
  ANNOTATION_QUARANTINED_AT,
  DEFAULT_QUARANTINE_KEY,
  DEFAULT_QUARANTINE_VALUE,
  DEFAULT_SELECTOR,
  errorCode,
  errorMessage,
  mapLimit,
  renderSelector,
  requireCluster,
  serviceAccountOf,
  sourceOf,
} from './common.js';

export const QuarantineParams = z.strictObject({
  /** Label selector template; `{service}` and `{namespace}` come from the alert's source. */
  selector: z.string().min(1).default(DEFAULT_SELECTOR),
  /** `service-account`: pods whose spec.serviceAccountName is the source's service account. */
  by: z.enum(['selector', 'service-account']).default('selector'),
  label_key: z.string().min(1).default(DEFAULT_QUARANTINE_KEY),
  label_value: z.string().default(DEFAULT_QUARANTINE_VALUE),
  concurrency: z.number().int().min(1).max(50).default(5),
});
export type QuarantineParams = z.output<typeof QuarantineParams>;

/** How the source pods are found, in words (`app=payments-api`, `serviceAccountName=payments-api`). */
export function podQuery(
  ctx: ActionContext,
  params: { selector: string; by?: 'selector' | 'service-account' },
): { describe: string; labelSelector?: string; serviceAccount?: string } {
  if (params.by === 'service-account') {
    const sa = serviceAccountOf(ctx);
    return { describe: `serviceAccountName=${sa}`, serviceAccount: sa };
  }
  const sel = renderSelector(params.selector, ctx);
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

type PodResult = {
  name: string;
  previous: string | null;
  previousAnnotations: Record<string, string | null>;
  result: 'labelled' | 'already' | 'failed';
  error?: string;
};

export const quarantine = defineAction({
  id: 'k8s.quarantine',
  description: "Label the source workload's pods quarantine=true (and annotate them with the incident)",
  params: QuarantineParams,
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
        data: { namespace, selector: q.describe, pods: [] },
      };
    }
    const pods = await resolvePods(ctx, params);
    if (pods.length === 0)
      throw new CodedError('k8s_not_found', `no pods matched ${q.describe} in ${namespace}`);
    const entries = pods.map((p) => {
      const labels = p.metadata.labels ?? {};
      const annotations = p.metadata.annotations ?? {};
      return {
        name: p.metadata.name ?? '',
        previous: Object.hasOwn(labels, params.label_key) ? labels[params.label_key]! : null,
        already:
          labels[params.label_key] === params.label_value &&
          annotations[ANNOTATION_INCIDENT] === ctx.incident.id,
      };
    });
    const todo = entries.filter((e) => !e.already);
    const lines = entries.map((e) => `  - ${e.name}${e.already ? ' (already quarantined: no change)' : ''}`);
    return {
      summary: `label ${todo.length} of ${pods.length} pod(s) matching ${q.describe} in ${namespace} ${params.label_key}=${params.label_value}`,
      preview: [
        `namespace: ${namespace}`,
        `pods (${q.describe}):`,
        ...lines,
        'adds:',
        `  labels: { ${params.label_key}: "${params.label_value}" }`,
        `  annotations: { ${ANNOTATION_INCIDENT}: ${ctx.incident.id}, ${ANNOTATION_QUARANTINED_AT}: <time of apply> }`,
      ].join('\n'),
      changes: todo.length > 0,
      data: {
        namespace,
        selector: q.describe,
        pods: entries.map((e) => ({ name: e.name, previous: e.previous })),
      },
    };
  },

  async apply(ctx, plan, params) {
    const cluster = requireCluster(ctx);
    const { namespace } = sourceOf(ctx);
    assertNamespaceAllowed(ctx.namespaces, namespace);
    const q = podQuery(ctx, params);
    const pods = await resolvePods(ctx, params);
    if (pods.length === 0)
      throw new CodedError('k8s_not_found', `no pods matched ${q.describe} in ${namespace}`);
    // A resumed apply finds our own label: the value before it is the one the plan saw.
    const planned = new Map(
      ((plan.data as { pods?: { name: string; previous: string | null }[] }).pods ?? []).map((p) => [
        p.name,
        p.previous,
      ]),
    );
    const at = new Date(ctx.clock.now()).toISOString();
    const results = await mapLimit(pods, params.concurrency, async (pod): Promise<PodResult> => {
      const name = pod.metadata.name ?? '';
      const labels = pod.metadata.labels ?? {};
      const annotations = pod.metadata.annotations ?? {};
      const ours = annotations[ANNOTATION_INCIDENT] === ctx.incident.id;
      const current = Object.hasOwn(labels, params.label_key) ? labels[params.label_key]! : null;
      const previous = ours && planned.has(name) ? planned.get(name)! : current;
      const previousAnnotations = {
        [ANNOTATION_INCIDENT]: ours ? null : (annotations[ANNOTATION_INCIDENT] ?? null),
        [ANNOTATION_QUARANTINED_AT]: ours ? null : (annotations[ANNOTATION_QUARANTINED_AT] ?? null),
      };
      if (ours && current === params.label_value)
        return { name, previous, previousAnnotations, result: 'already' };
      try {
        await cluster.patch(
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
        return { name, previous, previousAnnotations, result: 'labelled' };
      } catch (err) {
        return { name, previous, previousAnnotations, result: 'failed', error: errorMessage(err) };
      }
    });
    const failed = results.filter((r) => r.result === 'failed');
    const labelled = results.filter((r) => r.result === 'labelled');
    const already = results.filter((r) => r.result === 'already');
    if (failed.length === results.length) {
      const messages = [...new Set(failed.map((f) => f.error))];
      const why = messages.length === 1 ? messages[0] : failed.map((f) => `${f.name}: ${f.error}`).join('; ');
      throw new CodedError(
        'action_failed',
        `could not label any of the ${failed.length} pod(s) matching ${q.describe} in ${namespace} (${failed.map((f) => f.name).join(', ')}): ${why}`,
        { details: { succeeded: [], failed: failed.map((f) => f.name) } },
      );
    }
    const parts = [
      `labelled ${labelled.length} pod(s) ${params.label_key}=${params.label_value} in ${namespace}${labelled.length > 0 ? ` (${labelled.map((r) => r.name).join(', ')})` : ''}`,
      ...(already.length > 0
        ? [`${already.length} already quarantined (no-op: ${already.map((r) => r.name).join(', ')})`]
        : []),
      ...(failed.length > 0
        ? [`FAILED ${failed.length}: ${failed.map((r) => `${r.name}: ${r.error}`).join('; ')}`]
        : []),
    ];
    return {
      status: 'applied',
      summary: parts.join('; '),
      data: {
        namespace,
        labelKey: params.label_key,
        labelValue: params.label_value,
        quarantinedAt: at,
        pods: results as unknown as Json,
        succeeded: [...labelled, ...already].map((r) => r.name),
        failed: failed.map((r) => r.name),
      },
    };
  },

  async revert(ctx, outcome) {
    const cluster = requireCluster(ctx);
    const data = outcome.data as { namespace: string; labelKey: string; pods: PodResult[] };
    const restored: string[] = [];
    const gone: string[] = [];
    for (const pod of data.pods.filter((p) => p.result !== 'failed')) {
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
    } satisfies Outcome;
  },
});
