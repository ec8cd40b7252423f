// Label and field selectors as the API server parses them (k8s.io/apimachinery/pkg/labels, fields).
// Self-contained on purpose: the fake must not share selector code with the client it tests.

export class SelectorError extends Error {}

type LabelOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists' | 'gt' | 'lt';
interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isQualifiedName(key: string): boolean {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && NAME.test(name);
}

export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && NAME.test(value));
}

/** Split on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

function checkKey(key: string, whole: string): string {
  if (!isQualifiedName(key))
    throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (!isLabelValue(value)) {
    throw new SelectorError(`unable to parse requirement: invalid label value "${value}" in "${whole}"`);
  }
  return value;
}

export function parseLabelSelector(selector: string): LabelRequirement[] {
  if (selector.trim() === '') return [];
  return splitTopLevel(selector).map((part) => {
    if (part === '') throw new SelectorError(`found '', expected: identifier in "${selector}"`);
    let m = /^!\s*([^\s=!(),<>]+)$/.exec(part);
    if (m) return { key: checkKey(m[1]!, part), op: '!exists', values: [] };
    m = /^([^\s=!(),<>]+)\s*(!=|==|=)\s*([^\s=!(),]*)$/.exec(part);
    if (m) {
      return {
        key: checkKey(m[1]!, part),
        op: m[2] === '!=' ? '!=' : '=',
        values: [checkValue(m[3]!, part)],
      };
    }
    m = /^([^\s=!(),<>]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    if (m) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .map((v) => checkValue(v, part));
      return { key: checkKey(m[1]!, part), op: m[2] as 'in' | 'notin', values };
    }
    m = /^([^\s=!(),<>]+)\s*([<>])\s*(-?\d+)$/.exec(part);
    if (m) return { key: checkKey(m[1]!, part), op: m[2] === '>' ? 'gt' : 'lt', values: [m[3]!] };
    m = /^([^\s=!(),<>]+)$/.exec(part);
    if (m) return { key: checkKey(m[1]!, part), op: 'exists', values: [] };
    throw new SelectorError(`unable to parse requirement: "${part}"`);
  });
}

export function matchesLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        const bound = Number(r.values[0]);
        return r.op === 'gt' ? n > bound : n < bound;
      }
    }
    return false;
  });
}

interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export function parseFieldSelector(selector: string, supported: readonly string[]): FieldRequirement[] {
  if (selector.trim() === '') return [];
  return splitTopLevel(selector).map((part) => {
    const m = /^([^\s=!]+)\s*(!=|==|=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${part}'; can't understand '${part}'`);
    const field = m[1]!;
    if (!supported.includes(field)) throw new SelectorError(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3]!.trim() };
  });
}

export function matchesFields(reqs: FieldRequirement[], obj: Record<string, unknown>): boolean {
  return reqs.every((r) => {
    const actual = fieldValue(obj, r.field);
    return r.op === '=' ? actual === r.value : actual !== r.value;
  });
}

function fieldValue(obj: Record<string, unknown>, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}

/** Fields each kind can be selected by (the real server's lists are longer; these are the useful ones). */
export function supportedFields(kind: string): string[] {
  const common = ['metadata.name', 'metadata.namespace'];
  switch (kind) {
    case 'Pod':
      return [
        ...common,
        'spec.serviceAccountName',
        'spec.nodeName',
        'status.phase',
        'status.podIP',
        'spec.restartPolicy',
      ];
    case 'Secret':
      return [...common, 'type'];
    case 'Event':
      return [
        ...common,
        'involvedObject.kind',
        'involvedObject.namespace',
        'involvedObject.name',
        'involvedObject.uid',
        'involvedObject.apiVersion',
        'involvedObject.resourceVersion',
        'involvedObject.fieldPath',
        'reason',
        'reportingComponent',
        'source',
        'type',
      ];
    case 'Namespace':
      return [...common, 'status.phase'];
    case 'Job':
      return [...common, 'status.successful'];
    default:
      return common;
  }
}
