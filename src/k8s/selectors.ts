// LabelSelector objects (as in NetworkPolicy.spec.podSelector) ↔ the string form list calls take, both
// ways (the snapshot cluster parses list calls' selectors), and matching them against labels locally
// (to tell which policies select a pod). Pure.
import type { LabelSelector, LabelSelectorRequirement } from './types.js';

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

/** A label key as the API takes it: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 characters. */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

/** A label value: empty, or ≤ 63 alphanumerics with `-_.` inside. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value));
}

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Split on the commas outside parentheses. */
function splitTerms(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

/**
 * The string form list calls take (`app=x,tier in (a,b),!canary`, `k!=v`, `k`) → a LabelSelector that
 * `matchesLabelSelector` evaluates as the API server would (`!=` and `notin` match a missing key).
 * Throws a plain Error naming the term for anything the API would refuse (and for `>`/`<`, not
 * expressible as a LabelSelector).
 */
export function parseLabelSelector(selector: string): LabelSelector {
  if (selector.trim() === '') return {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  const key = (k: string, term: string) => {
    if (!isLabelKey(k)) throw new Error(`unable to parse requirement: invalid label key "${k}" in "${term}"`);
    return k;
  };
  const value = (v: string, term: string) => {
    if (!isLabelValue(v))
      throw new Error(`unable to parse requirement: invalid label value "${v}" in "${term}"`);
    return v;
  };
  for (const term of splitTerms(selector)) {
    if (term === '') throw new Error(`found '', expected: identifier in "${selector}"`);
    const absent = /^!\s*([^\s=!(),<>]+)$/.exec(term);
    const equality = /^([^\s=!(),<>]+)\s*(!=|==|=)\s*([^\s=!(),]*)$/.exec(term);
    const set = /^([^\s=!(),<>]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
    const exists = /^([^\s=!(),<>]+)$/.exec(term);
    if (absent) {
      matchExpressions.push({ key: key(absent[1]!, term), operator: 'DoesNotExist' });
    } else if (equality) {
      const operator = equality[2] === '!=' ? 'NotIn' : 'In';
      matchExpressions.push({ key: key(equality[1]!, term), operator, values: [value(equality[3]!, term)] });
    } else if (set) {
      const values = set[3]!.split(',').map((v) => value(v.trim(), term));
      matchExpressions.push({ key: key(set[1]!, term), operator: set[2] === 'in' ? 'In' : 'NotIn', values });
    } else if (exists) {
      matchExpressions.push({ key: key(exists[1]!, term), operator: 'Exists' });
    } else {
      throw new Error(`unable to parse requirement: "${term}"`);
    }
  }
  return { matchExpressions };
}
