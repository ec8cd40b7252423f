// Reading a cluster snapshot: what `kubectl get ns,pods,deploy,rs,sts,netpol,sa,secrets -A -o yaml`
// (or `-o json`, read much faster) prints (a `kind: List`), a typed list (`PodList` from the API), or
// any number of objects as a multi-document YAML. Every object is checked before the snapshot is used,
// and every problem names the document, the item, the field and its line. Files are bounded (size,
// aliases, object count), Secrets' data and stringData are dropped on reading (a snapshot never needs a
// secret's value, so none can reach a timeline), and an object's keys are data only (`__proto__`,
// `constructor` are names like any other).
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Document, isNode, LineCounter, parseAllDocuments } from 'yaml';
import { CodedError, type ErrorCode, type FieldIssue, showValue } from '../domain/errors.js';
import { isLabelKey, isLabelValue } from './selectors.js';
import { describeKinds, snapshotKind, storageVersion } from './snapshot-kinds.js';
import type { KubeObject } from './types.js';

export const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;
export const MAX_SNAPSHOT_OBJECTS = 50_000;
const MAX_ISSUES = 20;

export interface Snapshot {
  /** Where it came from (a path), for messages and the cluster's name. */
  source: string;
  objects: KubeObject[];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

interface Where {
  doc: number;
  /** Path of the object inside its document: [] or ['items', 3]. */
  item: (string | number)[];
}

class Problems {
  readonly issues: FieldIssue[] = [];
  constructor(
    private readonly docs: Document[],
    private readonly lines: LineCounter,
  ) {}

  add(w: Where, field: string, message: string, value?: unknown): void {
    if (this.issues.length >= MAX_ISSUES) return;
    const fieldPath = field === '' ? [] : field.split('.');
    const line = this.lineOf(w, fieldPath);
    const item = w.item.length === 0 ? '' : `, items[${String(w.item[1])}]`;
    this.issues.push({
      path: `document ${w.doc + 1}${item}${field === '' ? '' : `: ${field}`}`,
      message: line === undefined ? message : `${message} (line ${line})`,
      ...(value === undefined ? {} : { value: showValue(value, 60) }),
    });
  }

