import { CodedError } from '../domain/errors.js';
import type { ObjectRefRecord } from '../domain/grant.js';
import type { Cluster } from '../k8s/cluster.js';
import type { KubeObject } from '../k8s/types.js';
import { FIELD_MANAGER } from './settings.js';

// Writing a grant's objects and taking them away. Apply is server-side apply, a dry run of every
// object first so admission and RBAC refuse before anything exists; a drill's grant only ever sends
// the dry runs. Removal deletes by name and treats "already gone" as done, so it can be repeated by
// any replica, any number of times.

export const refText = (r: Pick<ObjectRefRecord, 'kind' | 'namespace' | 'name'>): string =>
  `${r.kind} ${r.namespace}/${r.name}`;

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function applyObjects(
  cluster: Cluster,
  objects: readonly KubeObject[],
  opts: { drill: boolean; signal?: AbortSignal },
): Promise<void> {
  const write = (obj: KubeObject, dryRun: boolean) =>
    cluster.apply(obj, {
      dryRun,
      fieldManager: FIELD_MANAGER,
      // The objects are ours by name (breakglass-<id>): a field someone else took is taken back.
      force: true,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  for (const obj of objects) await write(obj, true);
  if (opts.drill) return;
  for (const obj of objects) await write(obj, false);
}

export interface Removal {
  /** What was deleted now, or found already gone. */
  gone: string[];
  /** What could not be deleted, with the API server's reason. */
  errors: string[];
}

export async function removeObjects(
  cluster: Cluster | undefined,
  refs: readonly ObjectRefRecord[],
  opts: { drill: boolean; signal?: AbortSignal },
): Promise<Removal> {
  const out: Removal = { gone: [], errors: [] };
  if (refs.length === 0) return out;
  if (!cluster) {
    // A drill created nothing; anything else waits for a process that has a cluster.
    if (opts.drill) return { gone: refs.map(refText), errors: [] };
    return { gone: [], errors: ['no Kubernetes cluster is configured in this process'] };
  }
  for (const ref of refs) {
    try {
      await cluster.delete(ref, { dryRun: opts.drill, ...(opts.signal ? { signal: opts.signal } : {}) });
      out.gone.push(refText(ref));
    } catch (err) {
      // A kind the cluster does not serve (Cilium uninstalled) cannot hold the object.
      if (err instanceof CodedError && err.code === 'k8s_not_found') out.gone.push(refText(ref));
      else out.errors.push(`${refText(ref)}: ${errorText(err)}`);
    }
  }
  return out;
}
