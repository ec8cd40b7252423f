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
import { stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { DurationText } from '../../domain/duration.js';
import { CodedError } from '../../domain/errors.js';
import type { Cluster } from '../../k8s/cluster.js';
import type { KubeObject } from '../../k8s/types.js';
import { type ActionContext, defineAction, type Json, type Outcome, type Plan } from '../define.js';
import {
  allowedNamespace,
  NO_CLUSTER_NOTE,
  num,
  pollUntil,
  record,
  requireCluster,
  shortDuration,
} from './k8s-common.js';

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

export function renderJob(ctx: ActionContext, params: K8sJobParams, namespace: string): KubeObject {
  const name = jobName(ctx, params);
  const spec = structuredClone(params.template.spec) as Record<string, unknown>;
  const podTemplate = record(spec.template);
  const podSpec = record(podTemplate.spec);
  if (podSpec.restartPolicy === undefined) podTemplate.spec = { ...podSpec, restartPolicy: 'Never' };
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
        'egress-responder/incident': ctx.incident.id,
        'egress-responder/idempotency-key': ctx.idempotencyKey,
      },
    },
    spec,
  };
}

export const k8sJob = defineAction({
  id: 'k8s.job',
  description:
    'Create a Job from a playbook template (a rotation script) in the source namespace, wait for it with a timeout and record success or failure with the last lines of its log; idempotent name per incident step; no revert',
  params: K8sJobParams,
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

  async plan(ctx, params): Promise<Plan> {
    const namespace = allowedNamespace(ctx);
    const job = renderJob(ctx, params, namespace);
    const name = job.metadata.name ?? '';
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
      data: { namespace, name, exists: Boolean(existing), dry_run: ctx.dryRun },
    };
  },

  async apply(ctx, _plan, params): Promise<Outcome> {
    const cluster = requireCluster(ctx, 'k8s.job');
    const namespace = allowedNamespace(ctx);
    const job = renderJob(ctx, params, namespace);
    const name = job.metadata.name ?? '';
    let created = true;
    try {
      await cluster.create(job, { dryRun: ctx.dryRun, signal: ctx.signal });
    } catch (err) {
      if (!(err instanceof CodedError && err.code === 'k8s_conflict')) throw err;
      created = false;
    }
    return {
      status: 'applied',
      summary: created
        ? `Job ${namespace}/${name} created`
        : `Job ${namespace}/${name} already existed (created earlier)`,
      data: { namespace, name, created, dry_run: ctx.dryRun },
    };
  },

  async verify(ctx, outcome, params) {
    const data = record(outcome.data);
    const namespace = String(data.namespace);
    const name = String(data.name);
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
        ? await lastLogLines(ctx, cluster, namespace, name, params.log_lines)
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

interface JobState {
  phase: 'running' | 'succeeded' | 'failed' | 'missing';
  succeeded: number;
  failed: number;
  active: number;
  why?: string;
}

export function jobState(job: KubeObject | undefined): JobState {
  if (!job) return { phase: 'missing', succeeded: 0, failed: 0, active: 0 };
  const status = record(job.status);
  const succeeded = num(status.succeeded) ?? 0;
  const failed = num(status.failed) ?? 0;
  const active = num(status.active) ?? 0;
  const backoffLimit = num(record(job.spec).backoffLimit) ?? 6;
  const conditions = Array.isArray(status.conditions) ? (status.conditions as unknown[]).map(record) : [];
  const failedCond = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  const base = { succeeded, failed, active };
  if (succeeded >= 1) return { phase: 'succeeded', ...base };
  if (failedCond) {
    const why = [failedCond.reason, failedCond.message].filter((s) => typeof s === 'string').join(': ');
    return { phase: 'failed', ...base, ...(why ? { why } : {}) };
  }
  if (failed >= backoffLimit + 1) {
    return { phase: 'failed', ...base, why: `${failed} failed pods, backoffLimit ${backoffLimit}` };
  }
  return { phase: 'running', ...base };
}

async function lastLogLines(
  ctx: ActionContext,
  cluster: Cluster,
  namespace: string,
  job: string,
  n: number,
): Promise<{ lines: string[]; pod?: string; error?: string }> {
  try {
    const pods = await cluster.listPods(namespace, { labelSelector: `job-name=${job}`, signal: ctx.signal });
    const latest = pods.sort((a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
    )[0];
    const pod = latest?.metadata.name;
    if (!pod) return { lines: [], error: 'no pod of the Job found' };
    const text = await cluster.podLogs(namespace, pod, { tailLines: n, signal: ctx.signal });
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return { lines: lines.slice(-n), pod };
  } catch (err) {
    return { lines: [], error: `log unavailable: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function jobRef(namespace: string, name: string) {
  return { apiVersion: 'batch/v1', kind: 'Job', namespace, name };
}
