import { stringify } from 'yaml';
import { z } from 'zod';
import { CodedError } from '../../../domain/errors.js';
import type { KubeObject, ObjectRef } from '../../../k8s/types.js';
import type { ActionContext } from '../../define.js';
import {
  analyzeEgress,
  canonicalJson,
  isolatePatch,
  type NetworkPolicy,
  type PodInfo,
  withIsolatePatch,
} from '../netpol.js';
import {
  buildCniDeny,
  type CniKind,
  CniRecordJson,
  cniRef,
  NO_CNI_DENY_REASON,
  servedCniDeny,
} from './cni-deny.js';
import {
  ANNOTATION_APPLIED_BY,
  ANNOTATION_APPROVED_BY,
  ANNOTATION_CONTRACT,
  ANNOTATION_INCIDENT,
  approvedBy,
  asNetpol,
  contractFor,
  errorCode,
  errorMessage,
  FIELD_MANAGER,
  requireCluster,
  selectorLabels,
  stampedForApply,
} from './common.js';
import { asKubeJson, KubeObjectJson, LabelSelectorJson } from './kube-json.js';

// What k8s.deny-egress does about allow-policies that keep the pods talking (NetworkPolicies are
// additive: the deny-all policy alone does not stop a pod another policy allows). One row per
// remedy, each with its plan, drift, apply, the view a dry run verifies, and revert.

export const RemedyKind = z.enum(['report-only', 'isolate', 'detach', 'cni-deny']);
export type RemedyKind = z.infer<typeof RemedyKind>;

export const RemedyPlan = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('report-only') }),
  z.strictObject({
    kind: z.literal('isolate'),
    /** Each allow-policy to patch: its spec when planned (what drift compares) and the selector it gets. */
    patches: z.array(z.strictObject({ name: z.string(), spec: z.json(), podSelector: LabelSelectorJson })),
  }),
  z.strictObject({
    kind: z.literal('detach'),
    keys: z.array(z.string()),
    pods: z.array(z.strictObject({ name: z.string(), labels: z.record(z.string(), z.string()) })),
  }),
  /** `object`: the AdminNetworkPolicy / CiliumNetworkPolicy to apply; null when neither is served. */
  z.strictObject({ kind: z.literal('cni-deny'), object: KubeObjectJson.nullable() }),
]);
export type RemedyPlan = z.output<typeof RemedyPlan>;

const Remedied = z.strictObject({
  name: z.string(),
  original: KubeObjectJson,
  ok: z.boolean(),
  error: z.string().optional(),
});
const Detached = z.strictObject({
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  ok: z.boolean(),
  error: z.string().optional(),
});

/** What k8s.deny-egress applied: exactly what verify judges and revert undoes. */
export const DenyOutcome = z.strictObject({
  namespace: z.string(),
  name: z.string(),
  /** False when a policy of that name existed before this incident (revert keeps it). */
  created: z.boolean(),
  remedy: RemedyKind,
  labelKey: z.string(),
  /** The deny policy as sent. */
  policy: KubeObjectJson,
  remedied: z.array(Remedied),
  detached: z.array(Detached),
  cni: CniRecordJson.nullable().optional(),
  /** Why the remedy fell back to reporting only. */
  fallback: z.string().optional(),
});
export type DenyOutcome = z.output<typeof DenyOutcome>;

export interface RemedyParams {
  name: string;
  label_key: string;
  label_value: string;
  anp_priority: number;
  selector: string;
}

/** The pods and the other policies in their namespace, as the remedy sees them (plan or drift). */
export interface RemedyScene {
  ctx: ActionContext;
  params: RemedyParams;
  namespace: string;
  pods: PodInfo[];
  /** NetworkPolicies in the namespace other than the deny policy, as read. */
  others: KubeObject[];
}

export interface Planned {
  plan: RemedyPlan;
  /** Preview lines (`# isolate: …` and YAML). */
  lines: string[];
  /** Added to the plan's summary. */
  text: string;
  /** The pods and other policies as they would be after the remedy (the deny policy is added by the caller). */
  wouldBe: { pods: PodInfo[]; policies: NetworkPolicy[] };
}

