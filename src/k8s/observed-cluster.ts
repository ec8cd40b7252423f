import { asCodedError } from '../domain/errors.js';
import type { Cluster } from './cluster.js';

// Every Kubernetes call that fails (after the client's own retries) is reported once, by verb and
// error code, to whoever counts them (the metrics); the error itself goes on to the caller unchanged.

export type ClusterErrorSink = (verb: string, code: string) => void;

/** The RBAC verb of each Cluster method, for calls whose error does not name one. */
const verbs: Record<Exclude<keyof Cluster, 'name'>, string> = {
  serves: 'get',
  get: 'get',
  list: 'list',
  create: 'create',
  replace: 'update',
  patch: 'patch',
  apply: 'patch',
  delete: 'delete',
  listPods: 'list',
  getPod: 'get',
  podOwnerWorkload: 'get',
  listNetworkPolicies: 'list',
  podLogs: 'get',
  canI: 'create',
};

export function observedCluster(cluster: Cluster, onError: ClusterErrorSink): Cluster {
  const wrap =
    <A extends unknown[], R>(method: keyof typeof verbs, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        const coded = asCodedError(err);
        const verb = typeof coded.details.verb === 'string' ? coded.details.verb : verbs[method];
        onError(verb, coded.code);
        throw err;
      }
    };
  const c = cluster;
  return {
    get name() {
      return c.name;
    },
    serves: wrap('serves', c.serves.bind(c)),
    get: wrap('get', c.get.bind(c)) as Cluster['get'],
    list: wrap('list', c.list.bind(c)) as Cluster['list'],
    create: wrap('create', c.create.bind(c)) as Cluster['create'],
    replace: wrap('replace', c.replace.bind(c)) as Cluster['replace'],
    patch: wrap('patch', c.patch.bind(c)) as Cluster['patch'],
    apply: wrap('apply', c.apply.bind(c)) as Cluster['apply'],
    delete: wrap('delete', c.delete.bind(c)),
    listPods: wrap('listPods', c.listPods.bind(c)),
    getPod: wrap('getPod', c.getPod.bind(c)),
    podOwnerWorkload: wrap('podOwnerWorkload', c.podOwnerWorkload.bind(c)),
    listNetworkPolicies: wrap('listNetworkPolicies', c.listNetworkPolicies.bind(c)),
    podLogs: wrap('podLogs', c.podLogs.bind(c)),
    canI: wrap('canI', c.canI.bind(c)),
  };
}
