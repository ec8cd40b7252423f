// detach: remove the workload selector's labels from the pods, so no allow-policy selecting the
// workload selects them; the originals are recorded and put back on revert.
import type { ActionContext } from '../../define.js';
import type { PodInfo } from '../netpol.js';
import { errorCode, errorMessage, requireCluster, selectorLabels } from './common.js';
import { retryOnConflict } from './conflict.js';
import { readPod } from './kube-read.js';
import {
  type DenyOutcome,
  expectPlan,
  netpols,
  type RemedyParams,
  type RemedyStrategy,
} from './remedy-strategy.js';

export const detachKeys = (ctx: ActionContext, params: RemedyParams) =>
  Object.keys(selectorLabels(params.selector, ctx));

type Detached = DenyOutcome['detached'][number];

/**
 * Removes the planned labels from one pod, from a fresh read each try: a pod already without them
 * (an apply resumed after a restart) is done; one whose labels changed since the preview is left
 * alone and reported; a 409 reads again and tries again (bounded, conflict.ts).
 */
async function detachPod(
  ctx: ActionContext,
  namespace: string,
  p: { name: string; labels: Record<string, string> },
): Promise<Detached> {
  const cluster = requireCluster(ctx);
  const tried = await retryOnConflict(async (): Promise<string | undefined> => {
    const raw = await cluster.getPod(namespace, p.name, { signal: ctx.signal });
    if (!raw) return 'gone';
    const now = readPod(raw).metadata.labels ?? {};
    const keys = Object.keys(p.labels).filter((k) => Object.hasOwn(now, k));
    if (keys.length === 0) return undefined;
    const changed = keys.filter((k) => now[k] !== p.labels[k]);
    if (changed.length > 0)
      return `relabelled since the preview (${changed.map((k) => `${k}=${now[k]}`).join(', ')}): left alone`;
    await cluster.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace, name: p.name },
      { metadata: { labels: Object.fromEntries(Object.keys(p.labels).map((k) => [k, null])) } },
      'merge',
      { dryRun: ctx.dryRun, signal: ctx.signal },
    );
    return undefined;
  });
  const attempts = tried.attempts > 1 ? { attempts: tried.attempts } : {};
  if (!tried.ok) {
    const why = errorMessage(tried.error);
    const error = tried.conflict ? `${tried.attempts} writes answered 409 Conflict: ${why}` : why;
    return { name: p.name, labels: p.labels, ok: false, error, ...attempts };
  }
  return tried.value === undefined
    ? { name: p.name, labels: p.labels, ok: true, ...attempts }
    : { name: p.name, labels: p.labels, ok: false, error: tried.value, ...attempts };
}

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
    for (const p of expectPlan(plan, 'detach').pods)
      out.detached.push(await detachPod(ctx, out.namespace, p));
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
      // A 409 re-reads and puts the labels back again (bounded); a pod gone is noted, not an error.
      const tried = await retryOnConflict(async () => {
        const pod = await cluster.getPod(out.namespace, d.name, { signal: ctx.signal });
        if (!pod) return `pod ${d.name} already gone`;
        await cluster.patch(
          { apiVersion: 'v1', kind: 'Pod', namespace: out.namespace, name: d.name },
          { metadata: { labels: d.labels } },
          'merge',
          { dryRun: ctx.dryRun, signal: ctx.signal },
        );
        return `relabelled pod ${d.name}`;
      });
      if (tried.ok) notes.push(tried.value);
      else if (errorCode(tried.error) === 'k8s_not_found') notes.push(`pod ${d.name} already gone`);
      else throw tried.error;
    }
    return notes;
  },
  done: (out) => `; detached ${out.detached.filter((d) => d.ok).length} pod(s) from their workload labels`,
};