export interface RemedyStrategy {
  plan(scene: RemedyScene): Promise<Planned>;
  /** What changed since `plan`, in words. */
  drift(scene: RemedyScene, plan: RemedyPlan): Promise<string[]>;
  /** Carry out `plan`, recording each change (and failure) in `out`. Never throws for one object. */
  apply(ctx: ActionContext, plan: RemedyPlan, out: DenyOutcome): Promise<void>;
  /** The pods and policies as a dry run's verification should judge them (nothing really changed). */
  asApplied(
    pods: PodInfo[],
    policies: NetworkPolicy[],
    out: DenyOutcome,
  ): { pods: PodInfo[]; policies: NetworkPolicy[] };
  /** Undo, newest first; notes for the summary. */
  revert(ctx: ActionContext, out: DenyOutcome): Promise<string[]>;
  /** What was done, for the summary. */
  done(out: DenyOutcome, params: RemedyParams): string;
}

const NETPOL = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' } as const;

const netpols = (scene: RemedyScene) => scene.others.map((p) => asNetpol(p, scene.namespace));

/** Allow-policies that still let the pods out next to the deny policy: what `isolate` patches. */
export function leakingPolicies(pods: PodInfo[], others: NetworkPolicy[]): string[] {
  return [...new Set(analyzeEgress(pods, others).leaks.map((l) => l.policy))];
}

function expect<K extends RemedyKind>(plan: RemedyPlan, kind: K): Extract<RemedyPlan, { kind: K }> {
  if (plan.kind !== kind)
    throw new CodedError('internal', `remedy ${kind} given a ${plan.kind} plan`, { userSafe: false });
  return plan as Extract<RemedyPlan, { kind: K }>;
}

export const detachKeys = (ctx: ActionContext, params: RemedyParams) =>
  Object.keys(selectorLabels(params.selector, ctx));

function withoutKeys(pod: PodInfo, keys: string[]): PodInfo {
  const labels = { ...pod.labels };
  for (const k of keys) delete labels[k];
  return { ...pod, labels };
}

const reportOnly: RemedyStrategy = {
  async plan(scene) {
    return {
      plan: { kind: 'report-only' },
      lines: ['# report-only: no other object changes'],
      text: '',
      wouldBe: { pods: scene.pods, policies: netpols(scene) },
    };
  },
  async drift() {
    return [];
  },
  async apply() {},
  asApplied: (pods, policies) => ({ pods, policies }),
  async revert() {
    return [];
  },
  done: () => '',
};

