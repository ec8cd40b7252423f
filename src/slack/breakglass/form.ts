import type { GrantRequestInput } from '../../breakglass/ports.js';
import { CodedError, type FieldIssue, formatIssue } from '../../domain/errors.js';
import type { GrantKind } from '../../domain/grant.js';
import { BG_BLOCKS, BG_VALUE, REASON_MAX, TICKET_MAX } from '../blocks/breakglass-modals.js';
import { truncate } from '../blocks/escape.js';
import { ACTION_IDS } from '../blocks/ids.js';

// The request modal's state → a GrantRequestInput, or precise errors keyed by the block they belong
// to (Slack shows them under that field). Only the syntax of what people type is checked here
// (`key=value,…`, `443/TCP`, `User:alice`); what is allowed is the service's to say, and its field
// errors are mapped back onto the same blocks.

/** `view.state.values` as Slack sends it (read defensively: a forged payload can hold anything). */
export type StateValues = Record<string, unknown>;

export type Errors = Record<string, string>;
export type FormResult = { ok: true; input: GrantRequestInput } | { ok: false; errors: Errors };

function field(
  values: StateValues,
  block: string,
  action: string = BG_VALUE,
): Record<string, unknown> | undefined {
  if (values === null || typeof values !== 'object' || !Object.hasOwn(values, block)) return undefined;
  const b = values[block];
  if (b === null || typeof b !== 'object' || !Object.hasOwn(b, action)) return undefined;
  const a = (b as Record<string, unknown>)[action];
  return a !== null && typeof a === 'object' ? (a as Record<string, unknown>) : undefined;
}

/** A text input's value, trimmed ('' when empty or absent). */
export function textOf(values: StateValues, block: string): string {
  const v = field(values, block)?.value;
  return typeof v === 'string' ? v.trim() : '';
}

/** A select's or radio group's chosen value. */
export function choiceOf(values: StateValues, block: string, action: string = BG_VALUE): string | undefined {
  const o = field(values, block, action)?.selected_option;
  if (o === null || typeof o !== 'object') return undefined;
  const v = (o as Record<string, unknown>).value;
  return typeof v === 'string' ? v : undefined;
}

export function kindOf(values: StateValues, fallback: GrantKind): GrantKind {
  const k = choiceOf(values, BG_BLOCKS.kind, ACTION_IDS.breakglassKind);
  return k === 'egress-exception' || k === 'access-elevation' ? k : fallback;
}

type Parsed<T> = { value: T } | { error: string };

/** `app=payments-api, tier=web` → labels (equality terms only). */
export function parseSelector(text: string): Parsed<Record<string, string>> {
  const terms = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (terms.length > 20) return { error: `${terms.length} terms: at most 20` };
  const entries: [string, string][] = [];
  for (const term of terms) {
    const eq = term.indexOf('=');
    const key = eq < 0 ? term : term.slice(0, eq).trim();
    const value = eq < 0 ? '' : term.slice(eq + 1).trim();
    if (eq <= 0 || key === '' || /[=!\s]/.test(key) || value.includes('=')) {
      return { error: `"${truncate(term, 60)}" is not a label term: write key=value, comma-separated` };
    }
    if (entries.some(([k]) => k === key)) return { error: `label "${truncate(key, 60)}" is given twice` };
    entries.push([key, value]);
  }
  // fromEntries defines own properties: a key such as `__proto__` stays a key (and is refused by the service).
  return { value: Object.fromEntries(entries) };
}

/** `443/TCP, 53/UDP` → ports (TCP when the protocol is left out). */
export function parsePorts(text: string): Parsed<{ port: number; protocol: string }[]> {
  const out: { port: number; protocol: string }[] = [];
  for (const term of text.split(',').map((t) => t.trim())) {
    if (term === '') continue;
    const m = /^(\d{1,5})(?:\s*\/\s*([A-Za-z]{3,4}))?$/.exec(term);
    const port = m ? Number(m[1]) : Number.NaN;
    const protocol = (m?.[2] ?? 'TCP').toUpperCase();
    if (!m || port < 1 || port > 65535) {
      return {
        error: `"${truncate(term, 40)}" is not a port: write port/protocol such as 443/TCP (1 to 65535)`,
      };
    }
    if (!['TCP', 'UDP', 'SCTP'].includes(protocol)) {
      return { error: `"${truncate(term, 40)}": the protocol is TCP, UDP or SCTP` };
    }
    out.push({ port, protocol });
  }
  if (out.length === 0) return { error: 'at least one port, such as 443/TCP' };
  return { value: out };
}

