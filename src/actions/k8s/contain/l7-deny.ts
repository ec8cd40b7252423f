import { stringify } from 'yaml';
import { z } from 'zod';
import { assertNamespaceAllowed } from '../../../domain/namespace-policy.js';
import type { KubeObject, ObjectRef } from '../../../k8s/types.js';
import { type ActionContext, defineAction, type Outcome, type Plan } from '../../define.js';
import { MANAGED_BY_LABEL, MANAGER } from '../netpol.js';
import { ANNOTATION_INCIDENT, FIELD_MANAGER, requireCluster, serviceAccountOf, sourceOf } from './common.js';

export const ISTIO_GROUP = 'security.istio.io';
export const ISTIO_VERSION = 'v1';
export const NO_MESH_REASON = 'Istio AuthorizationPolicy API not served: no L7 block (no mesh)';

export const L7DenyParams = z.strictObject({
  /** Template; `{service}` from the alert's source. */
  name: z.string().min(1).default('quarantine-deny-{service}'),
});
export type L7DenyParams = z.output<typeof L7DenyParams>;

function authorizationPolicy(ctx: ActionContext, params: L7DenyParams): KubeObject {
  const { namespace, service } = sourceOf(ctx);
  const principal = `cluster.local/ns/${namespace}/sa/${serviceAccountOf(ctx)}`;
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

export const l7Deny = defineAction({
  id: 'k8s.l7-deny',
  description: "Where Istio is installed, a DENY AuthorizationPolicy for the source workload's principal",
  params: L7DenyParams,
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

  async plan(ctx, params): Promise<Plan> {
    assertNamespaceAllowed(ctx.namespaces, sourceOf(ctx).namespace);
    const policy = authorizationPolicy(ctx, params);
    const served = ctx.cluster
      ? await ctx.cluster.serves(ISTIO_GROUP, ISTIO_VERSION, 'authorizationpolicies', { signal: ctx.signal })
      : undefined;
    if (served === false) {
      return { summary: `skip: ${NO_MESH_REASON}`, changes: false, data: { served: false } };
    }
    return {
      summary: `apply AuthorizationPolicy ${policy.metadata.name} (DENY from ${(policy.spec as { rules: { from: { source: { principals: string[] } }[] }[] }).rules[0]!.from[0]!.source.principals[0]}) in ${policy.metadata.namespace}`,
      preview: stringify(policy),
      changes: true,
      data: { served: served ?? null, name: policy.metadata.name ?? '' },
    };
  },

  async apply(ctx, _plan, params): Promise<Outcome> {
    const cluster = requireCluster(ctx);
    const { namespace } = sourceOf(ctx);
    assertNamespaceAllowed(ctx.namespaces, namespace);
    if (
      !(await cluster.serves(ISTIO_GROUP, ISTIO_VERSION, 'authorizationpolicies', { signal: ctx.signal }))
    ) {
      return { status: 'skipped', summary: 'no L7 block', reason: NO_MESH_REASON, data: { served: false } };
    }
    const policy = authorizationPolicy(ctx, params);
    const existing = await cluster.get(refOf(policy), { signal: ctx.signal });
    const created = !existing || existing.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id;
    await cluster.apply(policy, { fieldManager: FIELD_MANAGER, dryRun: ctx.dryRun, signal: ctx.signal });
    return {
      status: 'applied',
      summary: `AuthorizationPolicy ${policy.metadata.name} (DENY) applied in ${namespace}`,
      data: { served: true, created, namespace, name: policy.metadata.name ?? '' },
    };
  },

  async revert(ctx, outcome): Promise<Outcome> {
    const data = outcome.data as { served: boolean; created?: boolean; namespace?: string; name?: string };
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