const isolate: RemedyStrategy = {
  async plan(scene) {
    const others = netpols(scene);
    const leaking = leakingPolicies(scene.pods, others);
    const patches = others
      .filter((o) => leaking.includes(o.metadata.name))
      .map((o) => ({
        name: o.metadata.name,
        spec: JSON.parse(canonicalJson(o.spec)),
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
    const planned = expect(plan, 'isolate').patches;
    const now = new Map(netpols(scene).map((p) => [p.metadata.name, p]));
    const out: string[] = [];
    for (const p of planned) {
      const current = now.get(p.name);
      if (!current) out.push(`NetworkPolicy ${p.name} gone since the preview`);
      else if (canonicalJson(current.spec) !== canonicalJson(p.spec))
        out.push(`NetworkPolicy ${p.name} edited since the preview`);
    }
    const names = new Set(planned.map((p) => p.name));
    for (const name of leakingPolicies(scene.pods, [...now.values()])) {
      if (!names.has(name)) out.push(`NetworkPolicy ${name} now lets the pods out and is not in the preview`);
    }
    return out;
  },
  async apply(ctx, plan, out) {
    const cluster = requireCluster(ctx);
    for (const p of expect(plan, 'isolate').patches) {
      const ref: ObjectRef = { ...NETPOL, namespace: out.namespace, name: p.name };
      const original = await cluster.get(ref, { signal: ctx.signal });
      if (!original) {
        out.remedied.push({
          name: p.name,
          original: { ...NETPOL, metadata: { name: p.name } },
          ok: false,
          error: 'gone',
        });
        continue;
      }
      const entry: DenyOutcome['remedied'][number] = {
        name: p.name,
        original: asKubeJson(original),
        ok: true,
      };
      try {
        await cluster.patch(ref, { spec: { podSelector: p.podSelector } }, 'merge', {
          dryRun: ctx.dryRun,
          signal: ctx.signal,
        });
      } catch (err) {
        entry.ok = false;
        entry.error = errorMessage(err);
      }
      out.remedied.push(entry);
    }
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

const detach: RemedyStrategy = {
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
    const planned = expect(plan, 'detach');
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
    for (const p of expect(plan, 'detach').pods) {
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

/** The cni-deny object, annotated for audit as the deny policy is. */
export function buildCni(
  ctx: ActionContext,
  params: RemedyParams,
  namespace: string,
  kind: CniKind,
): KubeObject {
  return buildCniDeny(kind, {
    namespace,
    incidentId: ctx.incident.id,
    quarantineKey: params.label_key,
    quarantineValue: params.label_value,
    anpPriority: params.anp_priority,
    ciliumName: `${params.name}-cilium`,
    annotations: {
      [ANNOTATION_INCIDENT]: ctx.incident.id,
      [ANNOTATION_CONTRACT]: contractFor(ctx)?.file ?? 'none',
      [ANNOTATION_APPROVED_BY]: approvedBy(ctx),
      [ANNOTATION_APPLIED_BY]: ctx.actor,
    },
  });
}

const cniDeny: RemedyStrategy = {
  async plan(scene) {
    const kind = await servedCniDeny(requireCluster(scene.ctx), scene.ctx.signal);
    const others = netpols(scene);
    if (!kind) {
      return {
        plan: { kind: 'cni-deny', object: null },
        lines: [`# ${NO_CNI_DENY_REASON} (apply falls back to report-only)`],
        text: `: ${NO_CNI_DENY_REASON}`,
        wouldBe: { pods: scene.pods, policies: others },
      };
    }
    const obj = buildCni(scene.ctx, scene.params, scene.namespace, kind);
    const leaking = leakingPolicies(scene.pods, others);
    return {
      plan: { kind: 'cni-deny', object: asKubeJson(obj) },
      lines: [
        `# cni-deny: ${kind} (${obj.apiVersion}) is served; its Deny overrides every NetworkPolicy allow${leaking.length > 0 ? ` (here: ${leaking.join(', ')})` : ''}`,
      ],
      text: ` (${kind} ${obj.metadata.name})`,
      wouldBe: { pods: scene.pods, policies: others },
    };
  },
  async drift(scene, plan) {
    const planned = expect(plan, 'cni-deny').object;
    const kind = await servedCniDeny(requireCluster(scene.ctx), scene.ctx.signal);
    if ((planned?.kind ?? null) === (kind ?? null)) return [];
    return [kind ? `${kind} is now served` : `${planned?.kind} is no longer served`];
  },
  async apply(ctx, plan, out) {
    const object = expect(plan, 'cni-deny').object;
    if (!object) {
      out.cni = null;
      out.fallback = NO_CNI_DENY_REASON;
      return;
    }
    const planned = stampedForApply(object, ctx);
    const cluster = requireCluster(ctx);
    const ref = cniRef(planned);
    const record: NonNullable<DenyOutcome['cni']> = {
      kind: planned.kind as CniKind,
      apiVersion: planned.apiVersion,
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      name: ref.name,
      created: true,
      ok: true,
      object: planned,
    };
    try {
      const existing = await cluster.get(ref, { signal: ctx.signal });
      record.created = !existing || existing.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id;
      await cluster.apply(planned, { fieldManager: FIELD_MANAGER, dryRun: ctx.dryRun, signal: ctx.signal });
    } catch (err) {
      record.ok = false;
      record.error = errorMessage(err);
    }
    out.cni = record;
  },
  asApplied: (pods, policies) => ({ pods, policies }),
  async revert(ctx, out) {
    if (!out.cni?.ok) return [];
    const { kind, name } = out.cni;
    if (!out.cni.created) return [`${kind} ${name} existed before this incident: kept`];
    const deleted = await requireCluster(ctx).delete(cniRef(out.cni.object), {
      dryRun: ctx.dryRun,
      signal: ctx.signal,
    });
    return [deleted ? `deleted ${kind} ${name}` : `${kind} ${name} was already gone`];
  },
  done: (out, params) =>
    out.cni?.ok
      ? `; ${out.cni.kind} ${out.cni.name} applied${out.cni.namespace ? ` in ${out.cni.namespace}` : ''} (deny all egress of ${params.label_key}=${params.label_value}${out.cni.kind === 'AdminNetworkPolicy' ? `, priority ${params.anp_priority}` : ''})`
      : '',
};

export const remedies: Record<RemedyKind, RemedyStrategy> = {
  'report-only': reportOnly,
  isolate,
  detach,
  'cni-deny': cniDeny,
};
