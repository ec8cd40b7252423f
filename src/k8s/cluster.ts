// The narrow interface the actions use to talk to Kubernetes. Implemented by kube-cluster.ts over
// @kubernetes/client-node (the only importer of that package). Filled in by the containment work.
export interface Cluster {
  /** A display name for the cluster/context, for timeline lines. */
  readonly name: string;
}
