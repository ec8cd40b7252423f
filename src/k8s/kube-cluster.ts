// The Cluster interface over @kubernetes/client-node.
//
// Why raw JSON over the client's transport rather than its typed calls: KubernetesObjectApi.read/list
// deserialize into the generated models, which turn timestamps into Date objects and silently drop every
// field the models do not know (so an object read and written back is not the original), and its patch()
// derives the URL from the body, so it cannot send a JSON Patch (an array). So this module keeps the
// client's KubeConfig handling, authentication (tokens, exec plugins, client certs, in-cluster token
// rotation), TLS agent, middleware and HTTP library — through a KubernetesObjectApi's configuration — and
// sends and receives plain JSON. REST paths come from discovery (cached), like KubernetesObjectApi does.
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
import { type RequestInfo, RequestTimeout, toK8sError, transientReason } from './errors.js';
import { type KubeConfigSource, loadKubeConfig } from './kubeconfig.js';
import { defaultRetryPolicy, type RetryEvent, type RetryPolicy, withRetry } from './retry.js';
import {
  type KubeObject,
  type NetworkPolicy,
  type ObjectRef,
  type OwnerReference,
  type Pod,
  splitApiVersion,
  type WorkloadRef,
} from './types.js';

export interface KubeClusterOptions extends KubeConfigSource {
  /** Display name; defaults to the kubeconfig context (or `in-cluster`). */
  name?: string;
  /** Field manager for writes that do not name one. Default `egress-responder`. */
  fieldManager?: string;
  retry?: Partial<RetryPolicy>;
  /** How long discovery answers are trusted. Default 5 minutes. */
  discoveryTtlMs?: number;
  /** Called before each retry wait (log it; it carries no credentials). */
  onRetry?: (e: RetryEvent & { request: RequestInfo }) => void;
  /** Jitter source (tests). */
  random?: () => number;
}

interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: string;
  contentType?: string;
  accept?: string;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const PATCH_CONTENT_TYPE: Record<PatchStrategy, string> = {
  json: k8s.PatchStrategy.JsonPatch,
  merge: k8s.PatchStrategy.MergePatch,
  strategic: k8s.PatchStrategy.StrategicMergePatch,
};

/** client-node's request pipeline (auth, TLS agent, middleware, fetch), used for raw JSON requests. */
class Transport extends k8s.KubernetesObjectApi {
  async send(req: RawRequest, signal: AbortSignal): Promise<RawResponse> {
    const cfg = this.configuration;
    const ctx = cfg.baseServer.makeRequestContext(req.path, req.method as k8s.HttpMethod);
    ctx.setHeaderParam('Accept', req.accept ?? 'application/json');
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) ctx.setQueryParam(k, v);
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(req.body);
    }
    ctx.setSignal(signal);
    await cfg.authMethods.BearerToken?.applySecurityAuthentication(ctx);
    await cfg.authMethods.default?.applySecurityAuthentication(ctx);
    let prepared = ctx;
    for (const m of cfg.middleware) prepared = await m.pre(prepared).toPromise();
    let resp = await cfg.httpApi.send(prepared).toPromise();
    for (const m of cfg.middleware) resp = await m.post(resp).toPromise();
    const text = await resp.body.text();
    return { status: resp.httpStatusCode, headers: resp.headers as Record<string, string>, text };
  }
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

interface Resolved {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

class KubeCluster implements Cluster {
  readonly name: string;
  readonly #transport: Transport;
  readonly #policy: RetryPolicy;
  readonly #fieldManager: string;
  readonly #ttl: number;
  readonly #onRetry: KubeClusterOptions['onRetry'];
  readonly #random: () => number;
  readonly #discovery = new Map<string, { at: number; resources: ApiResource[] | null }>();

  constructor(opts: KubeClusterOptions) {
    const loaded = loadKubeConfig(opts);
    this.name = opts.name ?? loaded.context;
    this.#transport = loaded.kc.makeApiClient(Transport);
    this.#policy = { ...defaultRetryPolicy, ...opts.retry };
    this.#fieldManager = opts.fieldManager ?? 'egress-responder';
    this.#ttl = opts.discoveryTtlMs ?? 5 * 60_000;
    this.#onRetry = opts.onRetry;
    this.#random = opts.random ?? Math.random;
  }

  // ---- transport with retries and error mapping ----

