// The Cluster interface over a snapshot (snapshot-file.ts) held in memory: reads answer from the
// snapshot, writes change only the in-memory copy, and a dry run validates and answers what would be
// stored without storing it. It says yes to every access check (a snapshot has no RBAC), has no
// controllers (a deleted pod is not replaced) and no logs. Failures are the CodedErrors KubeCluster
// gives for the same answer from a real API server (status-errors.ts), so actions cannot tell them apart.
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
import { namespaceRequired, notServed } from './discovery.js';
import { ownerWorkload } from './owner-workload.js';
import {
  applyJsonPatch,
  applyMergePatch,
  applyServerSide,
  applyStrategicMergePatch,
  isMap,
  type Json,
  type JsonMap,
  PatchError,
} from './patches.js';
import { matchesLabelSelector, parseLabelSelector } from './selectors.js';
import type { Snapshot } from './snapshot-file.js';
import { fieldsOf, kindByResource, type SnapshotKind, snapshotKind } from './snapshot-kinds.js';
import { ApiFailure, badRequest, SnapshotStore } from './snapshot-store.js';
import { type RequestInfo, statusError } from './status-errors.js';
import type { KubeObject, NetworkPolicy, ObjectRef, Pod, WorkloadRef } from './types.js';

export interface SnapshotClusterOptions {
  /** Display name; defaults to `snapshot <source>`. */
  name?: string;
  /** Clock for creationTimestamp and deletionTimestamp. */
  now?: () => Date;
}

interface Target {
  kind: SnapshotKind;
  info: RequestInfo;
  namespace: string | undefined;
  /** The apiVersion the caller asked in: objects are answered in it. */
  apiVersion: string;
}

const STRATEGIC_REFUSED =
  'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml';

class SnapshotCluster implements Cluster {
  readonly name: string;
  readonly #source: string;
  readonly #store: SnapshotStore;
  /** Groups of custom kinds the snapshot holds objects of: those are served, the other CRDs are not. */
  readonly #customGroups: Set<string>;

  constructor(snapshot: Snapshot, opts: SnapshotClusterOptions) {
    this.#source = snapshot.source;
    this.name = opts.name ?? `snapshot ${snapshot.source}`;
    const objects = snapshot.objects.map((obj) => {
      const kind = snapshotKind(obj.apiVersion, obj.kind);
      if (!kind)
        throw new CodedError(
          'k8s_invalid',
          `${snapshot.source}: ${obj.apiVersion} ${obj.kind} is not a kind a snapshot holds`,
        );
      return { kind, obj };
    });
    this.#customGroups = new Set(objects.filter((o) => !o.kind.builtin).map((o) => o.kind.group));
    this.#store = new SnapshotStore(objects, opts.now ?? (() => new Date()));
  }

  #served(k: SnapshotKind | undefined): k is SnapshotKind {
    return k !== undefined && (k.builtin || this.#customGroups.has(k.group));
  }

