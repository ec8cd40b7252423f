// Where a field sits in a batch, for FieldIssue paths: `dst_port`, `[3].dst_port`, `line 4: dst_port`.
import type { z } from 'zod';
import type { FieldIssue } from '../domain/errors.js';
import { zodIssues } from '../domain/zod-issues.js';

/**
 * Where one item of a batch sits, and how to name a field inside it:
 * root object → `dst_port`; array item → `[3].dst_port`; NDJSON line → `line 4: dst_port`.
 */
export interface ItemPath {
  /** The item itself ('' for a single root object). */
  readonly self: string;
  /** A field (or dotted sub-path) inside the item. */
  field(sub: string): string;
}

export const rootPath: ItemPath = { self: '', field: (sub) => sub };

export function indexPath(prefix: string, index: number): ItemPath {
  const self = `${prefix}[${index}]`;
  return { self, field: (sub) => `${self}.${sub}` };
}

export function linePath(line: number): ItemPath {
  const self = `line ${line}`;
  return { self, field: (sub) => `${self}: ${sub}` };
}

export function schemaIssues(error: z.ZodError, input: unknown, at: ItemPath): FieldIssue[] {
  // zodIssues formats `a.b[2]`; graft it onto the item's path.
  return zodIssues(error, input).map((issue) => ({
    ...issue,
    path: issue.path === '' ? at.self : at.field(issue.path),
  }));
}