  async #call(info: RequestInfo, req: RawRequest, signal?: AbortSignal): Promise<RawResponse> {
    let attempts = 0;
    try {
      return await withRetry(
        async (attempt) => {
          attempts = attempt;
          const timeout = AbortSignal.timeout(this.#policy.timeoutMs);
          const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
          let res: RawResponse;
          try {
            res = await this.#transport.send(req, sig);
          } catch (err) {
            if (!signal?.aborted && timeout.aborted) throw new RequestTimeout(this.#policy.timeoutMs);
            throw err;
          }
          if (res.status >= 200 && res.status < 300) return res;
          throw new k8s.ApiException(res.status, `HTTP ${res.status}`, res.text, res.headers);
        },
        {
          policy: this.#policy,
          classify: transientReason,
          random: this.#random,
          ...(signal ? { signal } : {}),
          onRetry: (e) => this.#onRetry?.({ ...e, request: info }),
        },
      );
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw toK8sError(err, info, attempts);
    }
  }

  async #json<T>(info: RequestInfo, req: RawRequest, signal?: AbortSignal): Promise<T> {
    const res = await this.#call(info, req, signal);
    try {
      return JSON.parse(res.text) as T;
    } catch (err) {
      throw new CodedError(
        'k8s_unavailable',
        `The Kubernetes API answered ${res.status} with a body that is not JSON`,
        {
          cause: err,
          details: { ...info },
        },
      );
    }
  }

  // ---- discovery ----

  async #resources(
    group: string,
    version: string,
    signal?: AbortSignal,
    fresh = false,
  ): Promise<ApiResource[] | null> {
    const gv = group === '' ? version : `${group}/${version}`;
    const cached = this.#discovery.get(gv);
    if (cached && !fresh && Date.now() - cached.at < this.#ttl) return cached.resources;
    const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    let resources: ApiResource[] | null;
    try {
      const list = await this.#json<{ resources?: ApiResource[] }>(
        { verb: 'get', group, resource: `discovery ${gv}` },
        { method: 'GET', path },
        signal,
      );
      resources = list.resources ?? [];
    } catch (err) {
      if ((err as { code?: string }).code !== 'k8s_not_found') throw err;
      resources = null;
    }
    this.#discovery.set(gv, { at: Date.now(), resources });
    return resources;
  }

  async serves(group: string, version: string, resource: string, opts: CallOptions = {}): Promise<boolean> {
    const resources = await this.#resources(group, version, opts.signal);
    return resources?.some((r) => r.name === resource) ?? false;
  }

