import { stringify } from 'yaml';
import { z } from 'zod';
import { assertNamespaceAllowed } from '../../../domain/namespace-policy.js';
import type { KubeObject, ObjectRef } from '../../../k8s/types.js';
import { type ActionContext, defineAction, type Json, type Plan } from '../../define.js';
import {
  analyzeEgress,
  canonicalSpecSha256,
  denyAllEgressPolicy,
  isolatePatch,
  type NetworkPolicy,
  type PodInfo,
  verificationLine,
  withIsolatePatch,
} from '../netpol.js';
import {
  ANP_GROUP,
  anpsBefore,
  buildCniDeny,
  CILIUM_GROUP,
  type CniKind,
  type CniRecord,
  cniDenyCovers,
  cniRef,
  cniVerdict,
  DEFAULT_ANP_PRIORITY,
  NO_CNI_DENY_REASON,
  type PrecedingAnp,
  servedCniDeny,
} from './cni-deny.js';
import {
  ANNOTATION_APPLIED_BY,
  ANNOTATION_APPROVED_BY,
  ANNOTATION_CONTRACT,
  ANNOTATION_INCIDENT,
  ANNOTATION_SPEC_SHA256,
  approvedBy,
  asNetpol,
  contractFor,
  DEFAULT_QUARANTINE_KEY,
  DEFAULT_QUARANTINE_VALUE,
  DEFAULT_SELECTOR,
  equalityKeys,
  errorCode,
  errorMessage,
  FIELD_MANAGER,
  podInfo,
  renderSelector,
  requireCluster,
  sourceOf,
  toJson,
} from './common.js';
import { resolvePods } from './quarantine.js';

export const DenyEgressParams = z.strictObject({
  name: z.string().min(1).default('quarantine-deny-egress'),
  label_key: z.string().min(1).default(DEFAULT_QUARANTINE_KEY),
  label_value: z.string().default(DEFAULT_QUARANTINE_VALUE),
  /**
   * What to do about allow-policies that keep the pods talking: `isolate` them, `detach` the pods from
   * them, `cni-deny` (an AdminNetworkPolicy or CiliumNetworkPolicy Deny that wins over them, where
   * served; else report only), or `report-only`.
   */
  remedy: z.enum(['report-only', 'isolate', 'detach', 'cni-deny']).default('report-only'),
  /** cni-deny's AdminNetworkPolicy priority (0–1000; lower is evaluated first). */
  anp_priority: z.number().int().min(0).max(1000).default(DEFAULT_ANP_PRIORITY),
  /** The workload selector template (as k8s.quarantine's): finds the pods before they are labelled; `detach` removes its keys. */
  selector: z.string().min(1).default(DEFAULT_SELECTOR),
});
export type DenyEgressParams = z.output<typeof DenyEgressParams>;

type Remedied = { name: string; original: Json; ok: boolean; error?: string };
type Detached = { name: string; labels: Record<string, string>; ok: boolean; error?: string };
type DenyData = {
  namespace: string;
  name: string;
  created: boolean;
  remedy: DenyEgressParams['remedy'];
  labelKey: string;
  remedied: Remedied[];
  detached: Detached[];
  /** cni-deny: the AdminNetworkPolicy / CiliumNetworkPolicy applied; null when neither is served. */
  cni?: CniRecord | null;
  /** Why the remedy fell back to reporting only. */
  fallback?: string;
};

const NETPOL = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' } as const;

function buildPolicy(ctx: ActionContext, params: DenyEgressParams): NetworkPolicy {
  const { namespace } = sourceOf(ctx);
  const base = denyAllEgressPolicy({
    name: params.name,
    namespace,
    quarantineKey: params.label_key,
    quarantineValue: params.label_value,
    annotations: {},
  });
  base.metadata.annotations = {
    [ANNOTATION_INCIDENT]: ctx.incident.id,
    [ANNOTATION_CONTRACT]: contractFor(ctx)?.file ?? 'none',
    [ANNOTATION_SPEC_SHA256]: canonicalSpecSha256(base),
    [ANNOTATION_APPROVED_BY]: approvedBy(ctx),
    [ANNOTATION_APPLIED_BY]: ctx.actor,
  };
  return base;
}

