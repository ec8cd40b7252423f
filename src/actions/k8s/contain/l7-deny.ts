import { stringify } from 'yaml';
import { z } from 'zod';
import { assertNamespaceAllowed } from '../../../domain/namespace-policy.js';
import {
  type ActionContext,
  defineAction,
  type Json,
  type Outcome,
  type Verification,
} from '../../define.js';
import {
  ANNOTATION_INCIDENT,
  FIELD_MANAGER,
  requireCluster,
  sourceOf,
  stampedForApply,
  toJson,
} from './common.js';
import { asKubeJson, KubeObjectJson } from './kube-json.js';
import {
  AUTHZ_API,
  coverageLine,
  findGateway,
  Gateway,
  gatewayText,
  ISTIO_GROUP,
  ISTIO_VERSION,
  L7DenyParams,
  l7Policies,
  NO_MESH_REASON,
  principalOf,
  refOf,
} from './l7-mesh.js';

export { ISTIO_GROUP, ISTIO_VERSION, L7DenyParams, NO_MESH_REASON } from './l7-mesh.js';

// An L7 block by the source's principal at the points that enforce it (see l7-mesh.ts). A
// supplementary layer: what contains is the NetworkPolicy (k8s.deny-egress); this refuses the
// principal's mTLS calls on top, and its verification says what it covers and what it does not.
//
// The mesh root namespace and the gateway's namespace are usually on the namespace deny list (they
// are the control plane): the list keeps the bot from changing *workloads* there. These policies are
// the only way to bind a DENY mesh-wide, are named in the preview, and are all the bot writes there;
// the source's namespace is still checked. Without RBAC there, the 403 is the layer's stated result.

const L7Plan = z.strictObject({
  /** Whether the mesh API was served when planned (null: no cluster to ask). */
  served: z.boolean().nullable(),
  principal: z.string().optional(),
  /** The egress gateway found (null: none deployed; absent: not looked up, no cluster). */
  gateway: Gateway.nullable().optional(),
  /** The AuthorizationPolicies to apply: mesh-wide first, then the gateway's. */
  policies: z.array(KubeObjectJson).default([]),
});

const Applied = z.strictObject({
  namespace: z.string(),
  name: z.string(),
  /** False when an object of that name existed before this incident: revert keeps it. */
  created: z.boolean(),
  scope: z.enum(['east-west', 'north-south']),
});
const L7Outcome = z.strictObject({
  served: z.boolean(),
  principal: z.string().optional(),
  gateway: Gateway.nullable().optional(),
  policies: z.array(Applied).optional(),
  /** As applied (a dry run's verification reads these: nothing was stored). */
  sent: z.array(KubeObjectJson).optional(),
  // Outcomes stored before the mesh-wide rebuild (one policy in the source namespace).
  created: z.boolean().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
});

const scopeOf = (obj: { metadata: { annotations?: Record<string, string> } }) =>
  obj.metadata.annotations?.['egress-responder.io/l7-scope'] === 'north-south' ? 'north-south' : 'east-west';

async function served(ctx: ActionContext): Promise<boolean> {
  return requireCluster(ctx).serves(ISTIO_GROUP, ISTIO_VERSION, 'authorizationpolicies', {
    signal: ctx.signal,
  });
}

const sameGateway = (a: Gateway | null | undefined, b: Gateway | null) =>
  JSON.stringify(a ?? null) === JSON.stringify(b);

