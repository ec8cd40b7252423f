import { stringify } from 'yaml';
import { z } from 'zod';
import { assertNamespaceAllowed } from '../../../domain/namespace-policy.js';
import type { KubeObject, ObjectRef } from '../../../k8s/types.js';
import { type ActionContext, defineAction, type Json, type Outcome } from '../../define.js';
import { MANAGED_BY_LABEL, MANAGER } from '../netpol.js';
import { ANNOTATION_INCIDENT, FIELD_MANAGER, requireCluster, serviceAccountOf, sourceOf } from './common.js';
import { asKubeJson, KubeObjectJson } from './kube-json.js';

export const ISTIO_GROUP = 'security.istio.io';
export const ISTIO_VERSION = 'v1';
export const NO_MESH_REASON = 'Istio AuthorizationPolicy API not served: no L7 block (no mesh)';

export const L7DenyParams = z.strictObject({
  /** Template; `{service}` from the alert's source. */
  name: z.string().min(1).default('quarantine-deny-{service}'),
});
export type L7DenyParams = z.output<typeof L7DenyParams>;

function principalOf(ctx: ActionContext): string {
  return `cluster.local/ns/${sourceOf(ctx).namespace}/sa/${serviceAccountOf(ctx)}`;
}

function authorizationPolicy(ctx: ActionContext, params: L7DenyParams): KubeObject {
  const { namespace, service } = sourceOf(ctx);
  const principal = principalOf(ctx);
  return {
    apiVersion: `${ISTIO_GROUP}/${ISTIO_VERSION}`,
    kind: 'AuthorizationPolicy',
    metadata: {
      name: params.name.replaceAll('{service}', service),
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGER },
      annotations: { [ANNOTATION_INCIDENT]: ctx.incident.id },
    },
    spec: { action: 'DENY', rules: [{ from: [{ source: { principals: [principal] } }] }] },
  };
}

function refOf(obj: KubeObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata.namespace!,
    name: obj.metadata.name!,
  };
}

const L7Plan = z.strictObject({
  /** Whether the mesh API was served when planned (null: no cluster to ask). */
  served: z.boolean().nullable(),
  /** The AuthorizationPolicy to apply (null when the mesh API is not served). */
  policy: KubeObjectJson.nullable(),
});
const L7Outcome = z.strictObject({
  served: z.boolean(),
  created: z.boolean().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
});

export const l7Deny = defineAction({
  id: 'k8s.l7-deny',
  description: "Where Istio is installed, a DENY AuthorizationPolicy for the source workload's principal",
  params: L7DenyParams,
  planData: L7Plan,
  outcomeData: L7Outcome,
  rbac: [
    {
      apiGroups: [ISTIO_GROUP],
      resources: ['authorizationpolicies'],
      verbs: ['get', 'create', 'patch', 'delete'],
    },
  ],
  destructive: true,
  needsCluster: true,
  example: { name: 'quarantine-deny-{service}' },

  async plan(ctx, params) {
    assertNamespaceAllowed(ctx.namespaces, sourceOf(ctx).namespace);
    const policy = authorizationPolicy(ctx, params);
    const served = ctx.cluster
      ? await ctx.cluster.serves(ISTIO_GROUP, ISTIO_VERSION, 'authorizationpolicies', { signal: ctx.signal })
      : null;
    if (served === false) {
      return { summary: `skip: ${NO_MESH_REASON}`, changes: false, data: { served: false, policy: null } };
    }
    return {
      summary: `apply AuthorizationPolicy ${policy.metadata.name} (DENY from ${principalOf(ctx)}) in ${policy.metadata.namespace}`,
      preview: stringify(policy),
      changes: true,
      data: { served, policy: asKubeJson(policy) },
    };
  },

  async drift(ctx, plan) {
    const served = await requireCluster(ctx).serves(ISTIO_GROUP, ISTIO_VERSION, 'authorizationpolicies', {
      signal: ctx.signal,
    });
    if (plan.data.served === null || served === plan.data.served) return [];
    return [
      served
        ? 'the Istio AuthorizationPolicy API is now served'
        : 'the Istio AuthorizationPolicy API is no longer served',
    ];
  },

  async apply(ctx, plan) {
    const cluster = requireCluster(ctx);
    const policy = plan.data.policy;
    if (!policy)
      return { status: 'skipped', summary: 'no L7 block', reason: NO_MESH_REASON, data: { served: false } };
    const namespace = policy.metadata.namespace ?? sourceOf(ctx).namespace;
    assertNamespaceAllowed(ctx.namespaces, namespace);
    const existing = await cluster.get(refOf(policy), { signal: ctx.signal });
    const created = !existing || existing.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id;
    await cluster.apply(policy, { fieldManager: FIELD_MANAGER, dryRun: ctx.dryRun, signal: ctx.signal });
    return {
      status: 'applied',
      summary: `AuthorizationPolicy ${policy.metadata.name} (DENY) applied in ${namespace}`,
      data: { served: true, created, namespace, name: policy.metadata.name ?? '' },
    };
  },

  async revert(ctx, outcome): Promise<Outcome<Json>> {
    const data = outcome.data;
    if (!data.served || !data.name || !data.namespace)
      return { status: 'skipped', summary: 'nothing was applied', data: {} };
    if (!data.created) {
      return {
        status: 'applied',
        summary: `AuthorizationPolicy ${data.name} existed before this incident: kept`,
        data: {},
      };
    }
    const deleted = await requireCluster(ctx).delete(
      {
        apiVersion: `${ISTIO_GROUP}/${ISTIO_VERSION}`,
        kind: 'AuthorizationPolicy',
        namespace: data.namespace,
        name: data.name,
      },
      { dryRun: ctx.dryRun, signal: ctx.signal },
    );
    return {
      status: 'applied',
      summary: deleted
        ? `deleted AuthorizationPolicy ${data.name}`
        : `AuthorizationPolicy ${data.name} was already gone`,
      data: { deleted },
    };
  },
});
