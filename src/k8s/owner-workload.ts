// Which workload a pod belongs to: its controller, and past a ReplicaSet to the Deployment that
// controls it. Reads through the Cluster interface only, so it holds for any implementation.
import type { CallOptions, Cluster } from './cluster.js';
import { type OwnerReference, splitApiVersion, type WorkloadRef } from './types.js';

/** The pod's owning workload; undefined when the pod is gone or has no owner. */
export async function ownerWorkload(
  cluster: Pick<Cluster, 'get' | 'getPod'>,
  namespace: string,
  podName: string,
  opts: CallOptions = {},
): Promise<WorkloadRef | undefined> {
  const pod = await cluster.getPod(namespace, podName, opts);
  if (!pod) return undefined;
  const owner = controllerOf(pod.metadata.ownerReferences);
  if (!owner) return undefined;
  if (owner.kind === 'ReplicaSet' && splitApiVersion(owner.apiVersion).group === 'apps') {
    const rs = await cluster.get(
      { apiVersion: owner.apiVersion, kind: 'ReplicaSet', namespace, name: owner.name },
      opts,
    );
    const rsOwner = controllerOf(rs?.metadata.ownerReferences);
    // A ReplicaSet without a controller (or already gone) is the workload itself.
    if (rsOwner) return workloadRef(rsOwner, namespace);
  }
  return workloadRef(owner, namespace);
}

function controllerOf(refs: OwnerReference[] | undefined): OwnerReference | undefined {
  return refs?.find((r) => r.controller) ?? (refs?.length === 1 ? refs[0] : undefined);
}

function workloadRef(o: OwnerReference, namespace: string): WorkloadRef {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.name,
    namespace,
    ...(o.uid ? { uid: o.uid } : {}),
  };
}
