// Coded errors (after bolt-js src/errors.ts): every failure that crosses a boundary carries a
// stable code; `userSafe` says whether its message may be shown verbatim to a Slack user or a CLI
// (decided by the code's row in codeTable; an error can only be marked less safe than its code).

/**
 * Every code, and whether its message is written for the person who caused it (shown verbatim in
 * Slack and the CLI) or is internal (logged in full; people see a short message with a reference).
 * A code is internal unless this table marks it user-safe; one constructor option can still mark a
 * single error internal (a parser bug wearing a user code, say).
 */
const codeTable = {
  alert_invalid: 'user',
  alert_format_unknown: 'user',
  contract_invalid: 'user',
  playbook_invalid: 'user',
  config_invalid: 'user',
  action_unknown: 'user',
  action_params_invalid: 'user',
  action_failed: 'user',
  approval_refused: 'user',
  not_authorized: 'user',
  incident_not_found: 'user',
  grant_not_found: 'user',
  incident_closed: 'user',
  transition_invalid: 'user',
  namespace_refused: 'user',
  store_unavailable: 'user',
  store_conflict: 'user',
  lock_busy: 'user',
  lock_lost: 'internal',
  k8s_forbidden: 'user',
  k8s_not_found: 'user',
  k8s_conflict: 'user',
  k8s_unavailable: 'user',
  k8s_invalid: 'user',
  cluster_unavailable: 'user',
  command_invalid: 'user',
  scenario_invalid: 'user',
  request_refused: 'user',
  internal: 'internal',
} as const satisfies Record<string, 'user' | 'internal'>;

export type ErrorCode = keyof typeof codeTable;
export const errorCodes = Object.keys(codeTable) as ErrorCode[];

/** Whether a code's messages are written for people (see codeTable). */
export function isUserSafeCode(code: ErrorCode): boolean {
  return codeTable[code] === 'user';
}

/** One precise problem with an input: where, what was there, what was expected. */
export interface FieldIssue {
  /** Dotted path into the input, e.g. `alerts[3].labels.dst_port` or `steps[1].actions[0].uses`. */
  path: string;
  /** Human sentence: what is wrong and what was expected. */
  message: string;
  /** A short rendering of the offending value, when there was one. */
  value?: string;
}

export class CodedError extends Error {
  readonly code: ErrorCode;
  readonly userSafe: boolean;
  readonly issues: FieldIssue[];
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: {
      userSafe?: boolean;
      issues?: FieldIssue[];
      details?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CodedError';
    this.code = code;
    this.userSafe = (opts.userSafe ?? true) && isUserSafeCode(code);
    this.issues = opts.issues ?? [];
    this.details = opts.details ?? {};
  }

  /** Message plus one indented line per issue: what a CLI prints and a 400 body carries. */
  describe(): string {
    if (this.issues.length === 0) return this.message;
    return [this.message, ...this.issues.map((i) => `  - ${formatIssue(i)}`)].join('\n');
  }
}

export function formatIssue(issue: FieldIssue): string {
  const where = issue.path === '' ? '(root)' : issue.path;
  return issue.value === undefined
    ? `${where}: ${issue.message}`
    : `${where}: ${issue.message} (got ${issue.value})`;
}

/** Normalise anything thrown into a CodedError; unknown failures are `internal` and not user-safe. */
export function asCodedError(err: unknown): CodedError {
  if (err instanceof CodedError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CodedError('internal', message, { userSafe: false, cause: err });
}

/** Render a value for an error message: short, single-line, never the whole of a huge string. */
export function showValue(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/** A reference people can quote to find the full error in the log: the incident id and a short code. */
export function publicMessage(err: unknown, ref?: string): string {
  const coded = asCodedError(err);
  if (coded.userSafe) return coded.describe();
  return `Something went wrong (${coded.code}${ref ? `, ${ref}` : ''}); the details are in the bot log.`;
}
