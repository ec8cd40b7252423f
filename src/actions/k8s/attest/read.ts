import type { ContractRender } from '../../../contracts/render.js';
import { API } from '../../../contracts/render-options.js';
import type { CallOptions, Cluster } from '../../../k8s/cluster.js';
import type { KubeObject } from '../../../k8s/types.js';
import type { PodInfo } from '../netpol.js';
import { attestContract, type LiveObjects } from './compare.js';
import type { ContractAttestation } from './schema.js';

// The cluster-reading side of an attestation, read-only: each namespace a render touches is listed
// once per kind (NetworkPolicies; AuthorizationPolicies and CiliumNetworkPolicies where served),
// and each service's pods by its app label.

async function served(cluster: Cluster, api: { apiVersion: string }, plural: string, opts: CallOptions) {
  const [group = '', version = ''] = api.apiVersion.split('/');
  return cluster.serves(group, version, plural, opts);
}

async function listAll(
  cluster: Cluster,
  api: { apiVersion: string; kind: string },
  namespaces: readonly string[],
  opts: CallOptions,
): Promise<KubeObject[]> {
  const lists = await Promise.all(namespaces.map((ns) => cluster.list(api.apiVersion, api.kind, ns, opts)));
  // List items may leave out the namespace they were listed in.
  return lists.flatMap((items, i) =>
    items.map((o) => ({
      ...o,
      kind: o.kind ?? api.kind,
      metadata: { ...o.metadata, namespace: o.metadata.namespace ?? namespaces[i] },
    })),
  );
}

async function podsOf(
  cluster: Cluster,
  r: ContractRender,
  appLabel: string,
  opts: CallOptions,
): Promise<PodInfo[]> {
  if (r.namespace === undefined) return [];
  const pods = await cluster.listPods(r.namespace, { ...opts, labelSelector: `${appLabel}=${r.service}` });
  return pods.map((p) => ({
    name: p.metadata.name ?? '',
    namespace: p.metadata.namespace ?? r.namespace ?? '',
    labels: { ...(p.metadata.labels ?? {}) },
  }));
}

/** Attest every render (those with objects); the order is the renders' order. */
export async function attestInCluster(
  cluster: Cluster,
  renders: readonly ContractRender[],
  appLabel: string,
  opts: CallOptions = {},
): Promise<ContractAttestation[]> {
  const usable = renders.filter((r) => r.objects.length > 0);
  const namespaces = [
    ...new Set(usable.flatMap((r) => [r.namespace ?? '', ...r.objects.map((o) => o.metadata.namespace)])),
  ]
    .filter((ns) => ns !== '')
    .sort();
  const [authzServed, ciliumServed] = await Promise.all([
    served(cluster, API.authorization, 'authorizationpolicies', opts),
    served(cluster, API.cilium, 'ciliumnetworkpolicies', opts),
  ]);
  const [networkPolicies, authorizationPolicies, ciliumPolicies] = await Promise.all([
    listAll(cluster, API.networkPolicy, namespaces, opts),
    authzServed ? listAll(cluster, API.authorization, namespaces, opts) : undefined,
    ciliumServed ? listAll(cluster, API.cilium, namespaces, opts) : undefined,
  ]);
  const pods = await Promise.all(usable.map((r) => podsOf(cluster, r, appLabel, opts)));
  return usable.map((r, i) => {
    const live: LiveObjects = { networkPolicies, authorizationPolicies, ciliumPolicies, pods: pods[i] ?? [] };
    return attestContract(r, live, appLabel);
  });
}
