import { z } from 'zod';
import type { KubeObject, ObjectRef, Pod } from '../../../k8s/types.js';
import type { ActionContext } from '../../define.js';
import { MANAGED_BY_LABEL, MANAGER } from '../netpol.js';
import { ANNOTATION_INCIDENT, formatSelector, requireCluster, serviceAccountOf, sourceOf } from './common.js';

// Where Istio enforces an AuthorizationPolicy: on the workloads it selects as *destinations*. A DENY
// by the source principal therefore blocks the source only where it is bound as a destination:
//   - in the mesh root namespace, with no selector, it binds to every sidecar of the mesh (east-west);
//   - on the egress gateway (its namespace, selecting its pods) it binds where traffic leaves the
//     mesh (north-south), when such a gateway is deployed.
// A policy in the source's own namespace would only refuse calls into that namespace's workloads.

export const ISTIO_GROUP = 'security.istio.io';
export const ISTIO_VERSION = 'v1';
export const AUTHZ_API = `${ISTIO_GROUP}/${ISTIO_VERSION}`;
export const NO_MESH_REASON = 'Istio AuthorizationPolicy API not served: no L7 block (no mesh)';
/** Said with every L7 result: a workload without a sidecar presents no principal, so nothing refuses it. */
export const OUTSIDE_MESH = 'workloads outside the mesh (no sidecar) are not covered';

export const L7DenyParams = z.strictObject({
  /** Template; `{service}` and `{namespace}` from the alert's source (the policies live in shared namespaces). */
  name: z.string().min(1).default('quarantine-deny-{namespace}-{service}'),
  /** Istio's root namespace (meshConfig.rootNamespace): a policy there with no selector binds to every sidecar. */
  mesh_root_namespace: z.string().min(1).default('istio-system'),
  egress_gateway: z
    .strictObject({
      namespace: z.string().min(1).default('istio-system'),
      /** The labels of the gateway's pods: the policy's `selector.matchLabels`. */
      labels: z.record(z.string(), z.string()).default({ istio: 'egressgateway' }),
    })
    .default({ namespace: 'istio-system', labels: { istio: 'egressgateway' } }),
});
export type L7DenyParams = z.output<typeof L7DenyParams>;

export const Gateway = z.strictObject({
  namespace: z.string(),
  /** The gateway's workloads (Deployment names, or pod names for bare pods). */
  names: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
});
export type Gateway = z.output<typeof Gateway>;

export function principalOf(ctx: ActionContext): string {
  return `cluster.local/ns/${sourceOf(ctx).namespace}/sa/${serviceAccountOf(ctx)}`;
}

export function policyName(ctx: ActionContext, params: L7DenyParams): string {
  const { namespace, service } = sourceOf(ctx);
  return params.name.replaceAll('{service}', service).replaceAll('{namespace}', namespace);
}

function denyPolicy(
  ctx: ActionContext,
  meta: { name: string; namespace: string; layer: 'east-west' | 'north-south' },
  selector?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: AUTHZ_API,
    kind: 'AuthorizationPolicy',
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGER },
      annotations: {
        [ANNOTATION_INCIDENT]: ctx.incident.id,
        'egress-responder.io/l7-scope': meta.layer,
      },
    },
    spec: {
      ...(selector ? { selector: { matchLabels: selector } } : {}),
      action: 'DENY',
      rules: [{ from: [{ source: { principals: [principalOf(ctx)] } }] }],
    },
  };
}

/** The mesh-wide policy (no selector, root namespace) and, with a gateway, the one on the gateway. */
export function l7Policies(ctx: ActionContext, params: L7DenyParams, gateway: Gateway | null): KubeObject[] {
  const name = policyName(ctx, params);
  const out = [denyPolicy(ctx, { name, namespace: params.mesh_root_namespace, layer: 'east-west' })];
  if (gateway) {
    // Its own name: the gateway often lives in the root namespace too.
    out.push(
      denyPolicy(
        ctx,
        { name: `${name}-egressgateway`, namespace: gateway.namespace, layer: 'north-south' },
        gateway.labels,
      ),
    );
  }
  return out;
}

function live(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

/** The egress gateway's running pods, named by the workload that owns them; null when none is deployed. */
export async function findGateway(ctx: ActionContext, params: L7DenyParams): Promise<Gateway | null> {
  const cluster = requireCluster(ctx);
  const { namespace, labels } = params.egress_gateway;
  const pods = (
    await cluster.listPods(namespace, { labelSelector: formatSelector(labels), signal: ctx.signal })
  ).filter(live);
  if (pods.length === 0) return null;
  const names = new Set<string>();
  for (const pod of pods) {
    const podName = pod.metadata.name ?? '';
    const owner = await cluster.podOwnerWorkload(namespace, podName, { signal: ctx.signal });
    names.add(owner?.name ?? podName);
  }
  return { namespace, names: [...names].sort(), labels };
}

export function gatewayText(g: Gateway): string {
  return g.names.map((n) => `${g.namespace}/${n}`).join(', ');
}

export function refOf(obj: KubeObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name ?? '',
  };
}

/** What the L7 block covers and what it does not, in one line; never a claim of containment. */
export function coverageLine(
  principal: string,
  gateway: Gateway | null,
  searched: L7DenyParams['egress_gateway'],
): string {
  const northSouth = gateway
    ? `north-south: egress gateway ${gatewayText(gateway)} refuses it`
    : `no egress gateway (no running pods with ${formatSelector(searched.labels)} in ${searched.namespace}): external traffic relies on the NetworkPolicy`;
  return `east-west: every sidecar in the mesh refuses ${principal}; ${northSouth}; ${OUTSIDE_MESH}`;
}
