/**
 * # k8s.job: run a rotation script as a Job and record its result
 *
 * Creates a Job in the source namespace from the playbook's template, waits (bounded by `wait`) for it
 * to succeed or fail, and records the result with the last `log_lines` lines of its pod's log. The
 * Job's name is `<name_prefix><incident id>-<hash of the idempotency key and template>`, so a retry or
 * a resume finds the Job it already created (AlreadyExists counts as created) instead of running the
 * script twice. In dry-run the Job is sent with dryRun=All and not awaited. No revert: a finished
 * rotation cannot be undone by deleting its Job.
 *
 * The plan carries the rendered Job; apply creates exactly that object (not a fresh rendering), and
 * takes an existing Job of that name as already created only when it carries this step's
 * idempotency key. `drift` says when the Job would render differently now (the playbook changed), or
 * when a Job of that name appeared or disappeared since the preview (a deleted Job would run again).
 *
 * ```yaml
 * - uses: k8s.job
 *   with:
 *     wait: 5m
 *     template:
 *       spec:
 *         backoffLimit: 1
 *         template:
 *           spec:
 *             serviceAccountName: rotator
 *             containers: [{ name: rotate, image: registry.example/rotator:1, args: [payments-api] }]
 * ```
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { DurationText } from '../../domain/duration.js';
import { CodedError } from '../../domain/errors.js';
import { toJson } from '../../domain/json.js';
import type { KubeObject } from '../../k8s/types.js';
import { type ActionContext, defineAction, type Json } from '../define.js';
import {
  allowedNamespace,
  isConflict,
  laterAttempt,
  NO_CLUSTER_NOTE,
  plannedNamespace,
  pollUntil,
  record,
  requireCluster,
  shortDuration,
} from './k8s-common.js';
import { jobState, lastLogLines } from './k8s-job-status.js';

const ID = 'k8s.job';
export const INCIDENT_ANNOTATION = 'egress-responder/incident';
export const IDEMPOTENCY_ANNOTATION = 'egress-responder/idempotency-key';

export const DRY_RUN_JOB_LINE = 'dry-run: job not awaited';
export const MANAGED_BY = 'egress-responder';

const LabelMap = z.record(z.string().min(1).max(317), z.string().max(63));

export const JobTemplate = z.strictObject({
  metadata: z
    .strictObject({ labels: LabelMap.optional(), annotations: z.record(z.string(), z.string()).optional() })
    .optional(),
  spec: z
    .record(z.string(), z.unknown())
    .refine((s) => typeof s.template === 'object' && s.template !== null && !Array.isArray(s.template), {
      error: 'a Job spec needs template (the pod template)',
    }),
});

export const K8sJobParams = z.strictObject({
  template: JobTemplate,
  name_prefix: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*)?$/, { error: 'expected lowercase letters, digits and dashes' })
    .max(20)
    .default('rotate-'),
  wait: DurationText.default(300_000),
  poll: DurationText.default(2_000),
  log_lines: z.number().int().min(0).max(500).default(20),
});
export type K8sJobParams = z.output<typeof K8sJobParams>;

/** The Job exactly as apply creates it (JSON: the spec is the playbook's template, restartPolicy filled). */
export const RenderedJob = z.strictObject({
  apiVersion: z.literal('batch/v1'),
  kind: z.literal('Job'),
  metadata: z.strictObject({
    name: z.string().min(1),
    namespace: z.string().min(1),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()),
  }),
  spec: z.record(z.string(), z.json()),
});
export type RenderedJob = z.output<typeof RenderedJob>;

export const K8sJobPlan = z.strictObject({
  namespace: z.string(),
  name: z.string(),
  /** Whether a Job of that name existed when planned (null: planned without a cluster). */
  exists: z.boolean().nullable(),
  dry_run: z.boolean(),
  job: RenderedJob,
});
export type K8sJobPlan = z.output<typeof K8sJobPlan>;

export const K8sJobOutcome = z.strictObject({
  namespace: z.string(),
  name: z.string(),
  /** False: the Job already existed (created earlier for this step): awaited, not run again. */
  created: z.boolean(),
  dry_run: z.boolean(),
});
export type K8sJobOutcome = z.output<typeof K8sJobOutcome>;

