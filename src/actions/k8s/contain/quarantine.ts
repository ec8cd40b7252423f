import { z } from 'zod';
import { CodedError } from '../../../domain/errors.js';
import { assertNamespaceAllowed } from '../../../domain/namespace-policy.js';
import { type ActionContext, defineAction } from '../../define.js';
import {
  ANNOTATION_INCIDENT,
  ANNOTATION_QUARANTINED_AT,
  DEFAULT_QUARANTINE_KEY,
  DEFAULT_QUARANTINE_VALUE,
  DEFAULT_SELECTOR,
  formatSelector,
  mapLimit,
  requireCluster,
  SelectorTemplate,
  selectorLabels,
  serviceAccountOf,
  sourceOf,
} from './common.js';
import { type PodRead, readPod } from './kube-read.js';
import { assertBlastRadius, describeOwners, Owner, ownerDrift, ownersOf } from './quarantine-owners.js';
import {
  isOurs,
  labelPod,
  NOT_LABELLED,
  type PodResult,
  PodResult as PodResultSchema,
  restorePod,
} from './quarantine-pods.js';

/** Default of `max_pods`: a workload bigger than this is quarantined only when the responder says so. */
export const DEFAULT_MAX_PODS = 20;

export const QuarantineParams = z.strictObject({
  /** Label selector template; `{service}` and `{namespace}` come from the alert's source. */
  selector: SelectorTemplate.default(DEFAULT_SELECTOR),
  /** `service-account`: pods whose spec.serviceAccountName is the source's service account. */
  by: z.enum(['selector', 'service-account']).default('selector'),
  label_key: z.string().min(1).default(DEFAULT_QUARANTINE_KEY),
  label_value: z.string().default(DEFAULT_QUARANTINE_VALUE),
  concurrency: z.number().int().min(1).max(50).default(5),
  /** Blast radius: a selection of more pods than this is refused at plan time; raise it to widen. */
  max_pods: z.number().int().min(1).default(DEFAULT_MAX_PODS),
  /**
   * Blast radius: a selection spanning more than one workload (Deployment, StatefulSet, DaemonSet,
   * Job, CronJob, or pods with no controller) is refused at plan time unless this is true.
   */
  allow_multiple_owners: z.boolean().default(false),
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
  /** The workloads of the pods, as the preview named them (absent in plans made before it was recorded). */
  owners: z.array(Owner).optional(),
});
type QuarantinePlan = z.output<typeof QuarantinePlan>;

const QuarantineOutcome = z.strictObject({
  namespace: z.string(),
  labelKey: z.string(),
  labelValue: z.string(),
  quarantinedAt: z.string(),
  pods: z.array(PodResultSchema),
  succeeded: z.array(z.string()),
  failed: z.array(z.string()),
});

/** How the source pods are found: in words (`app=payments-api`, `serviceAccountName=payments-api`), and as a test. */
export function podQuery(
  ctx: ActionContext,
  params: { selector: string; by?: 'selector' | 'service-account' },
): {
  describe: string;
  labelSelector?: string;
  serviceAccount?: string;
  /** Undefined when the pod is selected; else why not. */
  misses(pod: PodRead): string | undefined;
} {
  if (params.by === 'service-account') {
    const sa = serviceAccountOf(ctx);
    return {
      describe: `serviceAccountName=${sa}`,
      serviceAccount: sa,
      misses: (pod) =>
        serviceAccountName(pod) === sa ? undefined : `no longer runs as serviceAccountName=${sa}`,
    };
  }
  const labels = selectorLabels(params.selector, ctx);
  const sel = formatSelector(labels);
  return {
    describe: sel,
    labelSelector: sel,
    misses: (pod) =>
      Object.entries(labels).every(([k, v]) => pod.metadata.labels?.[k] === v)
        ? undefined
        : `no longer matches ${sel}`,
  };
}

const serviceAccountName = (pod: PodRead) => pod.spec?.serviceAccountName ?? 'default';

