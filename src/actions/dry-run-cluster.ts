import type { Cluster } from '../k8s/cluster.js';

// The guard that makes a drill unable to change a cluster, whatever an action passes: every write a
// drill incident's action sends goes out as a server-side dry-run (dryRun=All), so RBAC and admission
// are still exercised and nothing is stored. Actions are expected to pass `ctx.dryRun` themselves;
// this wrapper is what holds when one forgets, or a step is reached another way (a button, a slash
// command, a retry, a resume after a restart): the engine gives a drill's actions only this cluster.

/** `cluster` with every write forced to `dryRun: true`; reads pass through unchanged. */
export function dryRunOnly(cluster: Cluster): Cluster {
  return {
    get name() {
      return cluster.name;
    },
    serves: (group, version, resource, opts) => cluster.serves(group, version, resource, opts),
    get: (ref, opts) => cluster.get(ref, opts),
    list: (apiVersion, kind, namespace, opts) => cluster.list(apiVersion, kind, namespace, opts),
    listPods: (namespace, opts) => cluster.listPods(namespace, opts),
    getPod: (namespace, name, opts) => cluster.getPod(namespace, name, opts),
    podOwnerWorkload: (namespace, pod, opts) => cluster.podOwnerWorkload(namespace, pod, opts),
    listNetworkPolicies: (namespace, opts) => cluster.listNetworkPolicies(namespace, opts),
    podLogs: (namespace, pod, opts) => cluster.podLogs(namespace, pod, opts),
    canI: (check, opts) => cluster.canI(check, opts),
    create: (obj, opts) => cluster.create(obj, { ...opts, dryRun: true }),
    replace: (obj, opts) => cluster.replace(obj, { ...opts, dryRun: true }),
    patch: (ref, patch, strategy, opts) => cluster.patch(ref, patch, strategy, { ...opts, dryRun: true }),
    apply: (obj, opts) => cluster.apply(obj, { ...opts, dryRun: true }),
    delete: (ref, opts) => cluster.delete(ref, { ...opts, dryRun: true }),
  };
}
