import { stringify } from 'yaml';
import { z } from 'zod';
import { CodedError } from '../../../domain/errors.js';
import { toJson } from '../../../domain/json.js';
import { assertNamespaceAllowed } from '../../../domain/namespace-policy.js';
import type { KubeObject, ObjectRef } from '../../../k8s/types.js';
import { type ActionContext, defineAction } from '../../define.js';
import {
  analyzeEgress,
  canonicalSpecSha256,
  denyAllEgressPolicy,
  type NetworkPolicy,
  type PodInfo,
  verificationLine,
} from '../netpol.js';
import {
  ANP_GROUP,
  anpsBefore,
  CILIUM_GROUP,
  cniDenyCovers,
  cniRef,
  cniVerdict,
  DEFAULT_ANP_PRIORITY,
  type PrecedingAnp,
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
  errorMessage,
  FIELD_MANAGER,
  podInfo,
  requireCluster,
  SelectorTemplate,
  sourceOf,
  stampedForApply,
} from './common.js';
import { retryOnConflict, valueOrThrow } from './conflict.js';
import { asKubeJson, KubeObjectJson } from './kube-json.js';
import { resolvePods } from './quarantine.js';
import { remedies } from './remedies.js';
import { DenyOutcome, leakingPolicies, RemedyKind, RemedyPlan, type RemedyScene } from './remedy-strategy.js';

export const DenyEgressParams = z.strictObject({
  name: z.string().min(1).default('quarantine-deny-egress'),
  label_key: z.string().min(1).default(DEFAULT_QUARANTINE_KEY),
  label_value: z.string().default(DEFAULT_QUARANTINE_VALUE),
  /**
   * What to do about allow-policies that keep the pods talking: `isolate` them, `detach` the pods from
   * them, `cni-deny` (an AdminNetworkPolicy or CiliumNetworkPolicy Deny that wins over them, where
   * served; else report only), or `report-only`.
   */
  remedy: RemedyKind.default('report-only'),
  /** cni-deny's AdminNetworkPolicy priority (0–1000; lower is evaluated first). */
  anp_priority: z.number().int().min(0).max(1000).default(DEFAULT_ANP_PRIORITY),
  /** The workload selector template (as k8s.quarantine's): finds the pods before they are labelled; `detach` removes its keys. */
  selector: SelectorTemplate.default(DEFAULT_SELECTOR),
});
export type DenyEgressParams = z.output<typeof DenyEgressParams>;

/** What the responder confirmed: the policy to apply, the pods it is for, and the remedy's changes. */
const DenyPlan = z.strictObject({
  namespace: z.string(),
  policy: KubeObjectJson,
  /** False when no cluster was there to list anything (the embedded drill). */
  listed: z.boolean(),
  pods: z.array(z.string()),
  selectingPolicies: z.array(z.string()),
  leakingPolicies: z.array(z.string()),
  /** Null when nothing could be listed (no cluster): such a plan is never applied. */
  remedy: RemedyPlan.nullable(),
});
type DenyPlan = z.output<typeof DenyPlan>;

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
  // Both reads at once: they are independent, and each is a round trip to the API server.
  const [labelled, workload] = await Promise.all([
    cluster.listPods(namespace, {
      labelSelector: `${params.label_key}=${params.label_value}`,
      signal: ctx.signal,
    }),
    asWouldBe ? resolvePods(ctx, { selector: params.selector }) : [],
  ]);
  const pods = new Map(labelled.map((p) => [p.metadata.name ?? '', podInfo(p)]));
  if (asWouldBe) {
    for (const p of workload) {
      const info = podInfo(p);
      if (!pods.has(info.name))
        pods.set(info.name, { ...info, labels: { ...info.labels, [params.label_key]: params.label_value } });
    }
  }
  return [...pods.values()];
}

/** The pods and the other NetworkPolicies, as they are now. */
async function scene(ctx: ActionContext, params: DenyEgressParams): Promise<RemedyScene> {
  const { namespace } = sourceOf(ctx);
  const [pods, policies] = await Promise.all([
    targetPods(ctx, params, true),
    requireCluster(ctx).listNetworkPolicies(namespace, { signal: ctx.signal }),
  ]);
  const others = policies.filter((p) => p.metadata.name !== params.name);
  return { ctx, params, namespace, pods, others };
}

