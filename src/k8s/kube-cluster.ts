// The Cluster interface over @kubernetes/client-node: each method is one raw JSON request (see
// kube-requests.ts for why not the client's typed calls) to the path discovery gives its kind.
import * as k8s from '@kubernetes/client-node';
import { CodedError } from '../domain/errors.js';
import type {
  AccessCheck,
  ApplyOptions,
  CallOptions,
  Cluster,
  DeleteOptions,
  JsonPatchOp,
  ListOptions,
  PatchOptions,
  PatchStrategy,
  PodLogOptions,
  WriteOptions,
} from './cluster.js';
import { Discovery, resourcePath } from './discovery.js';
import type { RequestInfo } from './errors.js';
import { KubeRequests, type OnRetry } from './kube-requests.js';
import { type KubeConfigSource, loadKubeConfig } from './kubeconfig.js';
import { ownerWorkload } from './owner-workload.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';
import type { KubeObject, NetworkPolicy, ObjectRef, Pod, WorkloadRef } from './types.js';

export interface KubeClusterOptions extends KubeConfigSource {
  /** Display name; defaults to the kubeconfig context (or `in-cluster`). */
  name?: string;
  /** Field manager for writes that do not name one. Default `egress-responder`. */
  fieldManager?: string;
  retry?: Partial<RetryPolicy>;
  /** How long discovery answers are trusted. Default 5 minutes. */
  discoveryTtlMs?: number;
  /** Called before each retry wait (log it; it carries no credentials). */
  onRetry?: OnRetry;
  /** Jitter source (tests). */
  random?: () => number;
}

const PATCH_CONTENT_TYPE: Record<PatchStrategy, string> = {
  json: k8s.PatchStrategy.JsonPatch,
  merge: k8s.PatchStrategy.MergePatch,
  strategic: k8s.PatchStrategy.StrategicMergePatch,
};

class KubeCluster implements Cluster {
  readonly name: string;
  readonly #requests: KubeRequests;
  readonly #discovery: Discovery;
  readonly #fieldManager: string;