/** The cni-deny object, annotated for audit as the deny policy is. */
function buildCni(ctx: ActionContext, params: DenyEgressParams, kind: CniKind): KubeObject {
  const { namespace } = sourceOf(ctx);
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

/**
 * For an AdminNetworkPolicy: the others that decide before it for the pods it covers (the error's
 * text when they cannot be listed). Undefined for Cilium, whose deny rules win over every allow.
 */
async function precedingFor(
  ctx: ActionContext,
  obj: KubeObject,
  pods: PodInfo[],
): Promise<PrecedingAnp[] | string | undefined> {
  if (obj.kind !== 'AdminNetworkPolicy') return undefined;
  try {
    const all = await requireCluster(ctx).list(obj.apiVersion, obj.kind, undefined, { signal: ctx.signal });
    return anpsBefore(
      all,
      obj,
      pods.filter((p) => cniDenyCovers(obj, p)),
    );
  } catch (err) {
    return errorMessage(err);
  }
}

/**
 * The pods to contain. After a real quarantine they carry the label; before it (plan) or in a dry
 * run (nothing was labelled) they are the workload's pods, labelled here in memory.
 */
async function targetPods(
  ctx: ActionContext,
  params: DenyEgressParams,
  asWouldBe: boolean,
): Promise<PodInfo[]> {
  const cluster = requireCluster(ctx);
  const { namespace } = sourceOf(ctx);
  const labelled = await cluster.listPods(namespace, {
    labelSelector: `${params.label_key}=${params.label_value}`,
    signal: ctx.signal,
  });
  const pods = new Map(labelled.map((p) => [p.metadata.name ?? '', podInfo(p)]));
  if (asWouldBe) {
    for (const p of await resolvePods(ctx, { selector: params.selector })) {
      const info = podInfo(p);
      if (!pods.has(info.name))
        pods.set(info.name, { ...info, labels: { ...info.labels, [params.label_key]: params.label_value } });
    }
  }
  return [...pods.values()];
}

async function policiesOf(ctx: ActionContext): Promise<KubeObject[]> {
  return requireCluster(ctx).listNetworkPolicies(sourceOf(ctx).namespace, { signal: ctx.signal });
}

/** Allow-policies that still let the pods out next to the deny policy: what `isolate` patches. */
function leakingPolicies(pods: PodInfo[], others: NetworkPolicy[]): string[] {
  return [...new Set(analyzeEgress(pods, others).leaks.map((l) => l.policy))];
}

function detachKeys(ctx: ActionContext, params: DenyEgressParams): string[] {
  return equalityKeys(renderSelector(params.selector, ctx));
}

function withoutKeys(pod: PodInfo, keys: string[]): PodInfo {
  const labels = { ...pod.labels };
  for (const k of keys) delete labels[k];
  return { ...pod, labels };
}

/** Pods k8s.quarantine (same step) failed to label: still the source's pods, and not contained. */
function quarantineFailures(ctx: ActionContext): string[] {
  const step = ctx.incident.steps.find((s) => s.id === ctx.stepId);
  return (step?.actions ?? [])
    .filter((a) => a.uses === 'k8s.quarantine' && (a.status === 'applied' || a.status === 'verified'))
    .flatMap((a) => (a.outcome as { data?: { failed?: string[] } } | undefined)?.data?.failed ?? []);
}

/** Add (or put back, unlabelled) the pods quarantine could not label, so verification counts them. */
async function withUnquarantined(ctx: ActionContext, pods: PodInfo[]): Promise<PodInfo[]> {
  const failed = quarantineFailures(ctx);
  if (failed.length === 0) return pods;
  const cluster = requireCluster(ctx);
  const { namespace } = sourceOf(ctx);
  const out = pods.filter((p) => !failed.includes(p.name));
  for (const name of failed) {
    const pod = await cluster.getPod(namespace, name, { signal: ctx.signal });
    if (pod) out.push(podInfo(pod));
  }
  return out;
}

/** Server-side apply of the cni-deny object; a failure is recorded, not thrown (the deny policy is in). */
async function applyCni(ctx: ActionContext, obj: KubeObject): Promise<CniRecord> {
  const cluster = requireCluster(ctx);
  const ref = cniRef(obj);
  const record: CniRecord = {
    kind: obj.kind as CniKind,
    apiVersion: obj.apiVersion,
    ...(ref.namespace ? { namespace: ref.namespace } : {}),
    name: ref.name,
    created: true,
    ok: true,
    object: toJson(obj),
  };
  try {
    const existing = await cluster.get(ref, { signal: ctx.signal });
    record.created = !existing || existing.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id;
    await cluster.apply(obj, { fieldManager: FIELD_MANAGER, dryRun: ctx.dryRun, signal: ctx.signal });
  } catch (err) {
    record.ok = false;
    record.error = errorMessage(err);
  }
  return record;
}

export const denyEgress = defineAction({
  id: 'k8s.deny-egress',
  description:
    'Apply a deny-all egress NetworkPolicy selecting the quarantine label, verify egress is really blocked, optionally remedy allow-policies',
  params: DenyEgressParams,
  rbac: [
    {
      apiGroups: ['networking.k8s.io'],
      resources: ['networkpolicies'],
      verbs: ['get', 'list', 'create', 'patch', 'update', 'delete'],
    },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] },
    // cni-deny; list: AdminNetworkPolicies evaluated before ours could let egress past it.
    {
      apiGroups: [ANP_GROUP],
      resources: ['adminnetworkpolicies'],
      verbs: ['get', 'list', 'create', 'patch', 'delete'],
    },
    {
      apiGroups: [CILIUM_GROUP],
      resources: ['ciliumnetworkpolicies'],
      verbs: ['get', 'create', 'patch', 'delete'],
    },
  ],
  destructive: true,
  needsCluster: true,
  example: { name: 'quarantine-deny-egress', remedy: 'isolate' },

  async plan(ctx, params): Promise<Plan> {
    const { namespace } = sourceOf(ctx);
    assertNamespaceAllowed(ctx.namespaces, namespace);
    const policy = buildPolicy(ctx, params);
    const yaml = stringify(policy);
    if (!ctx.cluster) {
      return {
        summary: `apply NetworkPolicy ${params.name} (deny all egress for ${params.label_key}=${params.label_value}) in ${namespace}; remedy ${params.remedy}`,
        preview: yaml,
        changes: true,
        data: { namespace, policy: toJson(policy), remedy: params.remedy },
      };
    }
    const pods = await targetPods(ctx, params, true);
    const others = (await policiesOf(ctx))
      .map((p) => asNetpol(p, namespace))
      .filter((p) => p.metadata.name !== params.name);
    const selecting = analyzeEgress(pods, others).isolatedBy;
    const leaking = leakingPolicies(pods, others);
    const remedyLines: string[] = [];
    let cni: KubeObject | undefined;
    let remedyText = '';
    let wouldBe = { pods, policies: [...others, policy] };
    if (params.remedy === 'isolate') {
      for (const name of leaking) {
        const p = others.find((o) => o.metadata.name === name)!;
        remedyLines.push(
          `# isolate: merge-patch NetworkPolicy ${name}`,
          stringify({ spec: isolatePatch(p, params.label_key) }),
        );
      }
      wouldBe = {
        pods,
        policies: [
          ...others.map((o) =>
            leaking.includes(o.metadata.name) ? withIsolatePatch(o, params.label_key) : o,
          ),
          policy,
        ],
      };
    } else if (params.remedy === 'detach') {
      const keys = detachKeys(ctx, params);
      remedyLines.push(
        `# detach: remove label(s) ${keys.join(', ')} from ${pods.map((p) => p.name).join(', ') || 'no pods'} (originals recorded; the controller replaces them)`,
      );
      wouldBe = { pods: pods.map((p) => withoutKeys(p, keys)), policies: wouldBe.policies };
    } else if (params.remedy === 'cni-deny') {
      const kind = await servedCniDeny(requireCluster(ctx), ctx.signal);
      if (kind) {
        cni = buildCni(ctx, params, kind);
        remedyText = ` (${kind} ${cni.metadata.name})`;
        remedyLines.push(
          `# cni-deny: ${kind} (${cni.apiVersion}) is served; its Deny overrides every NetworkPolicy allow${leaking.length > 0 ? ` (here: ${leaking.join(', ')})` : ''}`,
        );
      } else {
        remedyText = `: ${NO_CNI_DENY_REASON}`;
        remedyLines.push(`# ${NO_CNI_DENY_REASON} (apply falls back to report-only)`);
      }
    } else {
      remedyLines.push('# report-only: no other object changes');
    }
    const expected = cni
      ? cniVerdict(cni, wouldBe.pods, wouldBe.policies, await precedingFor(ctx, cni, wouldBe.pods)).line
      : verificationLine(analyzeEgress(wouldBe.pods, wouldBe.policies));
    const preview = [
      yaml.trimEnd(),
      '---',
      ...(cni ? [stringify(cni).trimEnd(), '---'] : []),
      `# pods: ${pods.map((p) => p.name).join(', ') || 'none yet'}`,
      `# other policies selecting them: ${selecting.join(', ') || 'none'}`,
      `# allow-policies that would still let them out: ${leaking.join(', ') || 'none'}`,
      ...remedyLines.map((l) => l.trimEnd()),
      `# expected after apply: ${expected}`,
    ].join('\n');
    return {
      summary: `apply NetworkPolicy ${params.name} (deny all egress for ${params.label_key}=${params.label_value}) in ${namespace}; remedy ${params.remedy}${remedyText}${leaking.length > 0 ? ` (allow-policies selecting the pods: ${leaking.join(', ')})` : ''}`,
      preview,
      changes: true,
      data: {
        namespace,
        policy: toJson(policy),
        pods: pods.map((p) => p.name),
        selectingPolicies: selecting,
        leakingPolicies: leaking,
        remedy: params.remedy,
        ...(params.remedy === 'cni-deny'
          ? { cni: cni ? { kind: cni.kind, name: cni.metadata.name ?? '' } : null }
          : {}),
      },
    };
  },

  async apply(ctx, _plan, params) {
    const cluster = requireCluster(ctx);
    const { namespace } = sourceOf(ctx);
    assertNamespaceAllowed(ctx.namespaces, namespace);
    const policy = buildPolicy(ctx, params);
    const ref: ObjectRef = { ...NETPOL, namespace, name: params.name };
    const existing = await cluster.get(ref, { signal: ctx.signal });
    const created = !existing || existing.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id;
    await cluster.apply(policy as unknown as KubeObject, {
      fieldManager: FIELD_MANAGER,
      dryRun: ctx.dryRun,
      signal: ctx.signal,
    });
    const data: DenyData = {
      namespace,
      name: params.name,
      created,
      remedy: params.remedy,
      labelKey: params.label_key,
      remedied: [],
      detached: [],
    };
    const pods = await targetPods(ctx, params, ctx.dryRun);
    if (params.remedy === 'isolate') {
      const raw = (await policiesOf(ctx)).filter((p) => p.metadata.name !== params.name);
      const others = raw.map((p) => asNetpol(p, namespace));
      for (const name of leakingPolicies(pods, others)) {
        const original = raw.find((p) => p.metadata.name === name)!;
        const entry: Remedied = { name, original: toJson(original), ok: true };
        try {
          await cluster.patch(
            { ...NETPOL, namespace, name },
            { spec: isolatePatch(asNetpol(original, namespace), params.label_key) },
            'merge',
            { dryRun: ctx.dryRun, signal: ctx.signal },
          );
        } catch (err) {
          entry.ok = false;
          entry.error = errorMessage(err);
        }
        data.remedied.push(entry);
      }
    } else if (params.remedy === 'detach') {
      const keys = detachKeys(ctx, params);
      for (const pod of pods) {
        const labels = Object.fromEntries(
          keys.filter((k) => Object.hasOwn(pod.labels, k)).map((k) => [k, pod.labels[k]!]),
        );
        if (Object.keys(labels).length === 0) continue;
        const entry: Detached = { name: pod.name, labels, ok: true };
        try {
          await cluster.patch(
            { apiVersion: 'v1', kind: 'Pod', namespace, name: pod.name },
            { metadata: { labels: Object.fromEntries(Object.keys(labels).map((k) => [k, null])) } },
            'merge',
            { dryRun: ctx.dryRun, signal: ctx.signal },
          );
        } catch (err) {
          entry.ok = false;
          entry.error = errorMessage(err);
        }
        data.detached.push(entry);
      }
    } else if (params.remedy === 'cni-deny') {
      const kind = await servedCniDeny(cluster, ctx.signal);
      if (kind) data.cni = await applyCni(ctx, buildCni(ctx, params, kind));
      else {
        data.cni = null;
        data.fallback = NO_CNI_DENY_REASON;
      }
    }
    const failures = [...data.remedied, ...data.detached]
      .filter((e) => !e.ok)
      .map((e) => `${e.name}: ${e.error}`);
    if (data.cni && !data.cni.ok) failures.push(`${data.cni.kind} ${data.cni.name}: ${data.cni.error}`);
    const remedyText =
      params.remedy === 'isolate'
        ? `; isolated ${data.remedied.filter((r) => r.ok).length} allow-policy(ies)${data.remedied.length > 0 ? ` (${data.remedied.map((r) => r.name).join(', ')})` : ''}`
        : params.remedy === 'detach'
          ? `; detached ${data.detached.filter((d) => d.ok).length} pod(s) from their workload labels`
          : data.cni?.ok
            ? `; ${data.cni.kind} ${data.cni.name} applied${data.cni.namespace ? ` in ${data.cni.namespace}` : ''} (deny all egress of ${params.label_key}=${params.label_value}${data.cni.kind === 'AdminNetworkPolicy' ? `, priority ${params.anp_priority}` : ''})`
            : '';
    return {
      status: 'applied',
      summary: `NetworkPolicy ${params.name} applied in ${namespace} (sha256 ${policy.metadata.annotations?.[ANNOTATION_SPEC_SHA256]?.slice(0, 12)})${remedyText}${failures.length > 0 ? `; FAILED: ${failures.join('; ')}` : ''}`,
      ...(data.fallback ? { reason: data.fallback } : {}),
      data: data as unknown as Json,
    };
  },

  async verify(ctx, outcome, params) {
    const { namespace } = sourceOf(ctx);
    const data = outcome.data as unknown as DenyData;
    let pods: PodInfo[];
    let policies: NetworkPolicy[];
    if (ctx.dryRun) {
      // Nothing changed in the cluster: evaluate the policies as they would be.
      const keys = detachKeys(ctx, params);
      const detached = new Set(data.detached.filter((d) => d.ok).map((d) => d.name));
      const isolated = new Set(data.remedied.filter((r) => r.ok).map((r) => r.name));
      pods = (await targetPods(ctx, params, true)).map((p) =>
        detached.has(p.name) ? withoutKeys(p, keys) : p,
      );
      pods = await withUnquarantined(ctx, pods);
      policies = [
        ...(await policiesOf(ctx))
          .map((p) => asNetpol(p, namespace))
          .filter((p) => p.metadata.name !== params.name)
          .map((p) => (isolated.has(p.metadata.name) ? withIsolatePatch(p, params.label_key) : p)),
        buildPolicy(ctx, params),
      ];
    } else {
      pods = await withUnquarantined(ctx, await targetPods(ctx, params, false));
      policies = (await policiesOf(ctx)).map((p) => asNetpol(p, namespace));
    }
    let gone = '';
    if (data.cni?.ok) {
      // A CNI deny in place (or, in a dry run, as sent) wins over the NetworkPolicies' allows.
      const obj = ctx.dryRun
        ? (data.cni.object as unknown as KubeObject)
        : await requireCluster(ctx).get(cniRef(data.cni.object as unknown as KubeObject), {
            signal: ctx.signal,
          });
      if (obj) {
        const v = cniVerdict(obj, pods, policies, await precedingFor(ctx, obj, pods));
        return { ok: v.ok, line: ctx.dryRun ? `${v.line} (dry-run)` : v.line, data: v.data };
      }
      gone = ` (${data.cni.kind} ${data.cni.name} is gone)`;
    }
    const analysis = analyzeEgress(pods, policies);
    const line = `${verificationLine(analysis)}${gone}`;
    return {
      ok: analysis.verdict === 'contained',
      line: ctx.dryRun ? `${line} (dry-run)` : line,
      data: analysis as unknown as Json,
    };
  },

  async revert(ctx, outcome) {
    const cluster = requireCluster(ctx);
    const data = outcome.data as unknown as DenyData;
    const { namespace } = data;
    const notes: string[] = [];
    for (const d of data.detached.filter((e) => e.ok)) {
      try {
        await cluster.patch(
          { apiVersion: 'v1', kind: 'Pod', namespace, name: d.name },
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
    for (const r of data.remedied.filter((e) => e.ok)) {
      const original = r.original as unknown as KubeObject;
      const ref: ObjectRef = { ...NETPOL, namespace, name: r.name };
      for (let attempt = 1; ; attempt++) {
        const current = await cluster.get(ref, { signal: ctx.signal });
        if (!current) {
          notes.push(`NetworkPolicy ${r.name} is gone: not restored`);
          break;
        }
        const metadata = { ...current.metadata };
        delete metadata.labels;
        delete metadata.annotations;
        const restored: KubeObject = {
          ...current,
          metadata: {
            ...metadata,
            ...(original.metadata.labels ? { labels: original.metadata.labels } : {}),
            ...(original.metadata.annotations ? { annotations: original.metadata.annotations } : {}),
          },
          spec: original.spec,
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
    if (data.cni?.ok) {
      const { kind, name } = data.cni;
      if (data.cni.created) {
        const deleted = await cluster.delete(cniRef(data.cni.object as unknown as KubeObject), {
          dryRun: ctx.dryRun,
          signal: ctx.signal,
        });
        notes.push(deleted ? `deleted ${kind} ${name}` : `${kind} ${name} was already gone`);
      } else {
        notes.push(`${kind} ${name} existed before this incident: kept`);
      }
    }
    if (data.created) {
      const deleted = await cluster.delete(
        { ...NETPOL, namespace, name: data.name },
        { dryRun: ctx.dryRun, signal: ctx.signal },
      );
      notes.push(
        deleted ? `deleted NetworkPolicy ${data.name}` : `NetworkPolicy ${data.name} was already gone`,
      );
    } else {
      notes.push(`NetworkPolicy ${data.name} existed before this incident: kept`);
    }
    return { status: 'applied', summary: notes.join('; '), data: { notes } };
  },
});