  async #resolve(apiVersion: string, kind: string, signal?: AbortSignal): Promise<Resolved> {
    const { group, version } = splitApiVersion(apiVersion);
    const find = (rs: ApiResource[] | null) => rs?.find((r) => r.kind === kind && !r.name.includes('/'));
    let r = find(await this.#resources(group, version, signal));
    // A CRD installed since the last look: ask again once before giving up.
    if (!r) r = find(await this.#resources(group, version, signal, true));
    if (!r) throw notServed(kind, apiVersion);
    return { group, version, plural: r.name, namespaced: r.namespaced };
  }

  #path(res: Resolved, namespace: string | undefined, name?: string, subresource?: string): string {
    const parts = [res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`];
    if (res.namespaced && namespace) parts.push('namespaces', encodeURIComponent(namespace));
    parts.push(res.plural);
    if (name !== undefined) parts.push(encodeURIComponent(name));
    if (subresource) parts.push(subresource);
    return parts.join('/');
  }

  async #target(
    ref: { apiVersion: string; kind: string; namespace?: string | undefined; name?: string | undefined },
    verb: string,
    signal?: AbortSignal,
    subresource?: string,
  ): Promise<{ res: Resolved; info: RequestInfo; namespace: string | undefined }> {
    const res = await this.#resolve(ref.apiVersion, ref.kind, signal);
    const namespace = res.namespaced ? ref.namespace : undefined;
    const info: RequestInfo = {
      verb,
      group: res.group,
      resource: subresource ? `${res.plural}/${subresource}` : res.plural,
      ...(namespace ? { namespace } : {}),
      ...(ref.name ? { name: ref.name } : {}),
    };
    if (res.namespaced && !namespace && verb !== 'list') {
      throw new CodedError('k8s_invalid', `${ref.kind} is namespaced: say which namespace to ${verb} it in`, {
        details: { ...info },
      });
    }
    return { res, info, namespace };
  }

  // ---- generic objects ----

  async get<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    opts: CallOptions = {},
  ): Promise<T | undefined> {
    const { res, info, namespace } = await this.#target(ref, 'get', opts.signal);
    try {
      return await this.#json<T>(
        info,
        { method: 'GET', path: this.#path(res, namespace, ref.name) },
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
    const { res, info } = await this.#target({ apiVersion, kind, namespace }, 'list', opts.signal);
    const path = this.#path(res, res.namespaced ? namespace : undefined);
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.#json<{ items?: T[]; metadata?: { continue?: string } }>(
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
    const { res, info, namespace } = await this.#target(
      {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: obj.metadata?.namespace,
        name: obj.metadata?.name,
      },
      'create',
      opts.signal,
    );
    return this.#json<T>(
      info,
      {
        method: 'POST',
        path: this.#path(res, namespace),
        query: this.#writeQuery(opts),
        body: JSON.stringify(obj),
      },
      opts.signal,
    );
  }

  async replace<T extends KubeObject = KubeObject>(obj: T, opts: WriteOptions): Promise<T> {
    const name = requireName(obj);
    const { res, info, namespace } = await this.#target(
      { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name },
      'update',
      opts.signal,
    );
    return this.#json<T>(
      info,
      {
        method: 'PUT',
        path: this.#path(res, namespace, name),
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
    const { res, info, namespace } = await this.#target(ref, 'patch', opts.signal, opts.subresource);
    if ((strategy === 'json') !== Array.isArray(patch)) {
      throw new CodedError(
        'k8s_invalid',
        strategy === 'json'
          ? 'A JSON patch is an array of operations'
          : `A ${strategy} patch is an object, not an array`,
        { details: { ...info } },
      );
    }
    return this.#json<T>(
      info,
      {
        method: 'PATCH',
        path: this.#path(res, namespace, ref.name, opts.subresource),
        query: this.#writeQuery(opts),
        body: JSON.stringify(patch),
        contentType: PATCH_CONTENT_TYPE[strategy],
      },
      opts.signal,
    );
  }

  async apply<T extends KubeObject = KubeObject>(obj: T, opts: ApplyOptions): Promise<T> {
    const name = requireName(obj);
    const { res, info, namespace } = await this.#target(
      { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name },
      'patch',
      opts.signal,
    );
    return this.#json<T>(
      info,
      {
        method: 'PATCH',
        path: this.#path(res, namespace, name),
        // JSON is YAML: the apply content type takes either.
        query: this.#writeQuery(opts, { force: opts.force ? 'true' : undefined }),
        body: JSON.stringify(obj),
        contentType: k8s.PatchStrategy.ServerSideApply,
      },
      opts.signal,
    );
  }

  async delete(ref: ObjectRef, opts: DeleteOptions): Promise<boolean> {
    const { res, info, namespace } = await this.#target(ref, 'delete', opts.signal);
    const body = opts.preconditions
      ? JSON.stringify({ apiVersion: 'v1', kind: 'DeleteOptions', preconditions: opts.preconditions })
      : undefined;
    try {
      await this.#call(
        info,
        {
          method: 'DELETE',
          path: this.#path(res, namespace, ref.name),
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

  async podOwnerWorkload(
    namespace: string,
    podName: string,
    opts: CallOptions = {},
  ): Promise<WorkloadRef | undefined> {
    const pod = await this.getPod(namespace, podName, opts);
    if (!pod) return undefined;
    const owner = controllerOf(pod.metadata.ownerReferences);
    if (!owner) return undefined;
    if (owner.kind === 'ReplicaSet' && splitApiVersion(owner.apiVersion).group === 'apps') {
      const rs = await this.get(
        { apiVersion: owner.apiVersion, kind: 'ReplicaSet', namespace, name: owner.name },
        opts,
      );
      const rsOwner = controllerOf(rs?.metadata.ownerReferences);
      // A ReplicaSet without a controller (or already gone) is the workload itself.
      if (rsOwner) return workloadRef(rsOwner, namespace);
    }
    return workloadRef(owner, namespace);
  }

  listNetworkPolicies(namespace: string, opts: CallOptions = {}): Promise<NetworkPolicy[]> {
    return this.list<NetworkPolicy>('networking.k8s.io/v1', 'NetworkPolicy', namespace, opts);
  }

  async podLogs(namespace: string, pod: string, opts: PodLogOptions = {}): Promise<string> {
    const info: RequestInfo = { verb: 'get', group: '', resource: 'pods/log', namespace, name: pod };
    const res = await this.#call(
      info,
      {
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`,
        query: {
          tailLines: opts.tailLines === undefined ? undefined : String(opts.tailLines),
          container: opts.container,
        },
        accept: 'text/plain, */*',
      },
      opts.signal,
    );
    return res.text;
  }

  async canI(check: AccessCheck, opts: CallOptions = {}): Promise<boolean> {
    const review = await this.#json<{ status?: { allowed?: boolean } }>(
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

function notServed(kind: string, apiVersion: string): CodedError {
  return new CodedError(
    'k8s_not_found',
    `The cluster does not serve ${kind} (${apiVersion}): is that API installed?`,
    { details: { reason: 'KindNotServed', apiVersion, kind } },
  );
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

/** Build a Cluster from a kubeconfig / in-cluster config (see kubeconfig.ts for the precedence). */
export function createKubeCluster(opts: KubeClusterOptions = {}): Cluster {
  return new KubeCluster(opts);
}
