import type { Cluster } from './cluster.js';
import { statusError } from './status-errors.js';
import type { KubeObject, ObjectRef } from './types.js';

// A drill scenario's injected complications, over any Cluster: RBAC denials on chosen verbs and
// resources (answered exactly as the API server's 403 is: the same CodedError, message and fix), and
// a slow API (every call waits first). Lets a facilitator rehearse "the bot cannot patch pods in
// prod" without changing anyone's RBAC.

export interface InjectedDenial {
  verb: string;
  /** Plural resource, e.g. `pods`, `networkpolicies`. */
  resource: string;
  /** Absent: every namespace. */
  namespace?: string;
}

export interface Complications {
  denials: readonly InjectedDenial[];
  /** Added before every call. */
  latencyMs: number;
}

/** The bot's identity as drills name it in a denial. */
const DRILL_USER = 'system:serviceaccount:egress-responder:egress-responder';

/** `NetworkPolicy` → `networkpolicies` (the plural the RBAC rules name). */
export function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (k.endsWith('y')) return `${k.slice(0, -1)}ies`;
  if (k.endsWith('s')) return `${k}es`;
  return `${k}s`;
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

export function withComplications(cluster: Cluster, c: Complications): Cluster {
  const wait = () => (c.latencyMs > 0 ? new Promise((r) => setTimeout(r, c.latencyMs)) : Promise.resolve());
  const check = (verb: string, group: string, resource: string, namespace?: string, name?: string) => {
    const hit = c.denials.find(
      (d) =>
        d.verb === verb &&
        d.resource === resource &&
        (d.namespace === undefined || d.namespace === namespace),
    );
    if (!hit) return;
    const scope = namespace === undefined ? ' at the cluster scope' : ` in the namespace "${namespace}"`;
    throw statusError(
      403,
      {
        reason: 'Forbidden',
        code: 403,
        message: `${resource}${name ? ` "${name}"` : ''} is forbidden: User "${DRILL_USER}" cannot ${verb} resource "${resource}" in API group "${group}"${scope}`,
      },
      { verb, group, resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) },
    );
  };
  const onRef = async (verb: string, ref: Pick<ObjectRef, 'apiVersion' | 'kind' | 'namespace' | 'name'>) => {
    await wait();
    check(verb, groupOf(ref.apiVersion), pluralOf(ref.kind), ref.namespace, ref.name);
  };
  const onObj = (verb: string, obj: KubeObject) =>
    onRef(verb, {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      name: obj.metadata.name ?? '',
    });
  const pods = async (verb: string, namespace: string, name?: string) => {
    await wait();
    check(verb, '', 'pods', namespace, name);
  };
  return {
    get name() {
      return cluster.name;
    },
    serves: async (g, v, r, o) => {
      await wait();
      return cluster.serves(g, v, r, o);
    },
    get: async (ref, o) => {
      await onRef('get', ref);
      return cluster.get(ref, o);
    },
    list: async (apiVersion, kind, namespace, o) => {
      await wait();
      check('list', groupOf(apiVersion), pluralOf(kind), namespace);
      return cluster.list(apiVersion, kind, namespace, o);
    },
    create: async (obj, o) => {
      await onObj('create', obj);
      return cluster.create(obj, o);
    },
    replace: async (obj, o) => {
      await onObj('update', obj);
      return cluster.replace(obj, o);
    },
    patch: async (ref, p, s, o) => {
      await onRef('patch', ref);
      return cluster.patch(ref, p, s, o);
    },
    apply: async (obj, o) => {
      await onObj('patch', obj);
      return cluster.apply(obj, o);
    },
    delete: async (ref, o) => {
      await onRef('delete', ref);
      return cluster.delete(ref, o);
    },
    listPods: async (ns, o) => {
      await pods('list', ns);
      return cluster.listPods(ns, o);
    },
    getPod: async (ns, name, o) => {
      await pods('get', ns, name);
      return cluster.getPod(ns, name, o);
    },
    podOwnerWorkload: async (ns, pod, o) => {
      await wait();
      return cluster.podOwnerWorkload(ns, pod, o);
    },
    listNetworkPolicies: async (ns, o) => {
      await wait();
      check('list', 'networking.k8s.io', 'networkpolicies', ns);
      return cluster.listNetworkPolicies(ns, o);
    },
    podLogs: async (ns, pod, o) => {
      await wait();
      check('get', '', 'pods/log', ns, pod);
      return cluster.podLogs(ns, pod, o);
    },
    canI: async (a, o) => {
      await wait();
      const denied = c.denials.some(
        (d) =>
          d.verb === a.verb &&
          d.resource === a.resource &&
          (d.namespace === undefined || d.namespace === a.namespace),
      );
      return denied ? false : cluster.canI(a, o);
    },
  };
}