/** `User:alice, Group:ir-team` → subjects. */
export function parseSubjects(text: string): Parsed<{ kind: 'User' | 'Group'; name: string }[]> {
  const out: { kind: 'User' | 'Group'; name: string }[] = [];
  for (const term of text.split(',').map((t) => t.trim())) {
    if (term === '') continue;
    const m = /^(user|group)\s*:\s*(\S+)$/i.exec(term);
    if (!m) return { error: `"${truncate(term, 60)}": write User:NAME or Group:NAME, comma-separated` };
    out.push({ kind: m[1]?.toLowerCase() === 'user' ? 'User' : 'Group', name: m[2] as string });
  }
  if (out.length === 0) return { error: 'at least one User:NAME or Group:NAME' };
  return { value: out };
}

function destination(kind: string | undefined, text: string): Parsed<Record<string, unknown>> {
  if (text === '') return { error: 'where the path goes: a namespace (and selector), a CIDR or a host name' };
  switch (kind) {
    case 'pods': {
      const slash = text.indexOf('/');
      const namespace = (slash < 0 ? text : text.slice(0, slash)).trim();
      const sel = parseSelector(slash < 0 ? '' : text.slice(slash + 1));
      if ('error' in sel) return sel;
      if (namespace === '') return { error: 'write the namespace first: namespace or namespace/key=value,…' };
      return { value: { kind: 'pods', namespace, podSelector: sel.value } };
    }
    case 'cidr':
      return { value: { kind: 'cidr', cidr: text } };
    case 'fqdn':
      return { value: { kind: 'fqdn', fqdn: text.toLowerCase().replace(/\.$/, '') } };
    default:
      return { error: 'choose pods, a CIDR or a host name' };
  }
}

/** The typed spec for the chosen kind, in the incident's namespace. */
function spec(
  values: StateValues,
  kind: GrantKind,
  namespace: string,
  errors: Errors,
): Record<string, unknown> {
  if (kind === 'access-elevation') {
    const subjects = parseSubjects(textOf(values, BG_BLOCKS.subjects));
    if ('error' in subjects) errors[BG_BLOCKS.subjects] = subjects.error;
    const role = choiceOf(values, BG_BLOCKS.role);
    if (!role) errors[BG_BLOCKS.role] = 'choose a ClusterRole from the allow-list';
    return {
      kind,
      namespace,
      subjects: 'value' in subjects ? subjects.value : [],
      clusterRole: role ?? '',
    };
  }
  const sourceKind = choiceOf(values, BG_BLOCKS.source);
  const selectorText = textOf(values, BG_BLOCKS.sourceSelector);
  let source: Record<string, unknown> = { kind: 'quarantined' };
  if (sourceKind === 'selector') {
    const sel = parseSelector(selectorText);
    if ('error' in sel) errors[BG_BLOCKS.sourceSelector] = sel.error;
    else if (Object.keys(sel.value).length === 0)
      errors[BG_BLOCKS.sourceSelector] =
        'at least one key=value term: an empty selector is every pod of the namespace';
    else source = { kind: 'selector', podSelector: sel.value };
  } else if (sourceKind !== 'quarantined') {
    errors[BG_BLOCKS.source] = 'choose the quarantined pods or a selector';
  } else if (selectorText !== '') {
    errors[BG_BLOCKS.sourceSelector] = 'leave this empty, or choose "pods matching the selector" above';
  }
  const dest = destination(choiceOf(values, BG_BLOCKS.destKind), textOf(values, BG_BLOCKS.dest));
  if ('error' in dest) errors[BG_BLOCKS.dest] = dest.error;
  const ports = parsePorts(textOf(values, BG_BLOCKS.ports));
  if ('error' in ports) errors[BG_BLOCKS.ports] = ports.error;
  return {
    kind,
    namespace,
    source,
    destination: 'value' in dest ? dest.value : {},
    ports: 'value' in ports ? ports.value : [],
  };
}

export function reasonError(reason: string, required: boolean): string | undefined {
  if (reason === '') return required ? 'a reason is required: it is kept in the timeline' : undefined;
  if (reason.length > REASON_MAX) return `${reason.length} characters: at most ${REASON_MAX}`;
  return undefined;
}

