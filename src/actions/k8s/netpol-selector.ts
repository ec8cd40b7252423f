import type { LabelSelector, LabelSelectorRequirement, SelectorOperator } from './netpol-types.js';

// Label selectors with the API server's semantics, and their kubectl-like text for Slack lines.

type Labels = Readonly<Record<string, string>>;

/** How each operator judges a label's value (undefined = the label is absent). */
const OPERATORS: Record<SelectorOperator, (value: string | undefined, values: readonly string[]) => boolean> =
  {
    In: (value, values) => value !== undefined && values.includes(value),
    // As in Kubernetes: a pod without the key is "not in" any set.
    NotIn: (value, values) => value === undefined || !values.includes(value),
    Exists: (value) => value !== undefined,
    DoesNotExist: (value) => value === undefined,
  };

/** kubectl's selector syntax, so people can paste it into `kubectl get -l`. */
const EXPRESSION_TEXT: Record<SelectorOperator, (key: string, values: readonly string[]) => string> = {
  In: (key, values) => `${key} in (${values.join(',')})`,
  NotIn: (key, values) => `${key} notin (${values.join(',')})`,
  Exists: (key) => key,
  DoesNotExist: (key) => `!${key}`,
};

// Own properties only: a label named `constructor` must not find Object.prototype's.
function labelValue(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function requirementMatches(req: LabelSelectorRequirement, labels: Labels): boolean {
  // The API server validates operators; anything else (hand-written JSON) selects nothing.
  if (!Object.hasOwn(OPERATORS, req.operator)) return false;
  return OPERATORS[req.operator](labelValue(labels, req.key), req.values ?? []);
}

/** Kubernetes semantics: every matchLabels pair and every expression must hold; `{}` and absent match all. */
export function selectorMatches(sel: LabelSelector | undefined, labels: Labels): boolean {
  if (sel === undefined) return true;
  const pairsHold = Object.entries(sel.matchLabels ?? {}).every(
    ([key, value]) => labelValue(labels, key) === value,
  );
  return pairsHold && (sel.matchExpressions ?? []).every((req) => requirementMatches(req, labels));
}

/** True when the selector states no requirement, i.e. selects everything in its scope. */
export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return Object.keys(sel?.matchLabels ?? {}).length === 0 && (sel?.matchExpressions ?? []).length === 0;
}

/**
 * True when every object the selector selects must carry `key=value` (a matchLabels pair or an
 * `In` with that single value). Such a selector is never wider than `key=value` itself.
 */
export function selectorPins(sel: LabelSelector, key: string, value: string): boolean {
  if (sel.matchLabels !== undefined && labelValue(sel.matchLabels, key) === value) return true;
  return (sel.matchExpressions ?? []).some(
    (req) => req.key === key && req.operator === 'In' && req.values?.length === 1 && req.values[0] === value,
  );
}

/** `app=orders-api,tier in (a,b),!quarantine`; '' for an empty selector (callers say what "all" means). */
export function renderSelector(sel: LabelSelector | undefined): string {
  const pairs = Object.entries(sel?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  const expressions = (sel?.matchExpressions ?? []).map((req) =>
    Object.hasOwn(EXPRESSION_TEXT, req.operator)
      ? EXPRESSION_TEXT[req.operator](req.key, req.values ?? [])
      : `${req.key} ${String(req.operator)} (${(req.values ?? []).join(',')})`,
  );
  return [...pairs, ...expressions].join(',');
}
