import type { CallOptions, Cluster, ListOptions } from '../k8s/cluster.js';
import type { KubeObject, ObjectRef } from '../k8s/types.js';

// One pass of a step reads the same things several times: every action's plan lists the workload's
// pods or the namespace's NetworkPolicies, and the first write's own check reads again what the
// plans read a few milliseconds before. At a few milliseconds per API request, in sequence, that is
// most of what containment waits for beyond the writes. So within one pass (never across passes: a
// click later, a drift check reads afresh) a read is shared while it is in flight and, once answered,
// for SHARE_MS after it was sent — until a write of the same kind goes through, which starts the kind
// afresh (a read that began before the write ended is never reused after it).
//
// What this does not see: writes by anyone else, and what a controller does after our write (pods a
// ReplicaSet replaces). Neither is in a read made right after our write either; code that waits for
// them polls, and its polls are further apart than SHARE_MS. A write judged on a shared read carries
// the read's resourceVersion, so a pod changed in between is a 409 that reads it again, never a
// silent overwrite (k8s.quarantine's label patch). Each reader gets its own copy of the answer (readers
// sort and change what they read).

/** How long an answered read is reused within the pass, from when it was sent. */
export const SHARE_MS = 250;

interface Entry {
  kind: string;
  generation: number;
  sentAt: number;
  signal: AbortSignal | undefined;
  value: Promise<unknown>;
}

export interface SharedReads {
  /** `cluster` with its pod, NetworkPolicy and object reads shared through this pass's entries. */
  over(cluster: Cluster): Cluster;
}

const POD = 'v1/Pod';
const NETPOL = 'networking.k8s.io/v1/NetworkPolicy';
const kindOf = (o: { apiVersion: string; kind: string }) => `${o.apiVersion}/${o.kind}`;
const listKey = (kind: string, namespace: string | undefined, opts: ListOptions | undefined) =>
  `list ${kind} ${namespace ?? '*'} ${opts?.labelSelector ?? ''} ${opts?.fieldSelector ?? ''}`;

// listNetworkPolicies answers typed policies, list() any object: each keeps its own entries.
const netpolsKey = (namespace: string) => `netpols ${namespace}`;

export function sharedReads(now: () => number = () => performance.now(), shareMs = SHARE_MS): SharedReads {
  const entries = new Map<string, Entry>();
  const generations = new Map<string, number>();
  const generation = (kind: string) => generations.get(kind) ?? 0;
  const bump = (kind: string) => generations.set(kind, generation(kind) + 1);

  const live = (key: string): Entry | undefined => {
    const e = entries.get(key);
    if (e && e.generation === generation(e.kind) && now() - e.sentAt <= shareMs) return e;
    if (e) entries.delete(key);
    return undefined;
  };

  async function shared<T>(key: string, kind: string, opts: CallOptions | undefined, read: () => Promise<T>) {
    const hit = live(key);
    if (hit) {
      try {
        return structuredClone(await hit.value) as T;
      } catch (err) {
        // Aborted by the action that sent it (its own time ran out): this one still has time.
        if (hit.signal?.aborted && !opts?.signal?.aborted) return read();
        throw err;
      }
    }
    const answer = read();
    const entry: Entry = {
      kind,
      generation: generation(kind),
      sentAt: now(),
      signal: opts?.signal,
      // Kept as it came, before this reader can change it.
      value: answer.then((v) => structuredClone(v)),
    };
    entries.set(key, entry);
    // A failed read is not kept: the next one asks the API server again.
    entry.value.catch(() => entries.get(key) === entry && entries.delete(key));
    return answer;
  }

  /** A write starts its kind afresh when it is sent and again when it is answered. */
  async function writing<T>(kind: string, write: () => Promise<T>): Promise<T> {
    bump(kind);
    try {
      return await write();
    } finally {
      bump(kind);
    }
  }

  return {
    over(c) {
      /** A list of every object of `ref`'s kind in its namespace that this pass already has. */
      const wholeNamespace = (ref: ObjectRef, ns: string, opts?: CallOptions) => {
        const kind = kindOf(ref);
        if (kind === NETPOL && live(netpolsKey(ns)))
          return shared(netpolsKey(ns), NETPOL, opts, () => c.listNetworkPolicies(ns, opts));
        const key = listKey(kind, ns, undefined);
        return live(key)
          ? shared(key, kind, opts, () => c.list(ref.apiVersion, ref.kind, ns, opts))
          : undefined;
      };
      const getShared = async <T extends KubeObject>(ref: ObjectRef, opts?: CallOptions) => {
        // Answered from such a list (a plan's list of every policy): one snapshot, so an object
        // absent from it was absent then.
        const whole = ref.namespace === undefined ? undefined : wholeNamespace(ref, ref.namespace, opts);
        if (whole) {
          const items = (await whole) as readonly KubeObject[];
          return items.find((o) => o.metadata?.name === ref.name) as T | undefined;
        }
        const kind = kindOf(ref);
        return shared(`get ${kind} ${ref.namespace ?? '*'} ${ref.name}`, kind, opts, () =>
          c.get<T>(ref, opts),
        );
      };
      return {
        get name() {
          return c.name;
        },
        serves: (group, version, resource, opts) => c.serves(group, version, resource, opts),
        get: getShared,
        list: (apiVersion, kind, namespace, opts) =>
          shared(listKey(`${apiVersion}/${kind}`, namespace, opts), `${apiVersion}/${kind}`, opts, () =>
            c.list(apiVersion, kind, namespace, opts),
          ),
        listPods: (namespace, opts) =>
          shared(listKey(POD, namespace, opts), POD, opts, () => c.listPods(namespace, opts)),
        getPod: (namespace, name, opts) =>
          shared(`getPod ${namespace} ${name}`, POD, opts, () => c.getPod(namespace, name, opts)),
        podOwnerWorkload: (namespace, pod, opts) => c.podOwnerWorkload(namespace, pod, opts),
        listNetworkPolicies: (namespace, opts) =>
          shared(netpolsKey(namespace), NETPOL, opts, () => c.listNetworkPolicies(namespace, opts)),
        podLogs: (namespace, pod, opts) => c.podLogs(namespace, pod, opts),
        canI: (check, opts) => c.canI(check, opts),
        create: (obj, opts) => writing(kindOf(obj), () => c.create(obj, opts)),
        replace: (obj, opts) => writing(kindOf(obj), () => c.replace(obj, opts)),
        patch: (ref, patch, strategy, opts) =>
          writing(kindOf(ref), () => c.patch(ref, patch, strategy, opts)),
        apply: (obj, opts) => writing(kindOf(obj), () => c.apply(obj, opts)),
        delete: (ref, opts) => writing(kindOf(ref), () => c.delete(ref, opts)),
      };
    },
  };
}

/** The passes of steps under way in one process, by incident and step (one at a time per incident: its lock). */
export class PassReads {
  readonly #open = new Map<string, SharedReads>();

  /** A pass begins; until the returned function is called, its actions share their reads. */
  begin(incidentId: string, stepId: string): () => void {
    const key = `${incidentId}\n${stepId}`;
    const reads = sharedReads();
    this.#open.set(key, reads);
    return () => {
      if (this.#open.get(key) === reads) this.#open.delete(key);
    };
  }

  of(incidentId: string, stepId: string): SharedReads | undefined {
    return this.#open.get(`${incidentId}\n${stepId}`);
  }
}
