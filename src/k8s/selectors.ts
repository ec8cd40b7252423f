// LabelSelector objects (as in NetworkPolicy.spec.podSelector) ↔ the string form list calls take, and
// matching them against labels locally (to tell which policies select a pod). Pure.
import type { LabelSelector } from './types.js';

/**
 * `{matchLabels: {app: 'x'}, matchExpressions: [{key: 'q', operator: 'DoesNotExist'}]}` → `app=x,!q`.
 * An empty selector gives '' (everything).
 */
export function formatLabelSelector(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
    }
  }
  return parts.join(',');
}

/**
 * Whether `labels` satisfy `sel`, with the API's semantics: every requirement must hold; an empty (or
 * absent) selector matches everything; NotIn matches a missing key. An unknown operator matches nothing.
 */
export function matchesLabelSelector(
  sel: LabelSelector | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!sel) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (l[k] !== v) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(l[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** `app=payments-api` → `{app: 'payments-api'}`; only plain equality selectors (`k=v,k2=v2`) convert. */
export function parseEqualitySelector(selector: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of selector.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^([^\s=!]+)\s*==?\s*([^\s=!,]*)$/.exec(part);
    if (!m) return undefined;
    out[m[1]!] = m[2]!;
  }
  return out;
}