/** A duration option's value (ms). */
export function durationOf(values: StateValues): number | undefined {
  const ms = Number(choiceOf(values, BG_BLOCKS.duration));
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

export function parseRequestForm(
  values: StateValues,
  ctx: { incidentId: string; namespace: string; kind: GrantKind },
): FormResult {
  const errors: Errors = {};
  const kind = kindOf(values, ctx.kind);
  const typed = spec(values, kind, ctx.namespace, errors);
  const durationMs = durationOf(values);
  if (durationMs === undefined) errors[BG_BLOCKS.duration] = 'choose how long it lasts';
  const reason = textOf(values, BG_BLOCKS.reason);
  const bad = reasonError(reason, true);
  if (bad) errors[BG_BLOCKS.reason] = bad;
  const ticket = textOf(values, BG_BLOCKS.ticket);
  if (ticket.length > TICKET_MAX)
    errors[BG_BLOCKS.ticket] = `${ticket.length} characters: at most ${TICKET_MAX}`;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    input: {
      incidentId: ctx.incidentId,
      spec: typed,
      durationMs: durationMs as number,
      reason,
      ...(ticket ? { ticket } : {}),
    },
  };
}

/** Which block a field of GrantRequestInput belongs to (`spec.ports[1].port` → ports). */
function blockFor(path: string, kind: GrantKind, sourceKind: string | undefined): string {
  const head = path.replace(/^spec\./, '').split(/[.[]/)[0] ?? '';
  const table: Record<string, string> = {
    source: sourceKind === 'selector' ? BG_BLOCKS.sourceSelector : BG_BLOCKS.source,
    destination: BG_BLOCKS.dest,
    ports: BG_BLOCKS.ports,
    subjects: BG_BLOCKS.subjects,
    clusterRole: BG_BLOCKS.role,
    durationMs: BG_BLOCKS.duration,
    duration: BG_BLOCKS.duration,
    reason: BG_BLOCKS.reason,
    ticket: BG_BLOCKS.ticket,
  };
  const block = Object.hasOwn(table, head) ? table[head] : undefined;
  const present =
    kind === 'egress-exception'
      ? block !== BG_BLOCKS.subjects && block !== BG_BLOCKS.role
      : block !== BG_BLOCKS.source &&
        block !== BG_BLOCKS.sourceSelector &&
        block !== BG_BLOCKS.dest &&
        block !== BG_BLOCKS.ports;
  return block && present ? block : BG_BLOCKS.kind;
}

const ERROR_MAX = 500;

/**
 * A refusal from the service as `response_action: errors`: each field issue under its block (the
 * service's own words), anything else under the kind, the first field of the form.
 */
export function errorsFromService(
  err: unknown,
  message: string,
  ctx: { kind: GrantKind; sourceKind?: string | undefined },
): Errors {
  const issues: FieldIssue[] = err instanceof CodedError && err.userSafe ? err.issues : [];
  const errors: Errors = {};
  for (const issue of issues) {
    const block = blockFor(issue.path, ctx.kind, ctx.sourceKind);
    const text = formatIssue({ ...issue, path: issue.path.replace(/^spec\./, '') });
    errors[block] = errors[block] ? `${errors[block]}; ${text}` : text;
  }
  // A refusal about the source pods (none match, not egress-isolated) names them: it belongs to the source.
  const aboutPods = err instanceof CodedError && err.userSafe && Array.isArray(err.details.pods);
  const sourceBlock =
    ctx.kind === 'egress-exception' ? blockFor('source', ctx.kind, ctx.sourceKind) : BG_BLOCKS.kind;
  if (Object.keys(errors).length === 0) errors[aboutPods ? sourceBlock : BG_BLOCKS.kind] = message;
  for (const [k, v] of Object.entries(errors)) errors[k] = truncate(v, ERROR_MAX);
  return errors;
}

/** Errors only on input blocks the view has (Slack refuses others): the rest go under the kind. */
export function onInputBlocks(errors: Errors, blocks: readonly unknown[]): Errors {
  const ids = new Set(
    blocks
      .filter((b): b is { type: string; block_id: string } => {
        const o = b as { type?: unknown; block_id?: unknown } | null;
        return o !== null && o.type === 'input' && typeof o.block_id === 'string';
      })
      .map((b) => b.block_id),
  );
  const out: Errors = {};
  for (const [block, message] of Object.entries(errors)) {
    const at = ids.has(block) ? block : BG_BLOCKS.kind;
    out[at] = out[at] ? `${out[at]}; ${message}` : message;
  }
  return out;
}
