// An API server's failure answer (HTTP status + `Status` body) → CodedError, with no Kubernetes client
// loaded: the client-node adapter (errors.ts) and the snapshot cluster both say failures through it, so
// a responder reads the same words whichever answered. Messages carry verbs, resources, namespaces and
// the server's words — never credentials.
import { CodedError } from '../domain/errors.js';

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

/** Statuses worth retrying: rate limiting and the gateway/availability 5xx. */
export const TRANSIENT_STATUS: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** Parse the Status out of a failure body (a JSON string, sometimes already an object). */
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

export function where(info: RequestInfo): string {
  return info.namespace ? `in namespace "${info.namespace}"` : 'cluster-wide';
}

export function subject(info: RequestInfo): string {
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

/** The CodedError for an HTTP failure `status` with Status body `st`, after `attempts` tries. */
export function statusError(
  status: number,
  st: KubeStatus | undefined,
  info: RequestInfo,
  attempts = 1,
  cause?: unknown,
): CodedError {
  const details = {
    status,
    ...(st?.reason ? { reason: st.reason } : {}),
    ...info,
    ...(attempts > 1 ? { attempts } : {}),
  };
  const serverSays = st?.message ? `: ${st.message}` : '';
  switch (true) {
    case status === 401 || status === 403:
      return forbidden(info, st, status, cause);
    case status === 404:
      return new CodedError(
        'k8s_not_found',
        info.name
          ? `${info.resource} "${info.name}" not found ${where(info)}`
          : `Not found: ${info.verb} ${info.resource} ${where(info)}${serverSays}`,
        { cause, details },
      );
    case status === 409 || status === 410: {
      const retried =
        attempts > 1 && st?.reason === 'AlreadyExists'
          ? ' (an earlier attempt of this call may have created it)'
          : '';
      return new CodedError(
        'k8s_conflict',
        `Conflict: could not ${info.verb} ${subject(info)} ${where(info)}${serverSays}${retried}`,
        { cause, details },
      );
    }
    case status === 400 || status === 415 || status === 422:
      return new CodedError(
        'k8s_invalid',
        `Kubernetes rejected the ${info.verb} of ${subject(info)} ${where(info)}${serverSays}`,
        { cause, details },
      );
    case TRANSIENT_STATUS.has(status):
      return new CodedError(
        'k8s_unavailable',
        `The Kubernetes API is unavailable: ${info.verb} ${subject(info)} ${where(info)} failed (${status}${serverSays}).`,
        { cause, details },
      );
    default:
      return new CodedError(
        'k8s_invalid',
        `Kubernetes answered ${status} to ${info.verb} ${subject(info)} ${where(info)}${serverSays}`,
        { cause, details },
      );
  }
}
