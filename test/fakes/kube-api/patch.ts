// The patch formats the API server accepts: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386) and a
// good-enough strategic merge patch (merge semantics; lists of containers/env/ports/... merged by key).

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export class PatchError extends Error {}

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

// ---- RFC 6902 ----

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string') throw new PatchError('path must be a string');
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map(unescapePointer);
}

function getAt(doc: JsonValue, path: string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (isObject(cur)) {
      cur = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function parentOf(
  doc: JsonValue,
  path: string[],
  op: string,
): { parent: JsonObject | JsonValue[]; key: string } {
  if (path.length === 0) throw new PatchError(`${op} at the document root is not supported`);
  const parent = getAt(doc, path.slice(0, -1));
  if (!Array.isArray(parent) && !isObject(parent)) {
    throw new PatchError(
      `${op} operation does not apply: doc is missing path: "/${path.join('/')}": missing value`,
    );
  }
  return { parent, key: path[path.length - 1]! };
}

function addAt(doc: JsonValue, path: string[], value: JsonValue): JsonValue {
  if (path.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, path, 'add');
  if (Array.isArray(parent)) {
    const idx = key === '-' ? parent.length : Number(key);
    if (!/^(\d+|-)$/.test(key) || idx > parent.length) {
      throw new PatchError(`add operation does not apply: index ${key} out of range`);
    }
    parent.splice(idx, 0, clone(value));
  } else parent[key] = clone(value);
  return doc;
}

function removeAt(doc: JsonValue, path: string[]): JsonValue {
  const { parent, key } = parentOf(doc, path, 'remove');
  if (Array.isArray(parent)) {
    const idx = Number(key);
    if (!/^\d+$/.test(key) || idx >= parent.length) {
      throw new PatchError(`remove operation does not apply: doc is missing path: "/${path.join('/')}"`);
    }
    parent.splice(idx, 1);
  } else {
    if (!Object.hasOwn(parent, key)) {
      throw new PatchError(
        `remove operation does not apply: doc is missing path: "/${path.join('/')}": missing value`,
      );
    }
    delete parent[key];
  }
  return doc;
}

export function applyJsonPatch(target: JsonValue, ops: unknown): JsonValue {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw)) throw new PatchError('each JSON patch operation must be an object');
    const op = raw.op;
    const path = parsePointer(raw.path);
    switch (op) {
      case 'add':
        if (!('value' in raw)) throw new PatchError('add operation requires a value');
        doc = addAt(doc, path, raw.value!);
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace': {
        if (!('value' in raw)) throw new PatchError('replace operation requires a value');
        if (path.length === 0) {
          doc = clone(raw.value!);
          break;
        }
        if (getAt(doc, path) === undefined) {
          throw new PatchError(
            `replace operation does not apply: doc is missing key: /${path.join('/')}: missing value`,
          );
        }
        doc = removeAt(doc, path);
        doc = addAt(doc, path, raw.value!);
        break;
      }
      case 'move':
      case 'copy': {
        const from = parsePointer(raw.from);
        const value = getAt(doc, from);
        if (value === undefined)
          throw new PatchError(`${op} operation does not apply: doc is missing from path`);
        if (op === 'move') doc = removeAt(doc, from);
        doc = addAt(doc, path, clone(value));
        break;
      }
      case 'test': {
        const actual = getAt(doc, path);
        if (!deepEqual(actual, raw.value)) {
          throw new PatchError(`testing value /${path.join('/')} failed: test failed`);
        }
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${String(op)}`);
    }
  }
  return doc;
}

// ---- RFC 7386 ----

export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

// ---- strategic merge (good enough) ----

/** The merge key of a list field, when the real type declares one. */
function mergeKeyOf(field: string, items: JsonValue[]): string | undefined {
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
      return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

/** Primitive lists the real types declare with patchStrategy "merge". */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function stripDirectives(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.filter((i) => !(isObject(i) && i.$patch === 'delete')).map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function mergeList(field: string, orig: JsonValue | undefined, patch: JsonValue[]): JsonValue[] {
  if (patch.some((i) => isObject(i) && i.$patch === 'replace')) {
    return patch.filter((i) => !(isObject(i) && i.$patch === 'replace')).map(stripDirectives);
  }
  const base = Array.isArray(orig) ? clone(orig) : [];
  if (MERGED_PRIMITIVE_LISTS.has(field) && patch.every((i) => !isObject(i))) {
    for (const item of patch) if (!base.some((b) => deepEqual(b, item))) base.push(item);
    return base;
  }
  const key = mergeKeyOf(field, [...base, ...patch]);
  if (key === undefined || !patch.every((i) => isObject(i) && key in i)) return patch.map(stripDirectives);
  for (const item of patch as JsonObject[]) {
    const idx = base.findIndex((b) => isObject(b) && deepEqual(b[key], item[key]));
    if (item.$patch === 'delete') {
      if (idx !== -1) base.splice(idx, 1);
    } else if (idx === -1) base.push(stripDirectives(item));
    else base[idx] = strategicMerge(base[idx], item);
  }
  return base;
}

export function applyStrategicMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  return strategicMerge(target, patch);
}

function strategicMerge(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(v))
        out[field] = current.filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(k, out[k], v);
    else if (isObject(v)) {
      if (v.$patch === 'delete') delete out[k];
      else out[k] = strategicMerge(out[k], v);
    } else out[k] = v;
  }
  return out;
}

/**
 * Server-side apply, good enough: the applied configuration is merged like a strategic merge patch, and
 * map fields this field manager applied last time but no longer applies are removed (as SSA does when no
 * other manager owns them). Lists are atomic unless they have a merge key.
 */
export function applyServerSide(
  target: JsonValue | undefined,
  applied: JsonObject,
  previous?: JsonObject,
): JsonValue {
  let base = target === undefined ? {} : clone(target);
  if (previous) base = removeDropped(base, previous, applied);
  return strategicMerge(base, applied);
}

function removeDropped(obj: JsonValue, prev: JsonObject, next: JsonValue | undefined): JsonValue {
  if (!isObject(obj)) return obj;
  const out = clone(obj);
  for (const [k, pv] of Object.entries(prev)) {
    const nv = isObject(next) ? next[k] : undefined;
    if (nv === undefined) delete out[k];
    else if (isObject(pv) && isObject(nv) && isObject(out[k])) out[k] = removeDropped(out[k], pv, nv);
  }
  return out;
}
