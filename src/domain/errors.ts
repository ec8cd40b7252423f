// Coded errors (after bolt-js src/errors.ts): every failure that crosses a boundary carries a
// stable code; `userSafe` says whether its message may be shown verbatim to a Slack user or a CLI.

export const errorCodes = [
  'alert_invalid',
  'alert_format_unknown',
  'contract_invalid',
  'playbook_invalid',
  'config_invalid',
  'action_unknown',
  'action_params_invalid',
  'action_failed',
  'approval_refused',
  'not_authorized',
  'incident_not_found',
  'incident_closed',
  'transition_invalid',
  'namespace_refused',
  'store_unavailable',
  'store_conflict',
  'lock_busy',
  'k8s_forbidden',
  'k8s_not_found',
  'k8s_conflict',
  'k8s_unavailable',
  'k8s_invalid',
  'cluster_unavailable',
  'command_invalid',
  'scenario_invalid',
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

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
    this.userSafe = opts.userSafe ?? true;
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
