import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
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
import { EgressContract, type LoadedContract } from '../domain/contract.js';
import { asCodedError, CodedError, type FieldIssue } from '../domain/errors.js';
import { zodIssues } from '../domain/zod-issues.js';

// Load egress contracts: one YAML file per service. A bad file is reported precisely (file, field
// path, value, what was expected; line:column for YAML syntax) and never stops the others loading.

export interface ContractSet {
  contracts: LoadedContract[];
  errors: CodedError[];
}

const CONTRACT_FILE = /\.ya?ml$/i;

function yamlProblem(err: YAMLError): string {
  if (err.code === 'MULTIPLE_DOCS')
    return 'one contract per file: this file holds more than one YAML document (---)';
  return err.message;
}

/** `allowed_internal[1].ports[0]` → ['allowed_internal', 1, 'ports', 0] (the inverse of formatPath). */
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

/** The line an issue's field sits on (or its nearest existing parent's); undefined for the root. */
function lineOf(doc: Document, lines: LineCounter, path: string): number | undefined {
  const segments = pathSegments(path);
  for (let n = segments.length; n > 0; n--) {
    const range = nodeAt(doc, segments.slice(0, n))?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return undefined;
}

/**
 * Parse and validate one contract file's text. `file` is only used in messages and in the result.
 * Throws CodedError('contract_invalid') naming the file, with one issue per problem.
 */
export function parseContract(text: string, file: string): LoadedContract {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });

  if (doc.errors.length > 0) {
    const issues: FieldIssue[] = doc.errors.map((err) => {
      const { line, col } = lines.linePos(err.pos[0]);
      return { path: `line ${line}, column ${col}`, message: yamlProblem(err) };
    });
    const first = doc.errors[0] as YAMLError;
    const at = lines.linePos(first.pos[0]);
    throw new CodedError(
      'contract_invalid',
      `${file}:${at.line}:${at.col}: not valid YAML: ${yamlProblem(first)}`,
      {
        issues,
        details: { file, line: at.line, column: at.col },
      },
    );
  }

  let input: unknown;
  try {
    input = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new CodedError('contract_invalid', `${file}: cannot read the YAML: ${asCodedError(err).message}`, {
      details: { file },
      cause: err,
    });
  }
  if (input === null || input === undefined) {
    throw new CodedError(
      'contract_invalid',
      `${file}: the file is empty; an egress contract needs at least a service`,
      {
        details: { file },
      },
    );
  }

  const res = EgressContract.safeParse(input);
  if (!res.success) {
    const issues = zodIssues(res.error, input).map((issue) => {
      const line = lineOf(doc, lines, issue.path);
      return line === undefined ? issue : { ...issue, message: `${issue.message} (line ${line})` };
    });
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    throw new CodedError('contract_invalid', `${file}: invalid egress contract (${count})`, {
      issues,
      details: { file },
    });
  }
  return { file, contract: res.data };
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function isFile(dir: string, entry: Dirent): Promise<boolean> {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return (await stat(join(dir, entry.name))).isFile();
  } catch {
    return true; // a dangling link: let the read report it
  }
}

/** A short reason for a file-system failure: `permission denied (EACCES)`. */
function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'it does not exist (ENOENT)';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  return code ?? asCodedError(err).message;
}

function directoryError(dir: string, err: unknown): CodedError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message =
    code === 'ENOENT'
      ? `Contract directory ${dir} does not exist.`
      : code === 'ENOTDIR'
        ? `Contract directory ${dir} is not a directory.`
        : `Cannot read contract directory ${dir}: ${fsReason(err)}.`;
  return new CodedError('contract_invalid', message, { details: { dir }, cause: err });
}

/**
 * Load every `.yaml`/`.yml` file directly in `dir` (not recursive; hidden files skipped), in name
 * order. Never throws for bad input: each bad file, a second contract for the same service and
 * namespace, or a missing directory is one CodedError in `errors`; the good files still load.
 */
export async function loadContracts(dir: string): Promise<ContractSet> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    return { contracts: [], errors: [directoryError(dir, err)] };
  }

  const names: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.') || !CONTRACT_FILE.test(entry.name)) continue;
    if (await isFile(dir, entry)) names.push(entry.name);
  }
  names.sort(byName);

  const contracts: LoadedContract[] = [];
  const errors: CodedError[] = [];
  const seen = new Map<string, LoadedContract>();
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      errors.push(
        new CodedError('contract_invalid', `${file}: cannot read the file: ${fsReason(err)}`, {
          details: { file },
          cause: err,
        }),
      );
      continue;
    }

    let loaded: LoadedContract;
    try {
      loaded = parseContract(text, file);
    } catch (err) {
      errors.push(asCodedError(err));
      continue;
    }

    const { service, namespace } = loaded.contract;
    const key = `${service}\u0000${namespace ?? ''}`;
    const first = seen.get(key);
    if (first) {
      const where = namespace === undefined ? 'for any namespace' : `in namespace ${namespace}`;
      errors.push(
        new CodedError(
          'contract_invalid',
          `${file}: duplicate egress contract for service ${service} ${where}: ${first.file} already defines it, so this file was ignored.`,
          {
            details: {
              file,
              duplicateOf: first.file,
              service,
              ...(namespace === undefined ? {} : { namespace }),
            },
          },
        ),
      );
      continue;
    }
    seen.set(key, loaded);
    contracts.push(loaded);
  }
  return { contracts, errors };
}