export const l7Deny = defineAction({
  id: 'k8s.l7-deny',
  description:
    "Where Istio is installed, DENY the source workload's principal at every sidecar (mesh root namespace) and at the egress gateway: supplementary to the NetworkPolicy",
  params: L7DenyParams,
  planData: L7Plan,
  outcomeData: L7Outcome,
  rbac: [
    {
      apiGroups: [ISTIO_GROUP],
      resources: ['authorizationpolicies'],
      verbs: ['get', 'create', 'patch', 'delete'],
    },
    // Finding the egress gateway: its pods, and the workload that owns them (for its name).
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    { apiGroups: ['apps'], resources: ['replicasets', 'deployments'], verbs: ['get'] },
  ],
  destructive: true,
  needsCluster: true,
  layer: { name: 'L7', supplementary: true },
  example: { mesh_root_namespace: 'istio-system' },

  async plan(ctx, params) {
    assertNamespaceAllowed(ctx.namespaces, sourceOf(ctx).namespace);
    const principal = principalOf(ctx);
    if (!ctx.cluster) {
      const policies = l7Policies(ctx, params, null);
      return {
        summary: `apply AuthorizationPolicy ${policies[0]?.metadata.name} (DENY from ${principal}) in ${params.mesh_root_namespace} (every sidecar), and one on the egress gateway if one is deployed (not looked up: no cluster)`,
        preview: stringify(policies[0]),
        changes: true,
        data: { served: null, principal, policies: policies.map(asKubeJson) },
      };
    }
    if (!(await served(ctx))) {
      return { summary: `skip: ${NO_MESH_REASON}`, changes: false, data: { served: false, policies: [] } };
    }
    const gateway = await findGateway(ctx, params);
    const policies = l7Policies(ctx, params, gateway);
    const where = gateway
      ? `; ${policies[1]?.metadata.name} on egress gateway ${gatewayText(gateway)}`
      : `; no egress gateway in ${params.egress_gateway.namespace}`;
    const header = [
      `# east-west: ${params.mesh_root_namespace} is the mesh root namespace; no selector, so every sidecar refuses ${principal}`,
      gateway
        ? `# north-south: the egress gateway ${gatewayText(gateway)} refuses it`
        : '# north-south: no egress gateway deployed: external traffic relies on the NetworkPolicy',
    ];
    return {
      summary: `apply AuthorizationPolicy ${policies[0]?.metadata.name} (DENY from ${principal}) in ${params.mesh_root_namespace} (every sidecar)${where}`,
      preview: `${header.join('\n')}\n${policies.map((p) => stringify(p)).join('---\n')}`,
      changes: true,
      data: { served: true, principal, gateway, policies: policies.map(asKubeJson) },
    };
  },

  async drift(ctx, plan, params) {
    const now = await served(ctx);
    if (plan.data.served === null) return [];
    if (now !== plan.data.served) {
      return [
        now
          ? 'the Istio AuthorizationPolicy API is now served'
          : 'the Istio AuthorizationPolicy API is no longer served',
      ];
    }
    if (!now) return [];
    const gateway = await findGateway(ctx, params);
    if (sameGateway(plan.data.gateway, gateway)) return [];
    if (!gateway) return [`the egress gateway ${gatewayText(plan.data.gateway!)} is gone`];
    return plan.data.gateway
      ? [`the egress gateway is now ${gatewayText(gateway)} (was ${gatewayText(plan.data.gateway)})`]
      : [`an egress gateway is deployed now: ${gatewayText(gateway)}`];
  },

  async apply(ctx, plan) {
    const cluster = requireCluster(ctx);
    if (!plan.data.served || plan.data.policies.length === 0)
      return { status: 'skipped', summary: 'no mesh', reason: NO_MESH_REASON, data: { served: false } };
    assertNamespaceAllowed(ctx.namespaces, sourceOf(ctx).namespace);
    const applied: z.output<typeof Applied>[] = [];
    const sent: z.output<typeof KubeObjectJson>[] = [];
    for (const policy of plan.data.policies) {
      const ref = refOf(policy);
      const existing = await cluster.get(ref, { signal: ctx.signal });
      // Ours when absent before, or made by this incident (an apply resumed after a restart).
      const created = !existing || existing.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id;
      const stamped = stampedForApply(policy, ctx);
      await cluster.apply(stamped, { fieldManager: FIELD_MANAGER, dryRun: ctx.dryRun, signal: ctx.signal });
      applied.push({ namespace: ref.namespace ?? '', name: ref.name, created, scope: scopeOf(policy) });
      sent.push(stamped);
    }
    return {
      status: 'applied',
      summary: `AuthorizationPolicy DENY from ${plan.data.principal} applied: ${applied.map((a) => `${a.namespace}/${a.name} (${a.scope})`).join(', ')}`,
      data: {
        served: true,
        ...(plan.data.principal ? { principal: plan.data.principal } : {}),
        gateway: plan.data.gateway ?? null,
        policies: applied,
        sent,
      },
    };
  },

  async verify(ctx, outcome, params): Promise<Verification> {
    const data = outcome.data;
    const principal = data.principal ?? principalOf(ctx);
    const missing: string[] = [];
    for (const obj of data.sent ?? []) {
      // A dry run stored nothing: the objects as the API server accepted them are all there is.
      const found = ctx.dryRun ? obj : await requireCluster(ctx).get(refOf(obj), { signal: ctx.signal });
      const spec = (found as { spec?: { action?: unknown; rules?: unknown } } | undefined)?.spec;
      const refuses =
        spec?.action === 'DENY' && JSON.stringify(spec.rules ?? []).includes(JSON.stringify(principal));
      if (!refuses) missing.push(`${obj.metadata.namespace}/${obj.metadata.name}`);
    }
    const dry = ctx.dryRun ? ' (dry-run: as the API server accepted them)' : '';
    const coverage = coverageLine(principal, data.gateway ?? null, params.egress_gateway);
    if (missing.length > 0) {
      return {
        ok: false,
        line: `L7 block missing: AuthorizationPolicy ${missing.join(', ')} not found or no longer DENY ${principal}${dry}; ${coverage.split('; ').at(-1)}`,
        data: { missing },
      };
    }
    return {
      ok: true,
      line: `L7 block (supplementary, not containment on its own): ${coverage}${dry}`,
      data: { principal, gateway: toJson(data.gateway ?? null) },
    };
  },

  async revert(ctx, outcome): Promise<Outcome<Json>> {
    const data = outcome.data;
    const applied =
      data.policies ??
      (data.name && data.namespace
        ? [{ namespace: data.namespace, name: data.name, created: data.created ?? false, scope: 'east-west' }]
        : []);
    if (!data.served || applied.length === 0)
      return { status: 'skipped', summary: 'nothing was applied', data: {} };
    const notes: string[] = [];
    for (const a of applied) {
      if (!a.created) {
        notes.push(`AuthorizationPolicy ${a.namespace}/${a.name} existed before this incident: kept`);
        continue;
      }
      const deleted = await requireCluster(ctx).delete(
        { apiVersion: AUTHZ_API, kind: 'AuthorizationPolicy', namespace: a.namespace, name: a.name },
        { dryRun: ctx.dryRun, signal: ctx.signal },
      );
      notes.push(
        deleted
          ? `deleted AuthorizationPolicy ${a.namespace}/${a.name}`
          : `AuthorizationPolicy ${a.namespace}/${a.name} was already gone`,
      );
    }
    return { status: 'applied', summary: notes.join('; '), data: { notes } };
  },
});
