// Where a kind lives in the REST API, from discovery (cached), like KubernetesObjectApi does: the
// group, version and plural of a kind, whether it is namespaced, and the path of one object or list.
import { CodedError } from '../domain/errors.js';
import type { RequestInfo } from './errors.js';
import type { KubeRequests } from './kube-requests.js';
import { splitApiVersion } from './types.js';

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** A kind as the API serves it. */
export interface ResolvedKind {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

/** What a request about one object (or list) needs: its kind resolved, how to name it in errors, its namespace. */
export interface Target {
  res: ResolvedKind;
  info: RequestInfo;
  /** Undefined for cluster-scoped kinds, whatever the caller passed. */
  namespace: string | undefined;
}

export class Discovery {
  readonly #requests: KubeRequests;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { at: number; resources: ApiResource[] | null }>();

  /** Answers are trusted for `ttlMs`. */
  constructor(requests: KubeRequests, ttlMs: number) {
    this.#requests = requests;
    this.#ttlMs = ttlMs;
  }

  /** The resources of one group version; null when the API does not serve it. */
  async #resources(
    group: string,
    version: string,
    signal?: AbortSignal,
    fresh = false,
  ): Promise<ApiResource[] | null> {
    const gv = group === '' ? version : `${group}/${version}`;
    const cached = this.#cache.get(gv);
    if (cached && !fresh && Date.now() - cached.at < this.#ttlMs) return cached.resources;
    const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    let resources: ApiResource[] | null;
    try {
      const list = await this.#requests.json<{ resources?: ApiResource[] }>(
        { verb: 'get', group, resource: `discovery ${gv}` },
        { method: 'GET', path },
        signal,
      );
      resources = list.resources ?? [];
    } catch (err) {
      if ((err as { code?: string }).code !== 'k8s_not_found') throw err;
      resources = null;
    }
    this.#cache.set(gv, { at: Date.now(), resources });
    return resources;
  }

  async serves(group: string, version: string, resource: string, signal?: AbortSignal): Promise<boolean> {
    const resources = await this.#resources(group, version, signal);
    return resources?.some((r) => r.name === resource) ?? false;
  }

  async #resolve(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ResolvedKind> {
    const { group, version } = splitApiVersion(apiVersion);
    const find = (rs: ApiResource[] | null) => rs?.find((r) => r.kind === kind && !r.name.includes('/'));
    let r = find(await this.#resources(group, version, signal));
    // A CRD installed since the last look: ask again once before giving up.
    if (!r) r = find(await this.#resources(group, version, signal, true));
    if (!r) throw notServed(kind, apiVersion);
    return { group, version, plural: r.name, namespaced: r.namespaced };
  }

  /** Resolve `ref`'s kind; a namespaced kind without a namespace is refused for every verb but list. */
  async target(
    ref: { apiVersion: string; kind: string; namespace?: string | undefined; name?: string | undefined },
    verb: string,
    signal?: AbortSignal,
    subresource?: string,
  ): Promise<Target> {
    const res = await this.#resolve(ref.apiVersion, ref.kind, signal);
    const namespace = res.namespaced ? ref.namespace : undefined;
    const info: RequestInfo = {
      verb,
      group: res.group,
      resource: subresource ? `${res.plural}/${subresource}` : res.plural,
      ...(namespace ? { namespace } : {}),
      ...(ref.name ? { name: ref.name } : {}),
    };
    if (res.namespaced && !namespace && verb !== 'list') throw namespaceRequired(ref.kind, verb, info);
    return { res, info, namespace };
  }
}

/** `/apis/<group>/<version>[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]`. */
export function resourcePath(
  res: ResolvedKind,
  namespace: string | undefined,
  name?: string,
  subresource?: string,
): string {
  const parts = [res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`];
  if (res.namespaced && namespace) parts.push('namespaces', encodeURIComponent(namespace));
  parts.push(res.plural);
  if (name !== undefined) parts.push(encodeURIComponent(name));
  if (subresource) parts.push(subresource);
  return parts.join('/');
}

/** A namespaced kind asked for with no namespace (any verb but list). */
export function namespaceRequired(kind: string, verb: string, info: RequestInfo): CodedError {
  return new CodedError('k8s_invalid', `${kind} is namespaced: say which namespace to ${verb} it in`, {
    details: { ...info },
  });
}

/** A kind the API server does not serve (the snapshot cluster says it in the same words). */
export function notServed(kind: string, apiVersion: string): CodedError {
  return new CodedError(
    'k8s_not_found',
    `The cluster does not serve ${kind} (${apiVersion}): is that API installed?`,
    { details: { reason: 'KindNotServed', apiVersion, kind } },
  );
}
