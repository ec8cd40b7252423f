// Kubernetes failures → CodedError. ApiException (`.code` = HTTP status, `.body` = the Status JSON as a
// string) and network errors are classified here: transient ones are retried by the caller (retry.ts),
// the rest become k8s_forbidden / k8s_not_found / k8s_conflict / k8s_invalid with a message a responder
// can act on. Messages carry verbs, resources, namespaces and the server's words — never credentials.
import * as k8s from '@kubernetes/client-node';
import { CodedError } from '../domain/errors.js';
import { parseRetryAfter, RetriesExhausted, type Transient } from './retry.js';

/** What a request was about, for messages: filled by the caller from the REST call it made. */
export interface RequestInfo {
  /** RBAC verb: get, list, create, update, patch, delete. */
  verb: string;
  /** API group; '' for core. */
  group: string;
  /** Plural resource, with `/subresource` when there is one: `pods`, `pods/log`, `certificates/status`. */
  resource: string;
  namespace?: string;
  name?: string;
}

/** The parts of a Kubernetes `Status` body this code reads. */
export interface KubeStatus {
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { field?: string; message?: string }[] };
}

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

const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);

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

/** Parse the Status out of an ApiException body (a JSON string, sometimes already an object). */
export function parseStatus(body: unknown): KubeStatus | undefined {
  let v: unknown = body;
  if (typeof body === 'string') {
    try {
      v = JSON.parse(body);
    } catch {
      return body.trim() === '' ? undefined : { message: body.trim().slice(0, 500) };
    }
  }
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  return {
    ...(typeof o.message === 'string' ? { message: o.message } : {}),
    ...(typeof o.reason === 'string' ? { reason: o.reason } : {}),
    ...(typeof o.code === 'number' ? { code: o.code } : {}),
    ...(o.details && typeof o.details === 'object' ? { details: o.details as KubeStatus['details'] } : {}),
  };
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

function where(info: RequestInfo): string {
  return info.namespace ? `in namespace "${info.namespace}"` : 'cluster-wide';
}

function subject(info: RequestInfo): string {
  return info.name ? `${info.resource} "${info.name}"` : info.resource;
}

/** `User "system:serviceaccount:ns:sa" cannot patch resource "pods" in API group "" in the namespace "prod"` */
const RBAC_DENIAL =
  /User "([^"]*)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]*)"| at the cluster scope)?/;

function forbidden(
  info: RequestInfo,
  st: KubeStatus | undefined,
  status: number,
  cause: unknown,
): CodedError {
  const m = st?.message ? RBAC_DENIAL.exec(st.message) : null;
  if (status === 401) {
    return new CodedError(
      'k8s_forbidden',
      `The Kubernetes API server rejected the bot's credentials (401 Unauthorized) when trying to ${info.verb} ${info.resource} ${where(info)}: the token is missing, expired or revoked.`,
      { cause, details: { status, reason: 'Unauthorized', ...info } },
    );
  }
  if (m) {
    const [, user, verb, resource, group, namespace] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
      string?,
    ];
    const scope = namespace === undefined ? 'cluster-wide' : `in namespace "${namespace}"`;
    const rule = `apiGroups: ["${group}"], resources: ["${resource}"], verbs: ["${verb}"]`;
    return new CodedError(
      'k8s_forbidden',
      `Forbidden: the bot's ServiceAccount (${user}) may not ${verb} ${resource}${group ? ` (API group ${group})` : ''} ${scope}. Grant it with an RBAC rule { ${rule} }${namespace === undefined ? ' in a ClusterRole' : ` in a Role in "${namespace}"`}.`,
      {
        cause,
        details: {
          status,
          reason: st?.reason ?? 'Forbidden',
          user,
          verb,
          group,
          resource,
          ...(namespace === undefined ? {} : { namespace }),
          ...(info.name ? { name: info.name } : {}),
        },
      },
    );
  }
  // Not an RBAC denial (admission webhook, PodSecurity, …): say what was refused and quote the server.
  return new CodedError(
    'k8s_forbidden',
    `Forbidden: Kubernetes refused to ${info.verb} ${subject(info)} ${where(info)}${st?.message ? `: ${st.message}` : ''}`,
    { cause, details: { status, reason: st?.reason ?? 'Forbidden', ...info } },
  );
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
  if (http) {
    const st = parseStatus(http.body);
    const status = http.code;
    const details = {
      status,
      ...(st?.reason ? { reason: st.reason } : {}),
      ...info,
      ...(attempts > 1 ? { attempts } : {}),
    };
    const serverSays = st?.message ? `: ${st.message}` : '';
    switch (true) {
      case status === 401 || status === 403:
        return forbidden(info, st, status, err);
      case status === 404:
        return new CodedError(
          'k8s_not_found',
          info.name
            ? `${info.resource} "${info.name}" not found ${where(info)}`
            : `Not found: ${info.verb} ${info.resource} ${where(info)}${serverSays}`,
          { cause: err, details },
        );
      case status === 409 || status === 410: {
        const retried =
          attempts > 1 && st?.reason === 'AlreadyExists'
            ? ' (an earlier attempt of this call may have created it)'
            : '';
        return new CodedError(
          'k8s_conflict',
          `Conflict: could not ${info.verb} ${subject(info)} ${where(info)}${serverSays}${retried}`,
          {
            cause: err,
            details,
          },
        );
      }
      case status === 400 || status === 415 || status === 422:
        return new CodedError(
          'k8s_invalid',
          `Kubernetes rejected the ${info.verb} of ${subject(info)} ${where(info)}${serverSays}`,
          {
            cause: err,
            details,
          },
        );
      case TRANSIENT_STATUS.has(status):
        return new CodedError(
          'k8s_unavailable',
          `The Kubernetes API is unavailable: ${info.verb} ${subject(info)} ${where(info)} failed (${status}${serverSays}).`,
          { cause: err, details },
        );
      default:
        return new CodedError(
          'k8s_invalid',
          `Kubernetes answered ${status} to ${info.verb} ${subject(info)} ${where(info)}${serverSays}`,
          {
            cause: err,
            details,
          },
        );
    }
  }
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
