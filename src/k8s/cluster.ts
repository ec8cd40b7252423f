// The narrow interface the actions use to talk to Kubernetes: plain JSON in, plain JSON out. Implemented
// by kube-cluster.ts over @kubernetes/client-node (kube-requests.ts sends, discovery.ts finds paths;
// only src/k8s/ imports that package); tests run it against the fake API server in test/fakes/kube-api.
//
// Errors: every method rejects with a CodedError —
//   k8s_forbidden    403 (message names the verb, resource and namespace the ServiceAccount lacks) or 401
//   k8s_not_found    404 on anything but get()/getPod() (those resolve undefined) and delete() (resolves false);
//                    also a kind the cluster does not serve
//   k8s_conflict     409: AlreadyExists on create, stale resourceVersion on replace/patch/apply. Re-reading and
//                    retrying a read-modify-write is the caller's business.
//   k8s_invalid      400/422/415: the server's own message
//   k8s_unavailable  429/5xx/timeouts/connection errors, after the bounded retries
// `details` carries { status, reason, verb, resource, namespace, name, attempts } where known.
import type { KubeObject, NetworkPolicy, ObjectRef, Pod, WorkloadRef } from './types.js';

export type PatchStrategy = 'merge' | 'strategic' | 'json';

/** A JSON Patch (RFC 6902) operation, for `patch(…, 'json')`. */
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

export interface CallOptions {
  /** Aborts the call (and its retries) — pass the step's signal. */
  signal?: AbortSignal;
}

export interface WriteOptions extends CallOptions {
  /** Server-side dry run (`dryRun=All`): validated, admitted, nothing stored. */
  dryRun: boolean;
  /** Recorded by the server as the writer of the fields; defaults to the cluster's field manager. */
  fieldManager?: string;
}

export interface PatchOptions extends WriteOptions {
  /** Patch a subresource, e.g. `status` (cert-manager renewal sets a status condition). */
  subresource?: 'status';
}

export interface ApplyOptions extends WriteOptions {
  /** Required for server-side apply. */
  fieldManager: string;
  /** Take over fields another manager owns instead of failing with a conflict. */
  force?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  /** Delete only if the object is still this version (409 otherwise). */
  preconditions?: { resourceVersion?: string; uid?: string };
}

export interface ListOptions extends CallOptions {
  /** `app=payments-api,quarantine!=true`, `tier in (web,api)`, `!canary` … */
  labelSelector?: string;
  /** `metadata.name=x`, `spec.serviceAccountName=payments-api`, `status.phase=Running` … */
  fieldSelector?: string;
}

export interface PodLogOptions extends CallOptions {
  tailLines?: number;
  container?: string;
  /**
   * The previous instance of the container (before its last restart). A container that never
   * restarted has none: the server answers 400 "previous terminated container … not found" (k8s_invalid).
   */
  previous?: boolean;
}

export interface AccessCheck {
  verb: string;
  /** API group; '' for core. */
  group: string;
  /** Plural resource, e.g. `pods`, `networkpolicies`. */
  resource: string;
  /** Absent for cluster-scoped resources or cluster-wide checks. */
  namespace?: string;
  subresource?: string;
  name?: string;
}

export interface Cluster {
  /** A display name for the cluster/context, for timeline lines (never credentials). */
  readonly name: string;

  /** Whether the API server serves `resource` (plural) in `group/version`. Discovery, cached. */
  serves(group: string, version: string, resource: string, opts?: CallOptions): Promise<boolean>;

  /** Read one object; undefined when it does not exist. */
  get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: CallOptions): Promise<T | undefined>;
  /**
   * List objects of a kind (all pages), in one namespace or, with `namespace` undefined, cluster-wide
   * (an empty string is refused: k8s_invalid). Items carry apiVersion and kind.
   */
  list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    opts?: ListOptions,
  ): Promise<T[]>;
  /** Create; 409 AlreadyExists → k8s_conflict. */
  create<T extends KubeObject = KubeObject>(obj: T, opts: WriteOptions): Promise<T>;
  /** Replace (PUT). With metadata.resourceVersion set, a stale version → k8s_conflict. */
  replace<T extends KubeObject = KubeObject>(obj: T, opts: WriteOptions): Promise<T>;
  /**
   * Patch: `merge` (RFC 7386, null deletes a key), `strategic` (built-in kinds only; lists such as
   * containers merge by name) or `json` (RFC 6902 ops, e.g. `test` then `remove`).
   */
  patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: Record<string, unknown> | JsonPatchOp[],
    strategy: PatchStrategy,
    opts: PatchOptions,
  ): Promise<T>;
  /** Server-side apply: create if absent, otherwise update the fields this field manager owns. Idempotent. */
  apply<T extends KubeObject = KubeObject>(obj: T, opts: ApplyOptions): Promise<T>;
  /** Delete; resolves false when there was nothing by that name (a revert can be repeated). */
  delete(ref: ObjectRef, opts: DeleteOptions): Promise<boolean>;

  /** Pods of one namespace (never cluster-wide: an empty namespace is k8s_invalid). */
  listPods(namespace: string, opts?: ListOptions): Promise<Pod[]>;
  getPod(namespace: string, name: string, opts?: CallOptions): Promise<Pod | undefined>;
  /**
   * The workload that controls a pod: Pod → ReplicaSet → Deployment, or the StatefulSet / DaemonSet / Job
   * (a Job's CronJob is not followed). Undefined for a bare pod or when the pod is gone.
   */
  podOwnerWorkload(namespace: string, podName: string, opts?: CallOptions): Promise<WorkloadRef | undefined>;
  listNetworkPolicies(namespace: string, opts?: CallOptions): Promise<NetworkPolicy[]>;
  /** The last lines of a pod's log (text). */
  podLogs(namespace: string, pod: string, opts?: PodLogOptions): Promise<string>;
  /** SelfSubjectAccessReview: may the bot's own identity do this? */
  canI(check: AccessCheck, opts?: CallOptions): Promise<boolean>;
}
