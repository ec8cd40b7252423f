// cni-deny: where an AdminNetworkPolicy or CiliumNetworkPolicy is served, apply a Deny of the
// quarantined pods' egress that wins over every NetworkPolicy allow; where neither is, report only.
import type { KubeObject } from '../../../k8s/types.js';
import type { ActionContext } from '../../define.js';
import { buildCniDeny, type CniKind, cniRef, NO_CNI_DENY_REASON, servedCniDeny } from './cni-deny.js';
import {
  ANNOTATION_APPLIED_BY,
  ANNOTATION_APPROVED_BY,
  ANNOTATION_CONTRACT,
  ANNOTATION_INCIDENT,
  approvedBy,
  contractFor,
  errorMessage,
  FIELD_MANAGER,
  requireCluster,
  stampedForApply,
} from './common.js';
import { retryOnConflict } from './conflict.js';
import { asKubeJson } from './kube-json.js';
import {
  type DenyOutcome,
  expectPlan,
  leakingPolicies,
  netpols,
  type RemedyParams,
  type RemedyStrategy,
} from './remedy-strategy.js';

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

export const cniDeny: RemedyStrategy = {
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
    const planned = expectPlan(plan, 'cni-deny').object;
    const kind = await servedCniDeny(requireCluster(scene.ctx), scene.ctx.signal);
    if ((planned?.kind ?? null) === (kind ?? null)) return [];
    return [kind ? `${kind} is now served` : `${planned?.kind} is no longer served`];
  },
  async apply(ctx, plan, out) {
    const object = expectPlan(plan, 'cni-deny').object;
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
    // A 409 reads again (who owns it now decides `created`) and applies again, a bounded number of times.
    const tried = await retryOnConflict(async () => {
      const existing = await cluster.get(ref, { signal: ctx.signal });
      await cluster.apply(planned, { fieldManager: FIELD_MANAGER, dryRun: ctx.dryRun, signal: ctx.signal });
      return !existing || existing.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id;
    });
    if (tried.ok) record.created = tried.value;
    else {
      record.ok = false;
      record.error = errorMessage(tried.error);
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
