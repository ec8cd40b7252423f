// The patch formats of the Cluster interface, applied to plain JSON as an API server would: JSON Patch
// (RFC 6902), JSON Merge Patch (RFC 7386), strategic merge (lists of containers, env, ports … merged
// by their key) and server-side apply (merged like strategic, and the fields this manager applied last
// time but no longer applies removed). Pure; used by the snapshot cluster. Keys such as `__proto__` are
// ordinary data here: every write defines an own property, so no patch can reach a prototype.

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonMap = { [key: string]: Json };

/** A patch that does not apply: the API answers 422 (or 400 for a malformed body) with this message. */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 422 = 422,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

export function isMap(v: unknown): v is JsonMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A deep copy as JSON carries it (undefined dropped); `__proto__` keys stay own properties. */
export function copyJson<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Set an own property whatever its name (`obj[k] = v` with k `__proto__` would set the prototype). */
export function put(obj: JsonMap, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

// ---- RFC 6902 ----

function pointer(p: unknown): string[] {
  if (typeof p !== 'string') throw new PatchError('path must be a string');
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(`invalid JSON pointer "${p}"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function at(doc: Json, path: string[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = /^\d+$/.test(seg) ? cur[Number(seg)] : undefined;
    else if (isMap(cur)) cur = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function parentOf(doc: Json, path: string[], op: string): { parent: JsonMap | Json[]; key: string } {
  if (path.length === 0) throw new PatchError(`${op} at the document root is not supported`);
  const parent = at(doc, path.slice(0, -1));
  if (!Array.isArray(parent) && !isMap(parent)) {
    throw new PatchError(`${op} operation does not apply: doc is missing path: "/${path.join('/')}"`);
  }
  return { parent, key: path[path.length - 1]! };
}

function addAt(doc: Json, path: string[], value: Json): Json {
  if (path.length === 0) return copyJson(value);
  const { parent, key } = parentOf(doc, path, 'add');
  if (Array.isArray(parent)) {
    const idx = key === '-' ? parent.length : Number(key);
    if (!/^(\d+|-)$/.test(key) || idx > parent.length) {
      throw new PatchError(`add operation does not apply: index ${key} out of range`);
    }
    parent.splice(idx, 0, copyJson(value));
  } else put(parent, key, copyJson(value));
  return doc;
}

function removeAt(doc: Json, path: string[]): Json {
  const { parent, key } = parentOf(doc, path, 'remove');
  const missing = () =>
    new PatchError(`remove operation does not apply: doc is missing path: "/${path.join('/')}"`);
  if (Array.isArray(parent)) {
    if (!/^\d+$/.test(key) || Number(key) >= parent.length) throw missing();
    parent.splice(Number(key), 1);
  } else {
    if (!Object.hasOwn(parent, key)) throw missing();
    delete parent[key];
  }
  return doc;
}

export function applyJsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations', 400);
  let doc = copyJson(target);
  for (const raw of ops) {
    if (!isMap(raw)) throw new PatchError('each JSON patch operation must be an object', 400);
    const path = pointer(raw.path);
    const needsValue = () => {
      if (!Object.hasOwn(raw, 'value')) throw new PatchError(`${String(raw.op)} operation requires a value`);
      return raw.value as Json;
    };
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, path, needsValue());
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace': {
        const value = needsValue();
        if (path.length === 0) {
          doc = copyJson(value);
          break;
        }
        if (at(doc, path) === undefined) {
          throw new PatchError(`replace operation does not apply: doc is missing key: /${path.join('/')}`);
        }
        doc = addAt(removeAt(doc, path), path, value);
        break;
      }
      case 'move':
      case 'copy': {
        const from = pointer(raw.from);
        const value = at(doc, from);
        if (value === undefined)
          throw new PatchError(`${raw.op} operation does not apply: doc is missing from path`);
        if (raw.op === 'move') doc = removeAt(doc, from);
        doc = addAt(doc, path, copyJson(value));
        break;
      }
      case 'test':
        if (!jsonEqual(at(doc, path), raw.value)) {
          throw new PatchError(`testing value /${path.join('/')} failed: test failed`);
        }
        break;
      default:
        throw new PatchError(`Unexpected kind: ${String(raw.op)}`);
    }
  }
  return doc;
}

// ---- RFC 7386 ----

export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isMap(patch)) return copyJson(patch);
  const out: JsonMap = isMap(target) ? copyJson(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else put(out, k, applyMergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  return out;
}

// ---- strategic merge ----

/** The merge key the built-in types declare for a list field. */
function mergeKeyOf(field: string, items: Json[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'secrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'conditions':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'hostAliases':
      return 'ip';
    case 'ports':
      return items.some((i) => isMap(i) && 'containerPort' in i) ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

/** Primitive lists the built-in types merge (patchStrategy "merge") rather than replace. */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function withoutDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.filter((i) => !(isMap(i) && i.$patch === 'delete')).map(withoutDirectives);
  if (!isMap(v)) return v;
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v))
    if (!k.startsWith('$') && x !== null) put(out, k, withoutDirectives(x));
  return out;
}

function mergeList(field: string, orig: Json | undefined, patch: Json[]): Json[] {
  if (patch.some((i) => isMap(i) && i.$patch === 'replace')) {
    return patch.filter((i) => !(isMap(i) && i.$patch === 'replace')).map(withoutDirectives);
  }
  const base = Array.isArray(orig) ? copyJson(orig) : [];
  if (MERGED_PRIMITIVE_LISTS.has(field) && patch.every((i) => !isMap(i))) {
    for (const item of patch) if (!base.some((b) => jsonEqual(b, item))) base.push(item);
    return base;
  }
  const key = mergeKeyOf(field, [...base, ...patch]);
  if (key === undefined || !patch.every((i) => isMap(i) && key in i)) return patch.map(withoutDirectives);
  for (const item of patch as JsonMap[]) {
    const idx = base.findIndex((b) => isMap(b) && jsonEqual(b[key], item[key]));
    if (item.$patch === 'delete') {
      if (idx !== -1) base.splice(idx, 1);
    } else if (idx === -1) base.push(withoutDirectives(item));
    else base[idx] = applyStrategicMergePatch(base[idx], item);
  }
  return base;
}

/** Strategic merge patch of a built-in kind (custom resources take merge or JSON patches only). */
export function applyStrategicMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isMap(patch)) return copyJson(patch);
  if (patch.$patch === 'replace') return withoutDirectives(patch);
  const out: JsonMap = isMap(target) ? copyJson(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(v)) {
        put(
          out,
          field,
          current.filter((x) => !v.some((d) => jsonEqual(d, x))),
        );
      }
      continue;
    }
    const cur = Object.hasOwn(out, k) ? out[k] : undefined;
    if (v === null || (isMap(v) && v.$patch === 'delete')) delete out[k];
    else if (Array.isArray(v)) put(out, k, mergeList(k, cur, v));
    else if (isMap(v)) put(out, k, applyStrategicMergePatch(cur, v));
    else put(out, k, v);
  }
  return out;
}

/**
 * Server-side apply, as far as one manager goes: `applied` is merged like a strategic merge patch
 * into `target`, after removing the map fields this manager applied last time (`previous`) and no
 * longer applies. Lists without a merge key are atomic.
 */
export function applyServerSide(target: Json | undefined, applied: JsonMap, previous?: JsonMap): Json {
  let base = target === undefined ? {} : copyJson(target);
  if (previous) base = dropUnapplied(base, previous, applied);
  return applyStrategicMergePatch(base, applied);
}

function dropUnapplied(obj: Json, prev: JsonMap, next: Json | undefined): Json {
  if (!isMap(obj)) return obj;
  const out = copyJson(obj);
  for (const [k, pv] of Object.entries(prev)) {
    const nv = isMap(next) && Object.hasOwn(next, k) ? next[k] : undefined;
    if (nv === undefined) delete out[k];
    else if (isMap(pv) && isMap(nv) && isMap(out[k])) put(out, k, dropUnapplied(out[k], pv, nv));
  }
  return out;
}
