import { type Document, isMap, isNode, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { z } from 'zod';

// Kubernetes manifests as the workloads they declare: pure text in, workloads out. Multi-document
// YAML, `kind: List` (what `kubectl kustomize` and `kubectl get -o yaml` print) and JSON (YAML's
// subset) are all read; everything that is not a workload is skipped.

/** The kinds whose pods send traffic, and where each keeps its pod template. */
const TEMPLATE_PATHS: Record<string, readonly string[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

const Labels = z.record(z.string(), z.string());
const Meta = z.object({
  name: z.string().optional(),
  namespace: z.string().optional(),
  labels: Labels.nullish(),
});
const Obj = z.object({ kind: z.string(), metadata: Meta.nullish() }).passthrough();

export interface Workload {
  kind: string;
  name: string;
  /** As written, or the default namespace the check was given. */
  namespace: string;
  /** The pod template's label (what policies select), else the workload's own; undefined when neither has it. */
  app: string | undefined;
  file: string;
  line: number;
}

export interface ManifestProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ManifestRead {
  workloads: Workload[];
  problems: ManifestProblem[];
}

export interface ReadOptions {
  appLabel: string;
  defaultNamespace: string;
}

function at(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function labelOf(labels: unknown, key: string): string | undefined {
  const parsed = Labels.safeParse(labels);
  return parsed.success && Object.hasOwn(parsed.data, key) ? parsed.data[key] : undefined;
}

/** A List's items, each with the offset it starts at, or the document's one object. */
function objectsOf(doc: Document): { data: unknown; offset: number }[] {
  const toJS = (node: unknown) => (isNode(node) ? node.toJS(doc, { maxAliasCount: 100 }) : node);
  // Where the object itself starts (a document's range begins at its `---`).
  const start = (isNode(doc.contents) ? doc.contents.range?.[0] : undefined) ?? doc.range?.[0] ?? 0;
  const contents = doc.contents;
  const kind = isMap(contents) ? contents.get('kind') : undefined;
  const items = isMap(contents) ? contents.get('items', true) : undefined;
  if (typeof kind === 'string' && kind.endsWith('List') && isSeq(items))
    return items.items.map((item) => ({
      data: toJS(item),
      offset: isNode(item) ? (item.range?.[0] ?? start) : start,
    }));
  return [{ data: doc.toJS({ maxAliasCount: 100 }), offset: start }];
}

function workloadOf(data: unknown, file: string, line: number, opts: ReadOptions): Workload | undefined {
  const obj = Obj.safeParse(data);
  if (!obj.success || !Object.hasOwn(TEMPLATE_PATHS, obj.data.kind)) return undefined;
  const path = TEMPLATE_PATHS[obj.data.kind] as readonly string[];
  const meta = obj.data.metadata ?? {};
  const app =
    labelOf(at(data, [...path, 'metadata', 'labels']), opts.appLabel) ?? labelOf(meta.labels, opts.appLabel);
  return {
    kind: obj.data.kind,
    name: meta.name ?? '(unnamed)',
    namespace: meta.namespace ?? opts.defaultNamespace,
    app,
    file,
    line,
  };
}

export function readManifests(text: string, file: string, opts: ReadOptions): ManifestRead {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const workloads: Workload[] = [];
  const problems: ManifestProblem[] = [];
  for (const doc of list) {
    const start = lines.linePos(doc.range?.[0] ?? 0);
    const error = doc.errors[0];
    if (error !== undefined) {
      const pos = lines.linePos(error.pos[0]);
      problems.push({
        file,
        line: pos.line,
        column: pos.col,
        message: `not valid YAML: ${error.message.split('\n')[0]}`,
      });
      continue;
    }
    let objects: { data: unknown; offset: number }[];
    try {
      objects = objectsOf(doc);
    } catch (err) {
      problems.push({
        file,
        line: start.line,
        column: start.col,
        message: `cannot read the YAML: ${(err as Error).message}`,
      });
      continue;
    }
    for (const obj of objects) {
      const w = workloadOf(obj.data, file, lines.linePos(obj.offset).line, opts);
      if (w) workloads.push(w);
    }
  }
  return { workloads, problems };
}
