/**
 * # k8s.delete-quarantined-pods: delete the quarantined pods once evidence is collected
 *
 * A quarantined pod kept for forensics keeps its bound ServiceAccount token until it is deleted, so
 * rotation is not complete while it lives. Run this after the evidence is collected; put it in a step
 * with an approval rule in the playbook. Deletes only the pods labelled `<label_key>=<label_value>` in
 * the source namespace. No revert.
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
import { type ActionContext, defineAction, type Outcome, type Plan } from '../define.js';
import { allowedNamespace, NO_CLUSTER_NOTE, plural, requireCluster } from './k8s-common.js';

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const DeleteQuarantinedPodsParams = z.strictObject({
  label_key: z.string().max(316).regex(LABEL_KEY, { error: 'expected a label key' }).default('quarantine'),
  label_value: z.string().max(63).regex(LABEL_VALUE, { error: 'expected a label value' }).default('true'),
});
export type DeleteQuarantinedPodsParams = z.output<typeof DeleteQuarantinedPodsParams>;

async function quarantinedPods(ctx: ActionContext, namespace: string, selector: string): Promise<string[]> {
  const cluster = requireCluster(ctx, 'k8s.delete-quarantined-pods');
  const pods = await cluster.listPods(namespace, { labelSelector: selector, signal: ctx.signal });
  return pods
    .map((p) => p.metadata.name ?? '')
    .filter((n) => n !== '')
    .sort();
}

export const deleteQuarantinedPods = defineAction({
  id: 'k8s.delete-quarantined-pods',
  description:
    'Delete the quarantined pods (label quarantine=true by default) in the source namespace: a kept pod keeps its bound ServiceAccount token. Run after evidence is collected; needs approval in the playbook; no revert',
  params: DeleteQuarantinedPodsParams,
  rbac: [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] }],
  destructive: true,
  needsCluster: true,
  example: { label_key: 'quarantine', label_value: 'true' },

  async plan(ctx, params): Promise<Plan> {
    const namespace = allowedNamespace(ctx);
    const selector = `${params.label_key}=${params.label_value}`;
    if (!ctx.cluster) {
      return {
        summary: `delete the pods labelled ${selector} in ${namespace} (${NO_CLUSTER_NOTE})`,
        changes: true,
        data: { namespace, selector, pods: [] },
      };
    }
    const pods = await quarantinedPods(ctx, namespace, selector);
    if (pods.length === 0) {
      return {
        summary: `no pods labelled ${selector} in ${namespace}`,
        changes: false,
        data: { namespace, selector, pods: [] },
      };
    }
    return {
      summary: `delete ${plural(pods.length, 'quarantined pod')} in ${namespace} (labelled ${selector})`,
      preview: pods.map((p) => `- Pod ${namespace}/${p}`).join('\n'),
      changes: true,
      data: { namespace, selector, pods },
    };
  },

  async apply(ctx, _plan, params): Promise<Outcome> {
    const cluster = requireCluster(ctx, 'k8s.delete-quarantined-pods');
    const namespace = allowedNamespace(ctx);
    const selector = `${params.label_key}=${params.label_value}`;
    const pods = await quarantinedPods(ctx, namespace, selector);
    if (pods.length === 0) {
      return {
        status: 'skipped',
        summary: 'no pods deleted',
        reason: `no pods labelled ${selector} in ${namespace}`,
        data: { namespace, selector, deleted: [] },
      };
    }
    const deleted: string[] = [];
    for (const name of pods) {
      if (
        await cluster.delete(
          { apiVersion: 'v1', kind: 'Pod', namespace, name },
          { dryRun: ctx.dryRun, signal: ctx.signal },
        )
      ) {
        deleted.push(name);
      }
    }
    return {
      status: 'applied',
      summary: `deleted ${plural(deleted.length, 'quarantined pod')} in ${namespace}: ${deleted.join(', ')}`,
      data: { namespace, selector, deleted, dry_run: ctx.dryRun },
    };
  },
});
