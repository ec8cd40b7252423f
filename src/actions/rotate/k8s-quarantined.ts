/**
 * # k8s.delete-quarantined-pods: delete the quarantined pods once evidence is collected
 *
 * A quarantined pod kept for forensics keeps its bound ServiceAccount token until it is deleted, so
 * rotation is not complete while it lives. Run this after the evidence is collected; put it in a step
 * with an approval rule in the playbook. Deletes only the pods labelled `<label_key>=<label_value>` in
 * the source namespace that k8s.quarantine annotated for this incident, and (unless `require_evidence:
 * false`) refuses while any of them has no evidence bundle from k8s.collect-evidence. No revert.
 *
 * The plan lists each pod with its uid and resourceVersion; apply deletes only those, each with both
 * as delete preconditions (a pod replaced or changed since the plan is not deleted: the step fails
 * with a conflict naming it). `drift` names listed pods gone, changed or no longer labelled, and new
 * pods with the label.
 *
 * ```yaml
 * - id: delete-quarantined
 *   approval: { from: approvers, count: 1 }
 *   actions:
 *     - uses: k8s.delete-quarantined-pods
 *       with: { label_key: quarantine, label_value: "true" }
 * ```
 */
import { z } from 'zod';
import { CodedError } from '../../domain/errors.js';
import type { Pod } from '../../k8s/types.js';
import { type ActionContext, defineAction } from '../define.js';
import { ANNOTATION_INCIDENT } from '../k8s/contain/common.js';
import {
  allowedNamespace,
  deleteListed,
  NO_CLUSTER_NOTE,
  NOT_READ_DRIFT,
  NOT_READ_REASON,
  names,
  ObjectVersion,
  plannedNamespace,
  plural,
  requireCluster,
  settleDeletes,
  versionDrift,
  versionOf,
} from './k8s-common.js';

const ID = 'k8s.delete-quarantined-pods';

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const DeleteQuarantinedPodsParams = z.strictObject({
  label_key: z.string().max(316).regex(LABEL_KEY, { error: 'expected a label key' }).default('quarantine'),
  label_value: z.string().max(63).regex(LABEL_VALUE, { error: 'expected a label value' }).default('true'),
  /**
   * Refuse to delete a pod whose evidence bundle (`<pod>.evidence.json`, stored by
   * k8s.collect-evidence) is not in this incident: deleting it loses its logs, its memory and its
   * filesystem for good. `false` is an explicit, recorded choice to go without.
   */
  require_evidence: z.boolean().default(true),
});
export type DeleteQuarantinedPodsParams = z.output<typeof DeleteQuarantinedPodsParams>;

export const DeleteQuarantinedPodsPlan = z.strictObject({
  namespace: z.string(),
  selector: z.string(),
  /** False when planned without a cluster: nothing was listed, so nothing may be deleted. */
  read: z.boolean(),
  /** The pods confirmed for deletion, by name, as they were when planned. */
  pods: z.array(ObjectVersion),
});
export type DeleteQuarantinedPodsPlan = z.output<typeof DeleteQuarantinedPodsPlan>;

export const DeleteQuarantinedPodsOutcome = z.strictObject({
  namespace: z.string(),
  selector: z.string(),
  deleted: z.array(z.string()),
  /** Listed, but gone (or already terminating) when apply reached them. */
  already_gone: z.array(z.string()),
  dry_run: z.boolean(),
});
export type DeleteQuarantinedPodsOutcome = z.output<typeof DeleteQuarantinedPodsOutcome>;

function selectorOf(params: DeleteQuarantinedPodsParams): string {
  return `${params.label_key}=${params.label_value}`;
}

