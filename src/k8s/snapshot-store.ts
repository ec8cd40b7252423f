// The snapshot cluster's objects, kept and written with an API server's rules: resourceVersions (a
// stale one is a 409), generation bumped on spec changes, status kept apart where a kind has a status
// subresource, finalizers, dry runs that validate and answer what would be stored without storing it.
// Failures are thrown as `ApiFailure` (an HTTP status and a Status body, worded like the real server's);
// snapshot-cluster.ts turns them into the CodedErrors the Cluster interface promises.

import { copyJson, isMap, type Json, type JsonMap, jsonEqual } from './patches.js';
import { isLabelKey, isLabelValue } from './selectors.js';
import type { SnapshotKind } from './snapshot-kinds.js';
import type { KubeStatus } from './status-errors.js';
import type { KubeObject } from './types.js';

/** What an API server would have answered instead of 2xx. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: KubeStatus,
  ) {
    super(body.message);
    this.name = 'ApiFailure';
  }
}

/** `pods "x"` or `deployments.apps "x"`, as the real messages name a resource. */
function qualified(k: SnapshotKind, name?: string): string {
  const res = k.group === '' ? k.plural : `${k.plural}.${k.group}`;
  return name === undefined ? res : `${res} "${name}"`;
}

const details = (k: SnapshotKind, name?: string) => ({
  ...(name === undefined ? {} : { name }),
  ...(k.group === '' ? {} : { group: k.group }),
  kind: k.plural,
});

export const notFound = (k: SnapshotKind, name: string) =>
  new ApiFailure(404, {
    message: `${qualified(k, name)} not found`,
    reason: 'NotFound',
    code: 404,
    details: details(k, name),
  });

export const badRequest = (message: string) =>
  new ApiFailure(400, { message, reason: 'BadRequest', code: 400 });

export const conflict = (k: SnapshotKind, name: string, message?: string) =>
  new ApiFailure(409, {
    message:
      message ??
      `Operation cannot be fulfilled on ${qualified(k, name)}: the object has been modified; please apply your changes to the latest version and try again`,
    reason: 'Conflict',
    code: 409,
    details: details(k, name),
  });