/** `<prefix><incident id, DNS-safe>-<6 hex>`, at most 63 characters, stable for one step's action. */
export function jobName(
  ctx: Pick<ActionContext, 'incident' | 'idempotencyKey'>,
  params: K8sJobParams,
): string {
  const hash = createHash('sha256')
    .update(`${ctx.idempotencyKey}\n${JSON.stringify(params.template)}`)
    .digest('hex')
    .slice(0, 6);
  const id = ctx.incident.id
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const room = 63 - params.name_prefix.length - hash.length - 1;
  const head = `${params.name_prefix}${id.slice(0, room).replace(/-$/, '')}`;
  return `${head}${head.endsWith('-') ? '' : '-'}${hash}`;
}

export function renderJob(
  ctx: Pick<ActionContext, 'incident' | 'idempotencyKey'>,
  params: K8sJobParams,
  namespace: string,
): RenderedJob {
  const name = jobName(ctx, params);
  const raw = structuredClone(params.template.spec);
  const podTemplate = record(raw.template);
  const podSpec = record(podTemplate.spec);
  if (podSpec.restartPolicy === undefined)
    raw.template = { ...podTemplate, spec: { ...podSpec, restartPolicy: 'Never' } };
  // As JSON: what is stored with the plan and read back is exactly what is created.
  const spec = RenderedJob.shape.spec.parse(toJson(raw));
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace,
      labels: {
        ...(params.template.metadata?.labels ?? {}),
        'app.kubernetes.io/managed-by': MANAGED_BY,
      },
      annotations: {
        ...(params.template.metadata?.annotations ?? {}),
        [INCIDENT_ANNOTATION]: ctx.incident.id,
        [IDEMPOTENCY_ANNOTATION]: ctx.idempotencyKey,
      },
    },
    spec,
  };
}