/** The source workload's pods, in the alert's source namespace, nulls read as absent. */
export async function resolvePods(
  ctx: ActionContext,
  params: { selector: string; by?: 'selector' | 'service-account' },
): Promise<PodRead[]> {
  const cluster = requireCluster(ctx);
  const { namespace } = sourceOf(ctx);
  const q = podQuery(ctx, params);
  if (q.serviceAccount !== undefined) {
    const all = (await cluster.listPods(namespace, { signal: ctx.signal })).map(readPod);
    return all.filter((p) => serviceAccountName(p) === q.serviceAccount);
  }
  const pods = await cluster.listPods(namespace, { labelSelector: q.labelSelector!, signal: ctx.signal });
  return pods.map(readPod);
}

function planned(pod: PodRead, params: QuarantineParams, incidentId: string): z.output<typeof PlannedPod> {
  const labels = pod.metadata.labels ?? {};
  return {
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid ?? '',
    previous: Object.hasOwn(labels, params.label_key) ? labels[params.label_key]! : null,
    already: labels[params.label_key] === params.label_value && isOurs(pod, incidentId),
  };
}

/** The plan's pods against the cluster's now: new, gone, and replaced (same name, another pod). */
function podDrift(plan: QuarantinePlan, now: PodRead[]): string[] {
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
  rbac: [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] },
    // The blast radius: a pod's ReplicaSet leads to its Deployment, a Job to its CronJob.
    { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
  ],
  destructive: true,
  needsCluster: true,
  example: { selector: 'app={service}', label_key: 'quarantine', label_value: 'true', max_pods: 20 },

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
        data: { namespace, selector: q.describe, listed: false, pods: [], owners: [] },
      };
    }
    const pods = await resolvePods(ctx, params);
    const owners = await ownersOf(ctx.cluster, namespace, pods, ctx.signal);
    assertBlastRadius({
      describe: q.describe,
      namespace,
      owners,
      maxPods: params.max_pods,
      allowMultipleOwners: params.allow_multiple_owners,
    });
    const entries = pods.map((p) => planned(p, params, ctx.incident.id));
    const todo = entries.filter((e) => !e.already);
    return {
      summary: `label ${todo.length} of ${pods.length} pod(s) matching ${q.describe} in ${namespace} ${params.label_key}=${params.label_value}`,
      preview: [
        `namespace: ${namespace}`,
        `workloads: ${describeOwners(owners)}`,
        `pods (${q.describe}):`,
        ...entries.map((e) => `  - ${e.name}${e.already ? ' (already quarantined: no change)' : ''}`),
        'adds:',
        `  labels: { ${params.label_key}: "${params.label_value}" }`,
        `  annotations: { ${ANNOTATION_INCIDENT}: ${ctx.incident.id}, ${ANNOTATION_QUARANTINED_AT}: <time of apply> }`,
      ].join('\n'),
      changes: todo.length > 0,
      data: { namespace, selector: q.describe, listed: true, pods: entries, owners },
    };
  },

  async drift(ctx, plan, params) {
    if (!plan.data.listed) return [];
    const now = await resolvePods(ctx, params);
    const owners = plan.data.owners
      ? ownerDrift(
          plan.data.owners,
          await ownersOf(requireCluster(ctx), plan.data.namespace, now, ctx.signal),
        )
      : [];
    return [...podDrift(plan.data, now), ...owners];
  },

  /**
   * Labels exactly the pods of the confirmed plan; a pod of the plan that is gone, or no longer as
   * previewed, is reported, never replaced by another. A 409 re-reads the pod and tries again (bounded).
   */
  async apply(ctx, plan, params) {
    requireCluster(ctx);
    const { namespace } = plan.data;
    assertNamespaceAllowed(ctx.namespaces, namespace);
    const at = new Date(ctx.clock.now()).toISOString();
    const q = podQuery(ctx, params);
    const req = {
      namespace,
      labelKey: params.label_key,
      labelValue: params.label_value,
      at,
      stillSelected: q.misses,
    };
    const fresh = await listedByName(ctx, namespace, q.labelSelector);
    const results = await mapLimit(plan.data.pods, params.concurrency, (entry) =>
      labelPod(ctx, req, entry, fresh.get(entry.name)),
    );
    const failed = results.filter((r) => NOT_LABELLED.has(r.result));
    if (results.length > 0 && failed.length === results.length) {
      const messages = [...new Set(failed.map((f) => f.error))];
      const why = messages.length === 1 ? messages[0] : failed.map((f) => `${f.name}: ${f.error}`).join('; ');
      const fixes = [...new Set(failed.flatMap((f) => (f.fix ? [f.fix] : [])))];
      throw new CodedError(
        'action_failed',
        `could not label any of the ${failed.length} pod(s) of the plan in ${namespace} (${failed.map((f) => f.name).join(', ')}): ${why}`,
        {
          details: {
            succeeded: [],
            failed: failed.map((f) => f.name),
            ...(fixes.length > 0 ? { fix: fixes.join('; ') } : {}),
          },
        },
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
    const data = outcome.data;
    const restored: string[] = [];
    const gone: string[] = [];
    for (const pod of data.pods.filter((p) => !NOT_LABELLED.has(p.result))) {
      const done = await restorePod(ctx, { namespace: data.namespace, labelKey: data.labelKey }, pod);
      (done === 'restored' ? restored : gone).push(pod.name);
    }
    return {
      status: 'applied',
      summary: `restored label ${data.labelKey} on ${restored.length} pod(s)${restored.length > 0 ? ` (${restored.join(', ')})` : ''}${gone.length > 0 ? `; already gone: ${gone.join(', ')}` : ''}`,
      data: { restored, gone },
    };
  },
});

