// isolate: merge-patch each allow-policy that lets the pods out so its podSelector excludes the
// quarantined pods; revert restores each policy to its recorded original.
import { stringify } from 'yaml';
import type { KubeObject, ObjectRef } from '../../../k8s/types.js';
import type { ActionContext } from '../../define.js';
import { canonicalJson, isolatePatch, type NetworkPolicySpec, withIsolatePatch } from '../netpol.js';
import { asNetpol, errorCode, errorMessage, requireCluster } from './common.js';
import { retryOnConflict } from './conflict.js';
import { asKubeJson } from './kube-json.js';
import {
  type DenyOutcome,
  expectPlan,
  leakingPolicies,
  netpols,
  type RemedyPlan,
  type RemedyStrategy,
} from './remedy-strategy.js';

const NETPOL = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' } as const;

/** Equal as the API server means them: key order and null-versus-absent do not count. */
function sameSpec(read: NetworkPolicySpec, recorded: unknown, namespace: string, name: string): boolean {
  const then = asNetpol({ ...NETPOL, metadata: { name, namespace }, spec: recorded }, namespace);
  return canonicalJson(read) === canonicalJson(then.spec);
}

type Patch = Extract<RemedyPlan, { kind: 'isolate' }>['patches'][number];
type Remedied = DenyOutcome['remedied'][number];

/**
 * Patches one allow-policy, from a fresh read each try: one already isolated (an apply resumed after
 * a restart) is done; one edited since the preview is left alone and reported; a 409 reads again and
 * tries again (bounded, conflict.ts).
 */
async function isolateOne(ctx: ActionContext, out: DenyOutcome, p: Patch): Promise<Remedied> {
  const cluster = requireCluster(ctx);
  const ref: ObjectRef = { ...NETPOL, namespace: out.namespace, name: p.name };
  const isolated = withIsolatePatch(
    asNetpol(
      { ...NETPOL, metadata: { name: p.name, namespace: out.namespace }, spec: p.spec },
      out.namespace,
    ),
    out.labelKey,
  ).spec;
  const tried = await retryOnConflict(async (): Promise<Omit<Remedied, 'name'>> => {
    const original = await cluster.get(ref, { signal: ctx.signal });
    if (!original) return { original: { ...NETPOL, metadata: { name: p.name } }, ok: false, error: 'gone' };
    // The original is the spec the responder confirmed, not whatever the cluster holds now: after a
    // restart mid-apply that is already isolated, and release would "restore" the isolation. Metadata
    // is the cluster's: the patch leaves it be.
    const entry = { original: asKubeJson({ ...original, spec: p.spec }), ok: true };
    const now = asNetpol(original, out.namespace).spec;
    if (canonicalJson(now) === canonicalJson(isolated)) return entry;
    if (!sameSpec(now, p.spec, out.namespace, p.name))
      return { ...entry, ok: false, error: 'edited since the preview: left alone' };
    await cluster.patch(ref, { spec: { podSelector: p.podSelector } }, 'merge', {
      dryRun: ctx.dryRun,
      signal: ctx.signal,
    });
    return entry;
  });
  const attempts = tried.attempts > 1 ? { attempts: tried.attempts } : {};
  if (tried.ok) return { name: p.name, ...tried.value, ...attempts };
  const why = errorMessage(tried.error);
  return {
    name: p.name,
    original: { ...NETPOL, metadata: { name: p.name } },
    ok: false,
    error: tried.conflict ? `${tried.attempts} writes answered 409 Conflict: ${why}` : why,
    ...attempts,
  };
}

export const isolate: RemedyStrategy = {
  async plan(scene) {
    const others = netpols(scene);
    const leaking = leakingPolicies(scene.pods, others);
    const raw = new Map(scene.others.map((o) => [o.metadata.name ?? '', o]));
    const patches = others
      .filter((o) => leaking.includes(o.metadata.name))
      .map((o) => ({
        name: o.metadata.name,
        // As the API server gave it (key order and nulls too), not as read: it is what a release restores.
        spec: JSON.parse(JSON.stringify(raw.get(o.metadata.name)?.spec ?? {})),
        podSelector: isolatePatch(o, scene.params.label_key).podSelector,
      }));
    return {
      plan: { kind: 'isolate', patches },
      lines: patches.flatMap((p) => [
        `# isolate: merge-patch NetworkPolicy ${p.name}`,
        stringify({ spec: { podSelector: p.podSelector } }),
      ]),
      text: '',
      wouldBe: {
        pods: scene.pods,
        policies: others.map((o) =>
          leaking.includes(o.metadata.name) ? withIsolatePatch(o, scene.params.label_key) : o,
        ),
      },
    };
  },
  async drift(scene, plan) {
    const planned = expectPlan(plan, 'isolate').patches;
    const now = new Map(netpols(scene).map((p) => [p.metadata.name, p]));
    const out: string[] = [];
    for (const p of planned) {
      const current = now.get(p.name);
      if (!current) out.push(`NetworkPolicy ${p.name} gone since the preview`);
      else if (!sameSpec(current.spec, p.spec, scene.namespace, p.name))
        out.push(`NetworkPolicy ${p.name} edited since the preview`);
    }
    const names = new Set(planned.map((p) => p.name));
    for (const name of leakingPolicies(scene.pods, [...now.values()])) {
      if (!names.has(name)) out.push(`NetworkPolicy ${name} now lets the pods out and is not in the preview`);
    }
    return out;
  },
  async apply(ctx, plan, out) {
    for (const p of expectPlan(plan, 'isolate').patches) out.remedied.push(await isolateOne(ctx, out, p));
  },
  asApplied(pods, policies, out) {
    const isolated = new Set(out.remedied.filter((r) => r.ok).map((r) => r.name));
    return {
      pods,
      policies: policies.map((p) => (isolated.has(p.metadata.name) ? withIsolatePatch(p, out.labelKey) : p)),
    };
  },
  async revert(ctx, out) {
    const cluster = requireCluster(ctx);
    const notes: string[] = [];
    for (const r of out.remedied.filter((e) => e.ok)) {
      const ref: ObjectRef = { ...NETPOL, namespace: out.namespace, name: r.name };
      for (let attempt = 1; ; attempt++) {
        const current = await cluster.get(ref, { signal: ctx.signal });
        if (!current) {
          notes.push(`NetworkPolicy ${r.name} is gone: not restored`);
          break;
        }
        const { labels: _l, annotations: _a, ...metadata } = current.metadata;
        const restored: KubeObject = {
          ...current,
          metadata: {
            ...metadata,
            ...(r.original.metadata.labels ? { labels: r.original.metadata.labels } : {}),
            ...(r.original.metadata.annotations ? { annotations: r.original.metadata.annotations } : {}),
          },
          spec: r.original.spec,
        };
        try {
          await cluster.replace(restored, { dryRun: ctx.dryRun, signal: ctx.signal });
          notes.push(`restored NetworkPolicy ${r.name} to its recorded original`);
          break;
        } catch (err) {
          if (errorCode(err) !== 'k8s_conflict' || attempt >= 3) throw err;
        }
      }
    }
    return notes;
  },
  done: (out) =>
    `; isolated ${out.remedied.filter((r) => r.ok).length} allow-policy(ies)${out.remedied.length > 0 ? ` (${out.remedied.map((r) => r.name).join(', ')})` : ''}`,
};