export const k8sJob = defineAction({
  id: ID,
  description:
    'Create a Job from a playbook template (a rotation script) in the source namespace, wait for it with a timeout and record success or failure with the last lines of its log; idempotent name per incident step; no revert',
  params: K8sJobParams,
  planData: K8sJobPlan,
  outcomeData: K8sJobOutcome,
  rbac: [
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  ],
  destructive: true,
  needsCluster: true,
  example: {
    wait: '5m',
    template: {
      spec: { backoffLimit: 1, template: { spec: { containers: [{ name: 'rotate', image: 'rotator:1' }] } } },
    },
  },

  async plan(ctx, params) {
    const namespace = allowedNamespace(ctx);
    const job = renderJob(ctx, params, namespace);
    const name = job.metadata.name;
    const existing = ctx.cluster
      ? await ctx.cluster.get(jobRef(namespace, name), { signal: ctx.signal })
      : undefined;
    const note = !ctx.cluster
      ? ` (${NO_CLUSTER_NOTE})`
      : existing
        ? ' (already created: it will be awaited)'
        : '';
    return {
      summary: `create Job ${namespace}/${name}, wait up to ${shortDuration(params.wait)}${note}`,
      preview: stringifyYaml(job),
      changes: !existing,
      data: { namespace, name, exists: ctx.cluster ? Boolean(existing) : null, dry_run: ctx.dryRun, job },
    };
  },

  async drift(ctx, plan, params) {
    if (!ctx.cluster) return [];
    const d = plan.data;
    const out: string[] = [];
    const now = renderJob(ctx, params, d.namespace);
    if (now.metadata.name !== d.name) {
      out.push(
        `the Job would differ: the playbook's template changed (it would now be ${now.metadata.name}, not ${d.name})`,
      );
    } else if (!isDeepStrictEqual(now, d.job)) {
      out.push(`the Job ${d.name} would differ from the preview (${differingParts(d.job, now).join(', ')})`);
    }
    const existing = await ctx.cluster.get(jobRef(d.namespace, d.name), { signal: ctx.signal });
    if (existing && d.exists !== true) {
      out.push(
        ownedBy(existing, d.job)
          ? `Job ${d.name} created since the preview (it would be awaited, not created)`
          : `Job ${d.name} created since the preview by something else`,
      );
    } else if (!existing && d.exists === true) {
      out.push(`Job ${d.name} gone since the preview (it would be created and run again)`);
    }
    return out;
  },

  async apply(ctx, plan) {
    const cluster = requireCluster(ctx, ID);
    const d = plan.data;
    const namespace = plannedNamespace(ctx, d.namespace);
    const { job, name } = d;
    if (job.metadata.namespace !== namespace || job.metadata.name !== name) {
      throw new CodedError(
        'internal',
        `${ID}: the planned Job is ${job.metadata.namespace}/${job.metadata.name}, not ${namespace}/${name}`,
        {
          userSafe: false,
        },
      );
    }
    let created = true;
    try {
      await cluster.create(job, { dryRun: ctx.dryRun, signal: ctx.signal });
    } catch (err) {
      if (!isConflict(err)) throw err;
      // AlreadyExists: ours only if it carries this step's idempotency key; another Job is not awaited.
      const existing = await cluster.get(jobRef(namespace, name), { signal: ctx.signal });
      if (existing && !ownedBy(existing, job)) {
        throw new CodedError(
          'action_failed',
          `${ID}: a Job ${namespace}/${name} exists that was not created for this step (no matching ${IDEMPOTENCY_ANNOTATION}): left alone, not awaited`,
          { cause: err, details: { namespace, name } },
        );
      }
      created = false;
    }
    const summary = created
      ? `Job ${namespace}/${name} created`
      : ctx.attempt > 1
        ? `Job ${namespace}/${name} already existed ${laterAttempt(ctx)} (created before it): awaited, not run again`
        : `Job ${namespace}/${name} already existed (created earlier)`;
    return { status: 'applied', summary, data: { namespace, name, created, dry_run: ctx.dryRun } };
  },

  async verify(ctx, outcome, params) {
    const { namespace, name } = outcome.data;
    if (ctx.dryRun) return { ok: true, line: DRY_RUN_JOB_LINE, data: { namespace, name } };
    const cluster = requireCluster(ctx, 'k8s.job');
    const result = await pollUntil(
      { waitMs: params.wait, pollMs: params.poll, signal: ctx.signal },
      async () => {
        const job = await cluster.get(jobRef(namespace, name), { signal: ctx.signal });
        const state = jobState(job);
        return { done: state.phase !== 'running', value: state };
      },
    );
    const state = result.value;
    const log =
      params.log_lines > 0
        ? await lastLogLines(cluster, namespace, name, params.log_lines, ctx.signal)
        : { lines: [] };
    const logNote =
      log.lines.length > 0 ? ` | log: ${log.lines.join(' ⏎ ')}` : log.error ? ` | log: ${log.error}` : '';
    const out: Json = {
      namespace,
      name,
      phase: state.phase,
      succeeded: state.succeeded,
      failed: state.failed,
      active: state.active,
      waited_ms: result.waitedMs,
      pod: log.pod ?? null,
      log: log.lines,
      ...(log.error ? { log_error: log.error } : {}),
    };
    const counts = `succeeded ${state.succeeded}, failed ${state.failed}, active ${state.active}`;
    switch (state.phase) {
      case 'succeeded':
        return { ok: true, line: `Job ${namespace}/${name} succeeded${logNote}`, data: out };
      case 'failed':
        return {
          ok: false,
          line: `Job ${namespace}/${name} failed (${state.why ?? counts})${logNote}`,
          data: out,
        };
      case 'missing':
        return { ok: false, line: `Job ${namespace}/${name} no longer exists`, data: out };
      default:
        return {
          ok: false,
          line: `Job ${namespace}/${name} not finished after ${shortDuration(params.wait)} (${counts})${logNote}`,
          data: out,
        };
    }
  },
});

/** Whether an existing Job was created for the same step as `planned` (same idempotency key). */
function ownedBy(existing: KubeObject, planned: RenderedJob): boolean {
  return (
    existing.metadata.annotations?.[IDEMPOTENCY_ANNOTATION] ===
    planned.metadata.annotations[IDEMPOTENCY_ANNOTATION]
  );
}

/** Which parts of the rendered Job differ: `labels`, `annotations`, `spec.<key>`. */
function differingParts(a: RenderedJob, b: RenderedJob): string[] {
  const parts: string[] = [];
  if (!isDeepStrictEqual(a.metadata.labels, b.metadata.labels)) parts.push('labels');
  if (!isDeepStrictEqual(a.metadata.annotations, b.metadata.annotations)) parts.push('annotations');
  for (const key of [...new Set([...Object.keys(a.spec), ...Object.keys(b.spec)])].sort()) {
    if (!isDeepStrictEqual(a.spec[key], b.spec[key])) parts.push(`spec.${key}`);
  }
  return parts.length > 0 ? parts : ['metadata'];
}

function jobRef(namespace: string, name: string) {
  return { apiVersion: 'batch/v1', kind: 'Job', namespace, name };
}