  constructor(opts: KubeClusterOptions) {
    const loaded = loadKubeConfig(opts);
    this.name = opts.name ?? loaded.context;
    this.#requests = new KubeRequests(loaded.kc, {
      policy: { ...defaultRetryPolicy, ...opts.retry },
      onRetry: opts.onRetry,
      random: opts.random ?? Math.random,
    });
    this.#discovery = new Discovery(this.#requests, opts.discoveryTtlMs ?? 5 * 60_000);
    this.#fieldManager = opts.fieldManager ?? 'egress-responder';
  }

  serves(group: string, version: string, resource: string, opts: CallOptions = {}): Promise<boolean> {
    return this.#discovery.serves(group, version, resource, opts.signal);
  }

  // ---- generic objects ----

  async get<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    opts: CallOptions = {},
  ): Promise<T | undefined> {
    const { res, info, namespace } = await this.#discovery.target(ref, 'get', opts.signal);
    try {
      return await this.#requests.json<T>(
        info,
        { method: 'GET', path: resourcePath(res, namespace, ref.name) },
        opts.signal,
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'k8s_not_found') return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    opts: ListOptions = {},
  ): Promise<T[]> {
    if (namespace === '') {
      // An empty namespace would silently mean "all namespaces": too easy to quarantine the whole cluster.
      throw new CodedError(
        'k8s_invalid',
        `Listing ${kind}: namespace is empty (pass no namespace to list cluster-wide)`,
        {
          details: { apiVersion, kind },
        },
      );
    }
    const { res, info } = await this.#discovery.target({ apiVersion, kind, namespace }, 'list', opts.signal);
    const path = resourcePath(res, res.namespaced ? namespace : undefined);
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.#requests.json<{ items?: T[]; metadata?: { continue?: string } }>(
        info,
        {
          method: 'GET',
          path,
          query: {
            labelSelector: opts.labelSelector,
            fieldSelector: opts.fieldSelector,
            limit: '500',
            continue: cont,
          },
        },
        opts.signal,
      );
      for (const item of page.items ?? []) {
        // Lists of built-in kinds omit apiVersion/kind on items; put them back so items stand alone.
        items.push({ ...item, apiVersion: item.apiVersion ?? apiVersion, kind: item.kind ?? kind });
      }
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }

  #writeQuery(
    opts: WriteOptions,
    extra: Record<string, string | undefined> = {},
  ): Record<string, string | undefined> {
    return {
      dryRun: opts.dryRun ? 'All' : undefined,
      fieldManager: opts.fieldManager ?? this.#fieldManager,
      ...extra,
    };
  }

  async create<T extends KubeObject = KubeObject>(obj: T, opts: WriteOptions): Promise<T> {
    const { res, info, namespace } = await this.#discovery.target(
      {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: obj.metadata?.namespace,
        name: obj.metadata?.name,
      },
      'create',
      opts.signal,
    );
    return this.#requests.json<T>(
      info,
      {
        method: 'POST',
        path: resourcePath(res, namespace),
        query: this.#writeQuery(opts),
        body: JSON.stringify(obj),
      },
      opts.signal,
    );
  }

  async replace<T extends KubeObject = KubeObject>(obj: T, opts: WriteOptions): Promise<T> {
    const name = requireName(obj);
    const { res, info, namespace } = await this.#discovery.target(
      { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name },
      'update',
      opts.signal,
    );
    return this.#requests.json<T>(
      info,
      {
        method: 'PUT',
        path: resourcePath(res, namespace, name),
        query: this.#writeQuery(opts),
        body: JSON.stringify(obj),
      },
      opts.signal,
    );
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: Record<string, unknown> | JsonPatchOp[],
    strategy: PatchStrategy,
    opts: PatchOptions,
  ): Promise<T> {
    const { res, info, namespace } = await this.#discovery.target(
      ref,
      'patch',
      opts.signal,
      opts.subresource,
    );
    if ((strategy === 'json') !== Array.isArray(patch)) {
      throw new CodedError(
        'k8s_invalid',
        strategy === 'json'
          ? 'A JSON patch is an array of operations'
          : `A ${strategy} patch is an object, not an array`,
        { details: { ...info } },
      );
    }
    return this.#requests.json<T>(
      info,
      {
        method: 'PATCH',
        path: resourcePath(res, namespace, ref.name, opts.subresource),
        query: this.#writeQuery(opts),
        body: JSON.stringify(patch),
        contentType: PATCH_CONTENT_TYPE[strategy],
      },
      opts.signal,
    );
  }

  async apply<T extends KubeObject = KubeObject>(obj: T, opts: ApplyOptions): Promise<T> {
    const name = requireName(obj);
    const { res, info, namespace } = await this.#discovery.target(
      { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name },
      'patch',
      opts.signal,
    );
    return this.#requests.json<T>(
      info,
      {
        method: 'PATCH',
        path: resourcePath(res, namespace, name),
        // JSON is YAML: the apply content type takes either.
        query: this.#writeQuery(opts, { force: opts.force ? 'true' : undefined }),
        body: JSON.stringify(obj),
        contentType: k8s.PatchStrategy.ServerSideApply,
      },
      opts.signal,
    );
  }

  async delete(ref: ObjectRef, opts: DeleteOptions): Promise<boolean> {
    const { res, info, namespace } = await this.#discovery.target(ref, 'delete', opts.signal);
    const body = opts.preconditions
      ? JSON.stringify({ apiVersion: 'v1', kind: 'DeleteOptions', preconditions: opts.preconditions })
      : undefined;
    try {
      await this.#requests.call(
        info,
        {
          method: 'DELETE',
          path: resourcePath(res, namespace, ref.name),
          query: {
            dryRun: opts.dryRun ? 'All' : undefined,
            propagationPolicy: opts.propagationPolicy,
            gracePeriodSeconds:
              opts.gracePeriodSeconds === undefined ? undefined : String(opts.gracePeriodSeconds),
          },
          ...(body ? { body } : {}),
        },
        opts.signal,
      );
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'k8s_not_found') return false;
      throw err;
    }
  }

  // ---- pods, workloads, policies ----

  listPods(namespace: string, opts: ListOptions = {}): Promise<Pod[]> {
    return this.list<Pod>('v1', 'Pod', namespace, opts);
  }

  getPod(namespace: string, name: string, opts: CallOptions = {}): Promise<Pod | undefined> {
    return this.get<Pod>({ apiVersion: 'v1', kind: 'Pod', namespace, name }, opts);
  }

  podOwnerWorkload(
    namespace: string,
    podName: string,
    opts: CallOptions = {},
  ): Promise<WorkloadRef | undefined> {
    return ownerWorkload(this, namespace, podName, opts);
  }

  listNetworkPolicies(namespace: string, opts: CallOptions = {}): Promise<NetworkPolicy[]> {
    return this.list<NetworkPolicy>('networking.k8s.io/v1', 'NetworkPolicy', namespace, opts);
  }

  async podLogs(namespace: string, pod: string, opts: PodLogOptions = {}): Promise<string> {
    const info: RequestInfo = { verb: 'get', group: '', resource: 'pods/log', namespace, name: pod };
    const res = await this.#requests.call(
      info,
      {
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`,
        query: {
          tailLines: opts.tailLines === undefined ? undefined : String(opts.tailLines),
          container: opts.container,
          previous: opts.previous ? 'true' : undefined,
        },
        accept: 'text/plain, */*',
      },
      opts.signal,
    );
    return res.text;
  }

  async canI(check: AccessCheck, opts: CallOptions = {}): Promise<boolean> {
    const review = await this.#requests.json<{ status?: { allowed?: boolean } }>(
      { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' },
      {
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        body: JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: check.verb,
              group: check.group,
              resource: check.resource,
              ...(check.namespace ? { namespace: check.namespace } : {}),
              ...(check.subresource ? { subresource: check.subresource } : {}),
              ...(check.name ? { name: check.name } : {}),
            },
          },
        }),
      },
      opts.signal,
    );
    return review.status?.allowed === true;
  }
}

function requireName(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) {
    throw new CodedError('k8s_invalid', `${obj.kind} needs metadata.name`, {
      details: { apiVersion: obj.apiVersion, kind: obj.kind },
    });
  }
  return name;
}

/** Build a Cluster from a kubeconfig / in-cluster config (see kubeconfig.ts for the precedence). */
export function createKubeCluster(opts: KubeClusterOptions = {}): Cluster {
  return new KubeCluster(opts);
}