  #target(
    ref: { apiVersion: string; kind: string; namespace?: string | undefined; name?: string | undefined },
    verb: string,
    opts: CallOptions,
    subresource?: string,
  ): Target {
    opts.signal?.throwIfAborted();
    const kind = snapshotKind(ref.apiVersion, ref.kind);
    if (!this.#served(kind)) throw notServed(ref.kind, ref.apiVersion);
    const namespace = kind.namespaced ? ref.namespace || undefined : undefined;
    const info: RequestInfo = {
      verb,
      group: kind.group,
      resource: subresource ? `${kind.plural}/${subresource}` : kind.plural,
      ...(namespace ? { namespace } : {}),
      ...(ref.name ? { name: ref.name } : {}),
    };
    if (kind.namespaced && !namespace && verb !== 'list') throw namespaceRequired(ref.kind, verb, info);
    return { kind, info, namespace, apiVersion: ref.apiVersion };
  }

  /** Run `fn` as the API server would answer `t`'s request: its failures become CodedErrors. */
  #answer<R>(t: Target, fn: () => R): R {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ApiFailure) throw statusError(err.status, err.body, t.info, 1, err);
      if (err instanceof PatchError) {
        throw statusError(
          err.status,
          { message: err.message, reason: err.status === 422 ? 'Invalid' : 'BadRequest', code: err.status },
          t.info,
          1,
          err,
        );
      }
      throw err;
    }
  }

  #out<T extends KubeObject>(t: Target, obj: KubeObject): T {
    return { ...obj, apiVersion: t.apiVersion, kind: t.kind.kind } as T;
  }

  async serves(group: string, version: string, resource: string, opts: CallOptions = {}): Promise<boolean> {
    opts.signal?.throwIfAborted();
    const [plural = '', sub] = resource.split('/');
    const kind = kindByResource(group, version, plural);
    if (!this.#served(kind)) return false;
    return (
      sub === undefined ||
      (sub === 'status' && kind.status === true) ||
      (sub === 'log' && kind.kind === 'Pod')
    );
  }

  async get<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    opts: CallOptions = {},
  ): Promise<T | undefined> {
    const t = this.#target(ref, 'get', opts);
    const obj = this.#store.get(t.kind, t.namespace, ref.name);
    return obj ? this.#out<T>(t, obj) : undefined;
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    opts: ListOptions = {},
  ): Promise<T[]> {
    if (namespace === '') {
      throw new CodedError(
        'k8s_invalid',
        `Listing ${kind}: namespace is empty (pass no namespace to list cluster-wide)`,
        {
          details: { apiVersion, kind },
        },
      );
    }
    const t = this.#target({ apiVersion, kind, namespace }, 'list', opts);
    return this.#answer(t, () => {
      const labels = parseSelector(opts.labelSelector ?? '');
      const fields = parseFieldSelector(opts.fieldSelector ?? '', fieldsOf(t.kind));
      return this.#store
        .all(t.kind, t.namespace)
        .filter((o) => matchesLabelSelector(labels, o.metadata.labels) && fields.every((f) => f(o)))
        .map((o) => this.#out<T>(t, o));
    });
  }

  async create<T extends KubeObject = KubeObject>(obj: T, opts: WriteOptions): Promise<T> {
    const m = obj.metadata ?? {};
    const t = this.#target(
      { apiVersion: obj.apiVersion, kind: obj.kind, namespace: m.namespace, name: m.name },
      'create',
      opts,
    );
    return this.#answer(t, () =>
      this.#out<T>(t, this.#store.create(t.kind, t.namespace, { ...obj, metadata: { ...m } }, opts.dryRun)),
    );
  }

  async replace<T extends KubeObject = KubeObject>(obj: T, opts: WriteOptions): Promise<T> {
    const name = requireName(obj);
    const t = this.#target(
      { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name },
      'update',
      opts,
    );
    return this.#answer(t, () => this.#out<T>(t, this.#store.update(t.kind, t.namespace, obj, opts.dryRun)));
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: Record<string, unknown> | JsonPatchOp[],
    strategy: PatchStrategy,
    opts: PatchOptions,
  ): Promise<T> {
    const t = this.#target(ref, 'patch', opts, opts.subresource);
    if ((strategy === 'json') !== Array.isArray(patch)) {
      throw new CodedError(
        'k8s_invalid',
        strategy === 'json'
          ? 'A JSON patch is an array of operations'
          : `A ${strategy} patch is an object, not an array`,
        { details: { ...t.info } },
      );
    }
    return this.#answer(t, () => {
      if (opts.subresource && !t.kind.status)
        throw new ApiFailure(404, {
          message: 'the server could not find the requested resource',
          reason: 'NotFound',
          code: 404,
        });
      if (strategy === 'strategic' && !t.kind.builtin)
        throw new ApiFailure(415, { message: STRATEGIC_REFUSED, reason: 'UnsupportedMediaType', code: 415 });
      const stored = this.#store.must(t.kind, t.namespace, ref.name);
      const body = patch as unknown as Json;
      const base = stored as unknown as Json;
      const result =
        strategy === 'json'
          ? applyJsonPatch(base, body)
          : strategy === 'merge'
            ? applyMergePatch(base, body)
            : applyStrategicMergePatch(base, body);
      return this.#out<T>(
        t,
        this.#store.commitPatched(t.kind, stored, result, opts.dryRun, opts.subresource === 'status'),
      );
    });
  }

  async apply<T extends KubeObject = KubeObject>(obj: T, opts: ApplyOptions): Promise<T> {
    const name = requireName(obj);
    const t = this.#target(
      { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name },
      'patch',
      opts,
    );
    return this.#answer(t, () => {
      if (!opts.fieldManager) throw badRequest('fieldManager is required for apply requests');
      const applied = {
        ...obj,
        metadata: { ...obj.metadata, ...(t.namespace ? { namespace: t.namespace } : {}) },
      } as unknown as JsonMap;
      const stored = this.#store.get(t.kind, t.namespace, name);
      if (!stored) {
        const created = this.#store.create(
          t.kind,
          t.namespace,
          applied as unknown as KubeObject,
          opts.dryRun,
        );
        if (!opts.dryRun) this.#store.rememberApplied(t.kind, created, opts.fieldManager, applied);
        return this.#out<T>(t, created);
      }
      const previous = this.#store.appliedBy(t.kind, stored, opts.fieldManager);
      const result = applyServerSide(stored as unknown as Json, applied, previous);
      const out = this.#store.commitPatched(t.kind, stored, result, opts.dryRun, false);
      if (!opts.dryRun) this.#store.rememberApplied(t.kind, stored, opts.fieldManager, applied);
      return this.#out<T>(t, out);
    });
  }

  async delete(ref: ObjectRef, opts: DeleteOptions): Promise<boolean> {
    const t = this.#target(ref, 'delete', opts);
    return this.#answer(t, () =>
      this.#store.delete(t.kind, t.namespace, ref.name, opts.preconditions, opts.dryRun),
    );
  }

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

  /** A snapshot holds objects, not container output: a pod's log is refused, saying so (k8s_not_found). */
  async podLogs(namespace: string, pod: string, opts: PodLogOptions = {}): Promise<string> {
    const t = this.#target({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod }, 'get', opts, 'log');
    this.#answer(t, () => this.#store.must(t.kind, t.namespace, pod));
    throw new CodedError(
      'k8s_not_found',
      `no logs in a snapshot: ${this.#source} holds objects, not container output (pods/log "${pod}" in namespace "${namespace}")`,
      { details: { status: 404, reason: 'NotInSnapshot', ...t.info } },
    );
  }

  /** A snapshot has no RBAC: every check is allowed (the what-if is about policies, not permissions). */
  async canI(_check: AccessCheck, opts: CallOptions = {}): Promise<boolean> {
    opts.signal?.throwIfAborted();
    return true;
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

function parseSelector(selector: string) {
  try {
    return parseLabelSelector(selector);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}

/** `metadata.name=x,type!=y` → one test per term; a field the kind cannot be selected by is a 400. */
function parseFieldSelector(selector: string, supported: string[]): ((o: KubeObject) => boolean)[] {
  if (selector.trim() === '') return [];
  return selector.split(',').map((raw) => {
    const term = raw.trim();
    const m = /^([^\s=!]+)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`);
    const [, field = '', op, value = ''] = m;
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return (o: KubeObject) => (fieldValue(o, field) === value.trim()) === (op !== '!=');
  });
}

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (!isMap(cur) || !Object.hasOwn(cur, seg)) return '';
    cur = cur[seg];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

/** A Cluster answering from `snapshot`, changed only in memory by its writes. */
export function createSnapshotCluster(snapshot: Snapshot, opts: SnapshotClusterOptions = {}): Cluster {
  return new SnapshotCluster(snapshot, opts);
}
