import {
  type Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLError,
} from 'yaml';
import type { z } from 'zod';
import { asCodedError, CodedError, type ErrorCode, type FieldIssue } from './errors.js';
import { zodIssues } from './zod-issues.js';

// Every YAML file people write (playbooks, contracts, config, drill scenarios) is read here: syntax
// errors with line:column, one document per file, aliases capped, and schema problems pointing at the
// line where the field is written.

export interface YamlFile {
  file: string;
  data: unknown;
  /** The line a field (dotted path, e.g. `steps[1].actions[0].uses`) is written on, if it is. */
  lineOf(path: string): number | undefined;
}

function yamlProblem(err: YAMLError): string {
  if (err.code === 'MULTIPLE_DOCS') return 'one document per file: this file holds more than one (---)';
  return err.message.split('\n')[0] ?? err.code;
}

/** `steps[1].ports[0]` → ['steps', 1, 'ports', 0] (the inverse of formatPath). */
function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g))
    out.push(m[2] === undefined ? (m[1] ?? '') : Number(m[2]));
  return out;
}

/** The node at `segments` (for a mapping entry: its key, so the line is where the field is written). */
function nodeAt(doc: Document, segments: (string | number)[]): Node | undefined {
  let node: unknown = doc.contents;
  let at: Node | undefined;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === segment);
      if (!pair) return undefined;
      at = isNode(pair.key) ? pair.key : undefined;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      at = isNode(node) ? node : undefined;
    } else {
      return undefined;
    }
  }
  return at;
}

/** Parse one YAML document. Syntax errors: CodedError(`code`) naming file, line and column. */
export function readYaml(text: string, file: string, code: ErrorCode): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues: FieldIssue[] = doc.errors.map((err) => {
      const { line, col } = lines.linePos(err.pos[0]);
      return { path: `line ${line}, column ${col}`, message: yamlProblem(err) };
    });
    const first = doc.errors[0] as YAMLError;
    const at = lines.linePos(first.pos[0]);
    throw new CodedError(code, `${file}:${at.line}:${at.col}: not valid YAML: ${yamlProblem(first)}`, {
      issues,
      details: { file, line: at.line, column: at.col },
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new CodedError(code, `${file}: cannot read the YAML: ${asCodedError(err).message}`, {
      details: { file },
      cause: err,
    });
  }
  const lineOf = (path: string) => {
    const segments = pathSegments(path);
    for (let n = segments.length; n > 0; n--) {
      const range = nodeAt(doc, segments.slice(0, n))?.range;
      if (range) return lines.linePos(range[0]).line;
    }
    return undefined;
  };
  return { file, data, lineOf };
}

/**
 * Validate a read file against a schema; every problem names its field, value, what was expected and
 * the line it is on. `headline` is the error's message after the file name (given the problem count).
 */
export function validateYaml<S extends z.ZodType>(
  src: YamlFile,
  schema: S,
  code: ErrorCode,
  headline: (problems: number) => string,
): z.output<S> {
  const res = schema.safeParse(src.data);
  if (res.success) return res.data;
  throw new CodedError(code, `${src.file}: ${headline(res.error.issues.length)}`, {
    issues: withLines(src, zodIssues(res.error, src.data)),
    details: { file: src.file },
  });
}

/** Append `(line N)` to issues whose field is written in the file. */
export function withLines(src: YamlFile, issues: FieldIssue[]): FieldIssue[] {
  return issues.map((issue) => {
    const line = src.lineOf(issue.path);
    return line === undefined ? issue : { ...issue, message: `${issue.message} (line ${line})` };
  });
}
