// detach: remove the workload selector's labels from the pods, so no allow-policy selecting the
// workload selects them; the originals are recorded and put back on revert.
import type { ActionContext } from '../../define.js';
import type { PodInfo } from '../netpol.js';
import { errorCode, errorMessage, requireCluster, selectorLabels } from './common.js';
import {
  type DenyOutcome,
  expectPlan,
  netpols,
  type RemedyParams,
  type RemedyStrategy,
} from './remedy-strategy.js';

export const detachKeys = (ctx: ActionContext, params: RemedyParams) =>
  Object.keys(selectorLabels(params.selector, ctx));

function withoutKeys(pod: PodInfo, keys: string[]): PodInfo {
  const labels = { ...pod.labels };
  for (const k of keys) delete labels[k];
  return { ...pod, labels };
}

export const detach: RemedyStrategy = {
  async plan(scene) {
    const keys = detachKeys(scene.ctx, scene.params);
    const pods = scene.pods
      .map((p) => ({
        name: p.name,
        labels: Object.fromEntries(
          keys.filter((k) => Object.hasOwn(p.labels, k)).map((k) => [k, p.labels[k]!]),
        ),
      }))
      .filter((p) => Object.keys(p.labels).length > 0);
    return {
      plan: { kind: 'detach', keys, pods },
      lines: [
        `# detach: remove label(s) ${keys.join(', ')} from ${scene.pods.map((p) => p.name).join(', ') || 'no pods'} (originals recorded; the controller replaces them)`,
      ],
      text: '',
      wouldBe: { pods: scene.pods.map((p) => withoutKeys(p, keys)), policies: netpols(scene) },
    };
  },
  async drift(scene, plan) {
    const planned = expectPlan(plan, 'detach');
    const now = new Map(scene.pods.map((p) => [p.name, p]));
    return planned.pods.flatMap((p) => {
      const current = now.get(p.name);
      if (!current) return [`pod ${p.name} gone since the preview`];
      const changed = Object.entries(p.labels).some(([k, v]) => current.labels[k] !== v);
      return changed ? [`pod ${p.name} relabelled since the preview`] : [];
    });
  },
  async apply(ctx, plan, out) {
    const cluster = requireCluster(ctx);
    for (const p of expectPlan(plan, 'detach').pods) {
      const entry: DenyOutcome['detached'][number] = { name: p.name, labels: p.labels, ok: true };
      try {
        await cluster.patch(
          { apiVersion: 'v1', kind: 'Pod', namespace: out.namespace, name: p.name },
          { metadata: { labels: Object.fromEntries(Object.keys(p.labels).map((k) => [k, null])) } },
          'merge',
          { dryRun: ctx.dryRun, signal: ctx.signal },
        );
      } catch (err) {
        entry.ok = false;
        entry.error = errorMessage(err);
      }
      out.detached.push(entry);
    }
  },
  asApplied(pods, policies, out) {
    const detached = new Map(out.detached.filter((d) => d.ok).map((d) => [d.name, Object.keys(d.labels)]));
    return {
      pods: pods.map((p) => (detached.has(p.name) ? withoutKeys(p, detached.get(p.name)!) : p)),
      policies,
    };
  },
  async revert(ctx, out) {
    const cluster = requireCluster(ctx);
    const notes: string[] = [];
    for (const d of out.detached.filter((e) => e.ok)) {
      try {
        await cluster.patch(
          { apiVersion: 'v1', kind: 'Pod', namespace: out.namespace, name: d.name },
          { metadata: { labels: d.labels } },
          'merge',
          { dryRun: ctx.dryRun, signal: ctx.signal },
        );
        notes.push(`relabelled pod ${d.name}`);
      } catch (err) {
        if (errorCode(err) !== 'k8s_not_found') throw err;
        notes.push(`pod ${d.name} already gone`);
      }
    }
    return notes;
  },
  done: (out) => `; detached ${out.detached.filter((d) => d.ok).length} pod(s) from their workload labels`,
};
