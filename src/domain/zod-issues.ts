import type { z } from 'zod';
import { type FieldIssue, showValue } from './errors.js';

/** Dotted path with array indexes: `steps[2].actions[0].uses`. */
export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return prefix + out;
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): { found: boolean; value?: unknown } {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return { found: false };
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return { found: cur !== undefined, value: cur };
}

/**
 * Turn zod issues into FieldIssues that name the field, show the offending value and say what
 * was expected. Unknown keys (strict objects) become one issue per key, so a typo is pointed at.
 */
export function zodIssues(error: z.ZodError, input: unknown, prefix = ''): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          path: formatPath([...issue.path, key], prefix),
          message: 'unknown field (check the spelling)',
        });
      }
      continue;
    }
    if (
      issue.code === 'invalid_union' &&
      'errors' in issue &&
      Array.isArray(issue.errors) &&
      issue.errors.length > 0
    ) {
      // Report the branch that got furthest rather than a vague "invalid input".
      const branches = issue.errors as z.core.$ZodIssue[][];
      const best = branches.reduce((a, b) => (b.length < a.length ? b : a));
      for (const sub of best) {
        const full = [...issue.path, ...sub.path];
        const at = valueAt(input, full);
        out.push({
          path: formatPath(full, prefix),
          message: sub.message,
          ...(at.found ? { value: showValue(at.value) } : {}),
        });
      }
      continue;
    }
    const at = valueAt(input, issue.path);
    out.push({
      path: formatPath(issue.path, prefix),
      message: issue.message,
      ...(at.found ? { value: showValue(at.value) } : {}),
    });
  }
  return out;
}