  private lineOf(w: Where, field: string[]): number | undefined {
    const doc = this.docs[w.doc];
    if (!doc) return undefined;
    for (let n = field.length; n >= 0; n--) {
      const node = doc.getIn([...w.item, ...field.slice(0, n)], true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }
}

/** Check one object; returns it as a snapshot keeps it (storage version, no secret values), or undefined. */
function checkObject(o: unknown, w: Where, p: Problems): KubeObject | undefined {
  if (!isMap(o)) {
    p.add(w, '', 'expected a Kubernetes object (a mapping with apiVersion, kind and metadata)', o);
    return undefined;
  }
  if (typeof o.kind !== 'string' || o.kind === '') {
    p.add(w, 'kind', 'required: every object names its kind (Pod, NetworkPolicy, …)', o.kind);
    return undefined;
  }
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') {
    p.add(w, 'apiVersion', `required for a ${o.kind}`, o.apiVersion);
    return undefined;
  }
  const kind = snapshotKind(o.apiVersion, o.kind);
  if (!kind) {
    p.add(
      w,
      'kind',
      `a snapshot does not hold ${o.apiVersion} ${o.kind}; it holds: ${describeKinds()}`,
      o.kind,
    );
    return undefined;
  }
  const m = o.metadata;
  if (!isMap(m)) {
    p.add(w, 'metadata', `required: a mapping with at least name`, m);
    return undefined;
  }
  let ok = true;
  const name = m.name;
  const nameRe = kind.kind === 'Namespace' ? DNS_LABEL : DNS_SUBDOMAIN;
  if (typeof name !== 'string' || name.length > 253 || !nameRe.test(name)) {
    p.add(w, 'metadata.name', `expected a lower-case DNS name for the ${o.kind}`, name);
    ok = false;
  }
  if (kind.namespaced && (typeof m.namespace !== 'string' || !DNS_LABEL.test(m.namespace))) {
    p.add(w, 'metadata.namespace', `required: a ${o.kind} lives in a namespace`, m.namespace);
    ok = false;
  }
  for (const field of ['labels', 'annotations'] as const) {
    const v = m[field];
    if (v === undefined || v === null) continue;
    if (!isMap(v)) {
      p.add(w, `metadata.${field}`, 'expected a mapping of strings', v);
      ok = false;
      continue;
    }
    for (const [k, val] of Object.entries(v)) {
      const badValue = typeof val !== 'string' || (field === 'labels' && !isLabelValue(val));
      if (!isLabelKey(k) || badValue) {
        p.add(
          w,
          `metadata.${field}.${k}`,
          `expected a valid ${field === 'labels' ? 'label' : 'annotation'}`,
          val,
        );
        ok = false;
      }
    }
  }
  if (!ok) return undefined;
  const obj = JSON.parse(JSON.stringify(o)) as KubeObject;
  obj.apiVersion = storageVersion(kind);
  if (!kind.namespaced) delete obj.metadata.namespace;
  if (kind.kind === 'Secret') {
    delete obj.data;
    delete obj.stringData;
  }
  return obj;
}

/** A list's items (`kind: List`, or `PodList` whose items may leave out apiVersion and kind). */
function listItems(o: Record<string, unknown>, w: Where, p: Problems): unknown[] | undefined {
  if (typeof o.kind !== 'string' || !o.kind.endsWith('List') || !Object.hasOwn(o, 'items')) return undefined;
  if (!Array.isArray(o.items)) {
    p.add(w, 'items', `a ${o.kind}'s items must be a list`, o.items);
    return [];
  }
  if (o.kind === 'List') return o.items;
  const itemKind = o.kind.slice(0, -'List'.length);
  return o.items.map((i) => (isMap(i) ? { apiVersion: o.apiVersion, kind: itemKind, ...i } : i));
}

/** The objects of each document's data (null: an empty document), every problem added to `problems`. */
function collect(datas: unknown[], problems: Problems, source: string, code: ErrorCode): KubeObject[] {
  const objects: KubeObject[] = [];
  const seen = new Map<string, string>();
  for (const [i, data] of datas.entries()) {
    if (data === null || data === undefined) continue; // an empty document (a trailing ---)
    const top: Where = { doc: i, item: [] };
    const items = isMap(data) ? listItems(data, top, problems) : undefined;
    const entries = items
      ? items.map((o, n) => ({ o, w: { doc: i, item: ['items', n] } }))
      : [{ o: data, w: top }];
    for (const { o, w } of entries) {
      if (isMap(o) && typeof o.kind === 'string' && o.kind.endsWith('List') && Object.hasOwn(o, 'items')) {
        problems.add(w, 'kind', 'a list inside a list: put each list in its own document', o.kind);
        continue;
      }
      const obj = checkObject(o, w, problems);
      if (!obj) continue;
      const key = `${obj.apiVersion}|${obj.kind}|${obj.metadata.namespace ?? ''}|${obj.metadata.name}`;
      const here = `document ${w.doc + 1}${w.item.length ? `, items[${String(w.item[1])}]` : ''}`;
      const before = seen.get(key);
      if (before) {
        const ns = obj.metadata.namespace ? `${obj.metadata.namespace}/` : '';
        problems.add(w, 'metadata.name', `${obj.kind} ${ns}${obj.metadata.name} is also ${before}`);
        continue;
      }
      seen.set(key, here);
      objects.push(obj);
      if (objects.length > MAX_SNAPSHOT_OBJECTS) {
        throw new CodedError(
          code,
          `${source}: more than ${MAX_SNAPSHOT_OBJECTS} objects; snapshot fewer namespaces or kinds`,
          { details: { file: source } },
        );
      }
    }
  }
  return objects;
}

/** `kubectl … -o json` output, parsed at JSON speed (the YAML reader takes seconds per megabyte). */
function asJson(text: string): unknown {
  if (!/^\s*\{/.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // YAML with a flow mapping, or broken JSON: the YAML reader says where
  }
}

function usable(objects: KubeObject[], problems: Problems, source: string, code: ErrorCode): Snapshot {
  if (problems.issues.length > 0) {
    const n = problems.issues.length;
    throw new CodedError(
      code,
      `${source}: not a usable cluster snapshot (${n}${n >= MAX_ISSUES ? '+' : ''} problem${n === 1 ? '' : 's'})`,
      { issues: problems.issues, details: { file: source } },
    );
  }
  if (objects.length === 0) {
    throw new CodedError(
      code,
      `${source}: the snapshot holds no objects (expected \`kubectl get … -o yaml\` output)`,
      { details: { file: source } },
    );
  }
  return { source, objects };
}

/** Parse a snapshot's text (YAML, or JSON); any problem throws CodedError(`code`) listing each with its place. */
export function parseSnapshot(text: string, source: string, code: ErrorCode): Snapshot {
  const json = asJson(text);
  if (json !== undefined) {
    const problems = new Problems([], new LineCounter());
    const objects = collect([json], problems, source, code);
    // A JSON file with problems is read again as YAML (JSON is YAML), for the lines they are on.
    if (problems.issues.length === 0) return usable(objects, problems, source, code);
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const all: Document[] = Array.isArray(docs) ? docs : [];
  for (const [i, doc] of all.entries()) {
    const err = doc.errors[0];
    if (!err) continue;
    const at = lines.linePos(err.pos[0]);
    throw new CodedError(
      code,
      `${source}:${at.line}:${at.col}: not valid YAML (document ${i + 1}): ${err.message.split('\n')[0]}`,
      { details: { file: source, line: at.line, column: at.col } },
    );
  }
  const datas = all.map((doc, i) => {
    try {
      return doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (err) {
      throw new CodedError(code, `${source}: document ${i + 1} cannot be read: ${(err as Error).message}`, {
        details: { file: source },
      });
    }
  });
  const problems = new Problems(all, lines);
  return usable(collect(datas, problems, source, code), problems, source, code);
}

/** Read and parse the snapshot at `path` (at most MAX_SNAPSHOT_BYTES); problems are CodedError(`code`). */
export async function readSnapshotFile(path: string, code: ErrorCode): Promise<Snapshot> {
  const full = resolve(path);
  const refuse = (why: string) =>
    new CodedError(code, `snapshot ${path}: ${why}`, { details: { file: full } });
  let size: number;
  try {
    const st = await stat(full);
    if (!st.isFile()) throw refuse(st.isDirectory() ? 'is a directory, not a file' : 'is not a regular file');
    size = st.size;
  } catch (err) {
    if (err instanceof CodedError) throw err;
    const why = (err as NodeJS.ErrnoException).code;
    throw refuse(why === 'ENOENT' ? `no such file (${full})` : `cannot be read (${why ?? 'unknown error'})`);
  }
  if (size > MAX_SNAPSHOT_BYTES) {
    throw refuse(
      `is ${(size / 1024 / 1024).toFixed(1)} MiB; a snapshot may be at most ${MAX_SNAPSHOT_BYTES / 1024 / 1024} MiB (snapshot fewer namespaces or kinds)`,
    );
  }
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    throw refuse(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
  if (Buffer.byteLength(text) > MAX_SNAPSHOT_BYTES) throw refuse('grew past the size limit while being read');
  return parseSnapshot(text, path, code);
}