/**
 * The pods of the selection (every pod of the namespace when pods are picked by service account) as
 * the cluster holds them right before the writes, by name: one list instead of a read per pod (in
 * the pass that planned them, the plan's own list if it is under 250 ms old: actions/shared-reads.ts;
 * each write carries the resourceVersion it was judged on).
 */
async function listedByName(
  ctx: ActionContext,
  namespace: string,
  labelSelector: string | undefined,
): Promise<Map<string, PodRead>> {
  const raw = await requireCluster(ctx).listPods(namespace, {
    ...(labelSelector === undefined ? {} : { labelSelector }),
    signal: ctx.signal,
  });
  return new Map(raw.map(readPod).map((pod) => [pod.metadata.name ?? '', pod]));
}

/** What the cluster holds now, in one line: after a resume, how much was done before the restart. */
function summarize(results: PodResult[], params: QuarantineParams, namespace: string): string {
  const named = (rs: PodResult[]) => (rs.length > 0 ? ` (${rs.map((r) => r.name).join(', ')})` : '');
  const of = (kind: PodResult['result']) => results.filter((r) => r.result === kind);
  const labelled = of('labelled');
  const before = of('before-restart');
  const already = of('already');
  const failed = results.filter((r) => NOT_LABELLED.has(r.result));
  const retried = results.filter((r) => (r.attempts ?? 1) > 1 && !NOT_LABELLED.has(r.result));
  const done = [...before, ...labelled];
  return [
    `labelled ${done.length} pod(s) ${params.label_key}=${params.label_value} in ${namespace}${named(done)}${before.length > 0 ? `: ${before.length} before the restart, ${labelled.length} now` : ''}`,
    ...(retried.length > 0
      ? [
          `retried after a 409 conflict: ${retried.map((r) => `${r.name} (${r.attempts} attempts)`).join(', ')}`,
        ]
      : []),
    ...(already.length > 0
      ? [`${already.length} already quarantined (no-op: ${already.map((r) => r.name).join(', ')})`]
      : []),
    ...(failed.length > 0
      ? [`FAILED ${failed.length}: ${failed.map((r) => `${r.name}: ${r.error}`).join('; ')}`]
      : []),
  ].join('; ');
}