/** Pods k8s.quarantine (same step) failed to label: still the source's pods, and not contained. */
function quarantineFailures(ctx: ActionContext): string[] {
  const step = ctx.incident.steps.find((s) => s.id === ctx.stepId);
  const Failed = z.object({ data: z.object({ failed: z.array(z.string()) }) });
  return (step?.actions ?? [])
    .filter((a) => a.uses === 'k8s.quarantine' && (a.status === 'applied' || a.status === 'verified'))
    .flatMap((a) => Failed.safeParse(a.outcome).data?.data.failed ?? []);
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

export const denyEgress = defineAction({
  id: 'k8s.deny-egress',
  description:
    'Apply a deny-all egress NetworkPolicy selecting the quarantine label, verify egress is really blocked, optionally remedy allow-policies',
  params: DenyEgressParams,
  // Its verification (the union of every policy selecting the pods) is what says contained.
  layer: { name: 'L3/L4' },
  planData: DenyPlan,
  outcomeData: DenyOutcome,
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

  async plan(ctx, params) {
    const { namespace } = sourceOf(ctx);
    assertNamespaceAllowed(ctx.namespaces, namespace);
    const policy = buildPolicy(ctx, params);
    const yaml = stringify(policy);
    if (!ctx.cluster) {
      return {
        summary: `apply NetworkPolicy ${params.name} (deny all egress for ${params.label_key}=${params.label_value}) in ${namespace}; remedy ${params.remedy}`,
        preview: yaml,
        changes: true,
        data: {
          namespace,
          policy: asKubeJson(policy),
          listed: false,
          pods: [],
          selectingPolicies: [],
          leakingPolicies: [],
          remedy: null,
        },
      };
    }
    const now = await scene(ctx, params);
    const others = now.others.map((p) => asNetpol(p, namespace));
    const selecting = analyzeEgress(now.pods, others).isolatedBy;
    const leaking = leakingPolicies(now.pods, others);
    const planned = await remedies[params.remedy].plan(now);
    const wouldBe = { pods: planned.wouldBe.pods, policies: [...planned.wouldBe.policies, policy] };
    const cni = planned.plan.kind === 'cni-deny' ? planned.plan.object : null;
    const expected = cni
      ? cniVerdict(cni, wouldBe.pods, wouldBe.policies, await precedingFor(ctx, cni, wouldBe.pods)).line
      : verificationLine(analyzeEgress(wouldBe.pods, wouldBe.policies));
    const preview = [
      yaml.trimEnd(),
      '---',
      ...(cni ? [stringify(cni).trimEnd(), '---'] : []),
      `# pods: ${now.pods.map((p) => p.name).join(', ') || 'none yet'}`,
      `# other policies selecting them: ${selecting.join(', ') || 'none'}`,
      `# allow-policies that would still let them out: ${leaking.join(', ') || 'none'}`,
      ...planned.lines.map((l) => l.trimEnd()),
      `# expected after apply: ${expected}`,
    ].join('\n');
    return {
      summary: `apply NetworkPolicy ${params.name} (deny all egress for ${params.label_key}=${params.label_value}) in ${namespace}; remedy ${params.remedy}${planned.text}${leaking.length > 0 ? ` (allow-policies selecting the pods: ${leaking.join(', ')})` : ''}`,
      preview,
      changes: true,
      data: {
        namespace,
        policy: asKubeJson(policy),
        listed: true,
        pods: now.pods.map((p) => p.name),
        selectingPolicies: selecting,
        leakingPolicies: leaking,
        remedy: planned.plan,
      },
    };
  },

  async drift(ctx, plan, params) {
    if (!plan.data.listed || !plan.data.remedy) return [];
    const now = await scene(ctx, params);
    const names = new Set(now.pods.map((p) => p.name));
    const planned = new Set(plan.data.pods);
    return [
      ...plan.data.pods.filter((n) => !names.has(n)).map((n) => `pod ${n} gone since the preview`),
      ...[...names].filter((n) => !planned.has(n)).map((n) => `pod ${n} new since the preview`),
      ...(await remedies[plan.data.remedy.kind].drift(now, plan.data.remedy)),
    ];
  },

  /** Applies the deny policy of the plan, then exactly the remedy's changes the plan listed. */
  async apply(ctx, plan, params) {
    const cluster = requireCluster(ctx);
    const { namespace, remedy } = plan.data;
    const policy = stampedForApply(plan.data.policy, ctx);
    assertNamespaceAllowed(ctx.namespaces, namespace);
    if (!remedy)
      throw new CodedError('internal', 'k8s.deny-egress: a plan made without a cluster cannot be applied', {
        userSafe: false,
      });
    const ref: ObjectRef = { ...NETPOL, namespace, name: params.name };
    // A 409 (another field manager wrote in between) reads again, so `created` is judged on what the
    // apply lands on, and applies again, a bounded number of times; then the action fails with it.
    const created = valueOrThrow(
      await retryOnConflict(async () => {
        const existing = await cluster.get(ref, { signal: ctx.signal });
        await cluster.apply(policy, { fieldManager: FIELD_MANAGER, dryRun: ctx.dryRun, signal: ctx.signal });
        return !existing || existing.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id;
      }),
    );
    const out: DenyOutcome = {
      namespace,
      name: params.name,
      created,
      remedy: remedy.kind,
      labelKey: params.label_key,
      policy,
      remedied: [],
      detached: [],
    };
    const strategy = remedies[remedy.kind];
    await strategy.apply(ctx, remedy, out);
    const failures = [...out.remedied, ...out.detached]
      .filter((e) => !e.ok)
      .map((e) => `${e.name}: ${e.error}`);
    if (out.cni && !out.cni.ok) failures.push(`${out.cni.kind} ${out.cni.name}: ${out.cni.error}`);
    return {
      status: 'applied' as const,
      summary: `NetworkPolicy ${params.name} applied in ${namespace} (sha256 ${policy.metadata.annotations?.[ANNOTATION_SPEC_SHA256]?.slice(0, 12)})${strategy.done(out, params)}${failures.length > 0 ? `; FAILED: ${failures.join('; ')}` : ''}`,
      ...(out.fallback ? { reason: out.fallback } : {}),
      data: out,
    };
  },

  async verify(ctx, outcome, params) {
    const { namespace } = sourceOf(ctx);
    const data = outcome.data;
    const strategy = remedies[data.remedy];
    // The cluster after the apply, read fresh (policies and pods at once).
    const [listed, targets] = await Promise.all([
      requireCluster(ctx).listNetworkPolicies(namespace, { signal: ctx.signal }),
      targetPods(ctx, params, ctx.dryRun),
    ]);
    const live = listed.map((p) => asNetpol(p, namespace));
    let pods: PodInfo[];
    let policies: NetworkPolicy[];
    if (ctx.dryRun) {
      // Nothing changed in the cluster: evaluate the policies as they would be.
      const view = strategy.asApplied(
        targets,
        live.filter((p) => p.metadata.name !== params.name),
        data,
      );
      pods = await withUnquarantined(ctx, view.pods);
      policies = [...view.policies, asNetpol(data.policy, namespace)];
    } else {
      pods = await withUnquarantined(ctx, targets);
      policies = live;
    }
    let gone = '';
    if (data.cni?.ok) {
      // A CNI deny in place (or, in a dry run, as sent) wins over the NetworkPolicies' allows.
      const obj = ctx.dryRun
        ? data.cni.object
        : await requireCluster(ctx).get(cniRef(data.cni.object), { signal: ctx.signal });
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
      data: toJson(analysis),
    };
  },

  async revert(ctx, outcome) {
    const cluster = requireCluster(ctx);
    const data = outcome.data;
    const notes = [...(await remedies[data.remedy].revert(ctx, data))];
    if (data.created) {
      const deleted = await cluster.delete(
        { ...NETPOL, namespace: data.namespace, name: data.name },
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

/** The plan type, for tests of round trips. */
export type { DenyPlan };