export function invalid(
  k: SnapshotKind,
  name: string,
  causes: { field: string; message: string }[],
): ApiFailure {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new ApiFailure(422, {
    message: `${k.kind} "${name}" is invalid: ${causes.length > 1 ? `[${text}]` : text}`,
    reason: 'Invalid',
    code: 422,
    details: { name, ...(k.group === '' ? {} : { group: k.group }), kind: k.kind, causes },
  });
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The API server's validation of what every write stores (names, labels, the few specs it knows). */
export function validate(k: SnapshotKind, obj: KubeObject, creating: boolean): void {
  const m = obj.metadata;
  const name = String(m.name ?? '');
  const causes: { field: string; message: string }[] = [];
  const nameOk =
    k.kind === 'Namespace'
      ? DNS_LABEL.test(name) && name.length <= 63
      : DNS_SUBDOMAIN.test(name) && name.length <= 253;
  if (!nameOk) {
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  for (const field of ['labels', 'annotations'] as const) {
    const v = m[field] as unknown;
    if (v === undefined || v === null) continue;
    if (!isMap(v)) {
      causes.push({ field: `metadata.${field}`, message: 'Invalid value: must be a map of strings' });
      continue;
    }
    for (const [key, val] of Object.entries(v)) {
      if (!isLabelKey(key))
        causes.push({ field: `metadata.${field}`, message: `Invalid value: "${key}": not a qualified name` });
      if (typeof val !== 'string')
        causes.push({ field: `metadata.${field}.${key}`, message: 'Invalid value: must be a string' });
      else if (field === 'labels' && !isLabelValue(val))
        causes.push({
          field: 'metadata.labels',
          message: `Invalid value: "${val}": not a valid label value`,
        });
    }
  }
  const spec = isMap(obj.spec) ? obj.spec : undefined;
  if (k.kind === 'NetworkPolicy' && spec) {
    const types = spec.policyTypes;
    if (
      types !== undefined &&
      !(Array.isArray(types) && types.every((t) => t === 'Ingress' || t === 'Egress'))
    ) {
      causes.push({
        field: 'spec.policyTypes',
        message: `Unsupported value: ${JSON.stringify(types)}: supported values: "Ingress", "Egress"`,
      });
    }
    if (spec.podSelector !== undefined && !isMap(spec.podSelector)) {
      causes.push({ field: 'spec.podSelector', message: 'Invalid value: must be a label selector' });
    }
  }
  if (k.kind === 'Pod' && creating && !(Array.isArray(spec?.containers) && spec.containers.length > 0)) {
    causes.push({ field: 'spec.containers', message: 'Required value' });
  }
  if (causes.length > 0) throw invalid(k, name, causes);
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class SnapshotStore {
  readonly #objects = new Map<string, KubeObject>();
  /** What each field manager last applied, per object (server-side apply drops what it no longer applies). */
  readonly #applied = new Map<string, Map<string, JsonMap>>();
  readonly #now: () => Date;
  #rv: number;
  #uid = 0;
  #generated = 0;

  constructor(objects: readonly { kind: SnapshotKind; obj: KubeObject }[], now: () => Date) {
    this.#now = now;
    this.#rv = Math.max(
      0,
      ...objects.map(({ obj }) => Number(obj.metadata.resourceVersion)).filter(Number.isSafeInteger),
    );
    for (const { kind, obj } of objects) {
      const o = copyJson(obj);
      o.metadata.uid ??= this.#nextUid();
      o.metadata.resourceVersion ??= this.#nextRv();
      this.#objects.set(this.#key(kind, o.metadata.namespace, o.metadata.name ?? ''), o);
    }
  }

  #key(k: SnapshotKind, namespace: string | undefined, name: string): string {
    return `${k.group}|${k.kind}|${k.namespaced ? (namespace ?? '') : ''}|${name}`;
  }

  #nextRv(): string {
    this.#rv += 1;
    return String(this.#rv);
  }

  #nextUid(): string {
    this.#uid += 1;
    return `5a000000-0000-4000-8000-${this.#uid.toString(16).padStart(12, '0')}`;
  }

  get(k: SnapshotKind, namespace: string | undefined, name: string): KubeObject | undefined {
    return copyJson(this.#objects.get(this.#key(k, namespace, name)));
  }

  /** Objects of a kind (one namespace, or all), sorted by namespace and name as the API lists them. */
  all(k: SnapshotKind, namespace?: string): KubeObject[] {
    const prefix = `${k.group}|${k.kind}|`;
    const out: KubeObject[] = [];
    for (const [key, o] of this.#objects) {
      if (!key.startsWith(prefix)) continue;
      if (namespace !== undefined && k.namespaced && o.metadata.namespace !== namespace) continue;
      out.push(copyJson(o));
    }
    const at = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    return out.sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0));
  }

  /** A namespace exists when the snapshot has its Namespace, or anything in it. */
  hasNamespace(namespace: string): boolean {
    for (const [key, o] of this.#objects) {
      if (key === `|Namespace||${namespace}` || o.metadata.namespace === namespace) return true;
    }
    return false;
  }

  must(k: SnapshotKind, namespace: string | undefined, name: string): KubeObject {
    const o = this.get(k, namespace, name);
    if (!o) throw notFound(k, name);
    return o;
  }

  create(k: SnapshotKind, namespace: string | undefined, input: KubeObject, dry: boolean): KubeObject {
    const obj = copyJson(input);
    const m = obj.metadata;
    if (typeof m.resourceVersion === 'string' && m.resourceVersion !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    if (typeof m.name !== 'string' || m.name === '') {
      if (typeof m.generateName !== 'string' || m.generateName === '') {
        throw invalid(k, '', [
          { field: 'metadata.name', message: 'Required value: name or generateName is required' },
        ]);
      }
      m.name = `${m.generateName}${(++this.#generated).toString(36).padStart(5, 'x')}`;
    }
    if (k.namespaced) m.namespace = namespace;
    else delete m.namespace;
    validate(k, obj, true);
    if (k.namespaced && !this.hasNamespace(namespace ?? '')) {
      throw new ApiFailure(404, {
        message: `namespaces "${namespace}" not found`,
        reason: 'NotFound',
        code: 404,
        details: { name: namespace ?? '', kind: 'namespaces' },
      });
    }
    if (this.#objects.has(this.#key(k, namespace, m.name))) {
      throw new ApiFailure(409, {
        message: `${qualified(k, m.name)} already exists`,
        reason: 'AlreadyExists',
        code: 409,
        details: details(k, m.name),
      });
    }
    if (k.kind === 'Pod') obj.status = { phase: 'Pending' };
    else if (k.status) delete obj.status;
    delete m.deletionTimestamp;
    m.uid = dry ? `dry-run-${this.#uid + 1}` : this.#nextUid();
    m.creationTimestamp = rfc3339(this.#now());
    m.generation = 1;
    if (dry) {
      delete m.resourceVersion;
      return obj;
    }
    m.resourceVersion = this.#nextRv();
    this.#objects.set(this.#key(k, namespace, m.name), copyJson(obj));
    return obj;
  }

  /** Store `input` over `stored` (update, patch and apply end here). `status`: a /status write. */
  commit(k: SnapshotKind, stored: KubeObject, input: KubeObject, dry: boolean, status = false): KubeObject {
    let next: KubeObject;
    if (status) {
      next = copyJson(stored);
      if (input.status === undefined) delete next.status;
      else next.status = copyJson(input.status);
    } else {
      next = copyJson(input);
      if (k.status) {
        if (stored.status === undefined) delete next.status;
        else next.status = copyJson(stored.status);
      }
    }
    next.apiVersion = stored.apiVersion;
    next.kind = stored.kind;
    const nm = next.metadata;
    const sm = stored.metadata;
    for (const f of [
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'namespace',
      'name',
      'generation',
    ] as const) {
      if (sm[f] === undefined) delete nm[f];
      else (nm as Record<string, unknown>)[f] = sm[f];
    }
    nm.resourceVersion = sm.resourceVersion;
    validate(k, next, false);
    const specOf = (o: KubeObject) => {
      const { metadata: _m, status: _s, ...rest } = o;
      return rest;
    };
    if (!jsonEqual(specOf(next), specOf(stored))) nm.generation = Number(sm.generation ?? 1) + 1;
    if (jsonEqual(next, stored)) return stored;
    const key = this.#key(k, sm.namespace, sm.name ?? '');
    if (nm.deletionTimestamp !== undefined && !(nm.finalizers?.length ?? 0)) {
      if (!dry) this.#remove(key);
      return next;
    }
    if (dry) return next;
    nm.resourceVersion = this.#nextRv();
    this.#objects.set(key, copyJson(next));
    return next;
  }

  /** A replace (PUT): a stale resourceVersion or another uid is a 409. */
  update(k: SnapshotKind, namespace: string | undefined, input: KubeObject, dry: boolean): KubeObject {
    const name = input.metadata.name ?? '';
    const stored = this.must(k, namespace, name);
    const m = input.metadata;
    if (k.namespaced && m.namespace !== undefined && m.namespace !== '' && m.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (
      typeof m.resourceVersion === 'string' &&
      m.resourceVersion !== '' &&
      m.resourceVersion !== stored.metadata.resourceVersion
    ) {
      throw conflict(k, name);
    }
    if (typeof m.uid === 'string' && m.uid !== '' && m.uid !== stored.metadata.uid) {
      throw conflict(
        k,
        name,
        `Precondition failed: UID in precondition: ${m.uid}, UID in object meta: ${String(stored.metadata.uid)}`,
      );
    }
    return this.commit(k, stored, input, dry);
  }

  /** The tail of patch and apply: the patched object must keep its name and its resourceVersion. */
  commitPatched(
    k: SnapshotKind,
    stored: KubeObject,
    result: Json,
    dry: boolean,
    status: boolean,
  ): KubeObject {
    if (!isMap(result) || !isMap(result.metadata)) throw badRequest('the patched object is not an object');
    const patched = result as unknown as KubeObject;
    const name = stored.metadata.name ?? '';
    if (patched.metadata.name !== name || patched.metadata.namespace !== stored.metadata.namespace) {
      throw invalid(k, name, [{ field: 'metadata.name', message: 'Invalid value: field is immutable' }]);
    }
    if (patched.metadata.resourceVersion !== stored.metadata.resourceVersion) throw conflict(k, name);
    return this.commit(k, stored, patched, dry, status);
  }

  appliedBy(k: SnapshotKind, obj: KubeObject, manager: string): JsonMap | undefined {
    return this.#applied.get(this.#key(k, obj.metadata.namespace, obj.metadata.name ?? ''))?.get(manager);
  }

  rememberApplied(k: SnapshotKind, obj: KubeObject, manager: string, applied: JsonMap): void {
    const key = this.#key(k, obj.metadata.namespace, obj.metadata.name ?? '');
    const byManager = this.#applied.get(key) ?? new Map<string, JsonMap>();
    byManager.set(manager, copyJson(applied));
    this.#applied.set(key, byManager);
  }

  /** Delete; false when absent. Preconditions that do not hold are a 409; finalizers only mark it. */
  delete(
    k: SnapshotKind,
    namespace: string | undefined,
    name: string,
    pre: { resourceVersion?: string; uid?: string } | undefined,
    dry: boolean,
  ): boolean {
    const stored = this.get(k, namespace, name);
    if (!stored) return false;
    const sm = stored.metadata;
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== sm.resourceVersion) {
      throw conflict(
        k,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(sm.resourceVersion)}`,
      );
    }
    if (pre?.uid !== undefined && pre.uid !== sm.uid) {
      throw conflict(
        k,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(sm.uid)}`,
      );
    }
    if (dry) return true;
    const key = this.#key(k, namespace, name);
    if (sm.finalizers?.length) {
      if (sm.deletionTimestamp === undefined) {
        sm.deletionTimestamp = rfc3339(this.#now());
        sm.resourceVersion = this.#nextRv();
        this.#objects.set(key, stored);
      }
      return true;
    }
    this.#remove(key);
    return true;
  }

  #remove(key: string): void {
    this.#objects.delete(key);
    this.#applied.delete(key);
  }
}