async function quarantinedPods(ctx: ActionContext, namespace: string, selector: string): Promise<Pod[]> {
  const cluster = requireCluster(ctx, ID);
  const pods = await cluster.listPods(namespace, { labelSelector: selector, signal: ctx.signal });
  return pods
    .filter((p) => (p.metadata.name ?? '') !== '')
    .filter((p) => p.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** The pods among `names` with no evidence bundle stored in this incident's timeline. */
async function withoutEvidence(ctx: ActionContext, names: string[]): Promise<string[]> {
  const stored = new Set(
    (await ctx.timeline())
      .filter((e) => e.kind === 'artifact.stored' && e.details.uses === 'k8s.collect-evidence')
      .map((e) => (e.details.artifact as { name?: unknown } | undefined)?.name)
      .filter((n): n is string => typeof n === 'string'),
  );
  return names.filter((n) => !stored.has(`${n}.evidence.json`));
}

async function podNamed(ctx: ActionContext, namespace: string, name: string): Promise<Pod | undefined> {
  const cluster = requireCluster(ctx, ID);
  // A list by name, not a get: the RBAC this action needs stays list + delete.
  const pods = await cluster.listPods(namespace, {
    fieldSelector: `metadata.name=${name}`,
    signal: ctx.signal,
  });
  return pods.find((p) => p.metadata.name === name);
}

export const deleteQuarantinedPods = defineAction({
  id: ID,
  description:
    'Delete the quarantined pods (label quarantine=true by default) in the source namespace: a kept pod keeps its bound ServiceAccount token. Run after evidence is collected; needs approval in the playbook; no revert',
  params: DeleteQuarantinedPodsParams,
  planData: DeleteQuarantinedPodsPlan,
  outcomeData: DeleteQuarantinedPodsOutcome,
  rbac: [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] }],
  destructive: true,
  needsCluster: true,
  example: { label_key: 'quarantine', label_value: 'true', require_evidence: true },

  async plan(ctx, params) {
    const namespace = allowedNamespace(ctx);
    const selector = selectorOf(params);
    if (!ctx.cluster) {
      return {
        summary: `delete the pods labelled ${selector} in ${namespace} (${NO_CLUSTER_NOTE})`,
        changes: true,
        data: { namespace, selector, read: false, pods: [] },
      };
    }
    const pods = (await quarantinedPods(ctx, namespace, selector)).map(versionOf);
    const missing = params.require_evidence
      ? await withoutEvidence(
          ctx,
          pods.map((p) => p.name),
        )
      : [];
    if (missing.length > 0) {
      throw new CodedError(
        'request_refused',
        `refusing to delete ${plural(missing.length, 'quarantined pod')} with no evidence collected in ${ctx.incident.id}: ${missing.join(', ')}; run k8s.collect-evidence first, or set require_evidence: false to delete without it`,
      );
    }
    if (pods.length === 0) {
      return {
        summary: `no pods labelled ${selector} and quarantined for ${ctx.incident.id} in ${namespace}`,
        changes: false,
        data: { namespace, selector, read: true, pods: [] },
      };
    }
    return {
      summary: `delete ${plural(pods.length, 'quarantined pod')} in ${namespace} (labelled ${selector}, quarantined for ${ctx.incident.id})${params.require_evidence ? '; the evidence of each is stored' : '; WITHOUT checking that evidence was collected (require_evidence: false)'}`,
      preview: pods.map((p) => `- Pod ${namespace}/${p.name}`).join('\n'),
      changes: true,
      data: { namespace, selector, read: true, pods },
    };
  },

  async drift(ctx, plan, params) {
    if (!ctx.cluster) return [];
    const { namespace, selector } = plan.data;
    const now = await quarantinedPods(ctx, namespace, selector);
    const wanted = selectorOf(params);
    return [
      ...(plan.data.read ? [] : [NOT_READ_DRIFT]),
      ...(wanted === selector ? [] : [`the step now selects pods labelled ${wanted}, not ${selector}`]),
      ...(await versionDrift('pod', plan.data.pods, now, {
        async whyMissing(v) {
          const pod = await podNamed(ctx, namespace, v.name);
          if (!pod) return undefined;
          if (v.uid !== '' && pod.metadata.uid !== v.uid)
            return `pod ${v.name} replaced since the preview (new uid, not labelled ${selector})`;
          return `pod ${v.name} no longer labelled ${selector}`;
        },
      })),
    ];
  },

  async apply(ctx, plan) {
    const cluster = requireCluster(ctx, ID);
    const { selector, read, pods } = plan.data;
    const namespace = plannedNamespace(ctx, plan.data.namespace);
    const base = { namespace, selector, dry_run: ctx.dryRun };
    if (!read || pods.length === 0) {
      return {
        status: 'skipped',
        summary: 'no pods deleted',
        reason: read ? `no pods labelled ${selector} in ${namespace}` : NOT_READ_REASON,
        data: { ...base, deleted: [], already_gone: [] },
      };
    }
    const result = await deleteListed(
      ctx,
      cluster,
      'pod',
      (name) => ({ apiVersion: 'v1', kind: 'Pod', namespace, name }),
      pods,
      (name) => podNamed(ctx, namespace, name),
    );
    const { resumed, goneNote } = settleDeletes(ctx, ID, namespace, 'pods', result);
    const data = { ...base, deleted: result.deleted, already_gone: result.gone };
    if (result.deleted.length === 0) {
      return resumed
        ? {
            status: 'applied',
            summary: `no pods deleted now: every listed quarantined pod in ${namespace} was ${goneNote}`,
            data,
          }
        : {
            status: 'skipped',
            summary: 'no pods deleted',
            reason: `every listed pod was already gone: ${names(result.gone)}`,
            data,
          };
    }
    return {
      status: 'applied',
      summary: [
        `deleted ${plural(result.deleted.length, 'quarantined pod')} in ${namespace}: ${names(result.deleted)}`,
        ...(goneNote ? [goneNote] : []),
      ].join('; '),
      data,
    };
  },
});
