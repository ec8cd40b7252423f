// Kubernetes failures → CodedError. ApiException (`.code` = HTTP status, `.body` = the Status JSON as a
// string) and network errors are classified here: transient ones are retried by the caller (retry.ts),
// the rest become k8s_forbidden / k8s_not_found / k8s_conflict / k8s_invalid (status-errors.ts) with a
// message a responder can act on. Messages carry verbs, resources, namespaces and the server's words —
// never credentials.
import * as k8s from '@kubernetes/client-node';
import { CodedError } from '../domain/errors.js';
import { parseRetryAfter, RetriesExhausted, type Transient } from './retry.js';
import {
  type KubeStatus,
  parseStatus,
  type RequestInfo,
  statusError,
  subject,
  TRANSIENT_STATUS,
  where,
} from './status-errors.js';

export { type KubeStatus, parseStatus, type RequestInfo };

/** A per-attempt timeout (distinct from the caller aborting). */
export class RequestTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'RequestTimeout';
  }
}

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

interface HttpFailure {
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

function asHttpFailure(err: unknown): HttpFailure | undefined {
  if (err instanceof k8s.ApiException) {
    return { code: err.code, body: err.body, headers: (err.headers ?? {}) as Record<string, string> };
  }
  return undefined;
}

function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Transient failures worth retrying: 429, 5xx gateway/availability errors, timeouts, connection errors. */
export function transientReason(err: unknown): Transient | undefined {
  const http = asHttpFailure(err);
  if (http) {
    if (!TRANSIENT_STATUS.has(http.code)) return undefined;
    const st = parseStatus(http.body);
    const retryAfterMs = parseRetryAfter(http.headers['retry-after'] ?? http.headers['Retry-After']);
    const reason = `${http.code}${st?.reason ? ` ${st.reason}` : ''}${st?.message ? `: ${st.message}` : ''}`;
    return { reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (err instanceof RequestTimeout) return { reason: err.message };
  const code = networkCode(err);
  if (code && TRANSIENT_NETWORK_CODES.has(code)) return { reason: code };
  if (err instanceof Error && /socket hang up|premature close/i.test(err.message))
    return { reason: err.message };
  return undefined;
}

/** Map anything a Kubernetes call threw to a CodedError. `attempts` is how many tries were made. */
export function toK8sError(err: unknown, info: RequestInfo, attempts = 1): CodedError {
  if (err instanceof CodedError) return err;
  if (err instanceof RetriesExhausted) {
    return new CodedError(
      'k8s_unavailable',
      `The Kubernetes API is unavailable: ${info.verb} ${subject(info)} ${where(info)} failed after ${err.attempts} attempt${err.attempts === 1 ? '' : 's'} (last: ${err.reason}).`,
      { cause: err.lastError, details: { ...info, attempts: err.attempts, lastError: err.reason } },
    );
  }
  const http = asHttpFailure(err);
  if (http) return statusError(http.code, parseStatus(http.body), info, attempts, err);
  const transient = transientReason(err);
  if (transient) {
    return new CodedError(
      'k8s_unavailable',
      `The Kubernetes API is unavailable: ${info.verb} ${subject(info)} ${where(info)} failed (${transient.reason}).`,
      { cause: err, details: { ...info, attempts, lastError: transient.reason } },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CodedError(
    'cluster_unavailable',
    `Could not ${info.verb} ${subject(info)} ${where(info)}: ${message}`,
    {
      userSafe: false,
      cause: err,
      details: { ...info },
    },
  );
}
