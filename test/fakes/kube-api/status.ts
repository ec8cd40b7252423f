// Kubernetes `Status` failure bodies, shaped like the real API server's.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason: string; message: string; field?: string }[];
  retryAfterSeconds?: number;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  details?: StatusDetails;
  code: number;
}

const REASON_BY_CODE: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function reasonFor(code: number): StatusReason {
  return REASON_BY_CODE[code] ?? (code >= 500 ? 'InternalError' : 'BadRequest');
}

/** Thrown inside the fake's handlers; the server turns it into the HTTP answer. */
export class StatusError extends Error {
  readonly status: KubeStatus;
  readonly headers: Record<string, string>;
  constructor(
    code: number,
    message: string,
    opts: { reason?: StatusReason; details?: StatusDetails; headers?: Record<string, string> } = {},
  ) {
    super(message);
    const details = opts.details && Object.keys(opts.details).length > 0 ? opts.details : undefined;
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: opts.reason ?? reasonFor(code),
      ...(details ? { details } : {}),
      code,
    };
    this.headers = opts.headers ?? {};
  }
}

/** `details` as the real server fills them for errors about one resource: kind is the resource plural. */
export function resourceDetails(group: string, plural: string, name?: string): StatusDetails {
  return { ...(name === undefined ? {} : { name }), ...(group === '' ? {} : { group }), kind: plural };
}

/** `pods "x"` or `deployments.apps "x"`, as the real messages qualify a resource. */
export function qualified(group: string, plural: string, name?: string): string {
  const res = group === '' ? plural : `${plural}.${group}`;
  return name === undefined ? res : `${res} "${name}"`;
}

export function notFound(group: string, plural: string, name: string): StatusError {
  return new StatusError(404, `${qualified(group, plural, name)} not found`, {
    details: resourceDetails(group, plural, name),
  });
}

export function alreadyExists(group: string, plural: string, name: string): StatusError {
  return new StatusError(409, `${qualified(group, plural, name)} already exists`, {
    reason: 'AlreadyExists',
    details: resourceDetails(group, plural, name),
  });
}

export function conflict(group: string, plural: string, name: string): StatusError {
  return new StatusError(
    409,
    `Operation cannot be fulfilled on ${qualified(group, plural, name)}: the object has been modified; please apply your changes to the latest version and try again`,
    { reason: 'Conflict', details: resourceDetails(group, plural, name) },
  );
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, message);
}

export function invalid(
  group: string,
  kind: string,
  name: string,
  causes: { field: string; message: string; reason?: string }[],
): StatusError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const details: StatusDetails = {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes: causes.map((c) => ({
      reason: c.reason ?? 'FieldValueInvalid',
      message: c.message,
      field: c.field,
    })),
  };
  return new StatusError(422, `${kind} "${name}" is invalid: ${causes.length > 1 ? `[${text}]` : text}`, {
    details,
  });
}

/** The message the real authorizer gives, e.g. `pods "x" is forbidden: User "…" cannot patch resource "pods" in API group "" in the namespace "prod"`. */
export function forbiddenMessage(a: {
  user: string;
  verb: string;
  group: string;
  plural: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}): string {
  const resource = a.subresource ? `${a.plural}/${a.subresource}` : a.plural;
  const subject = a.name === undefined ? qualified(a.group, resource) : qualified(a.group, resource, a.name);
  const scope = a.namespace === undefined ? 'at the cluster scope' : `in the namespace "${a.namespace}"`;
  return `${subject} is forbidden: User "${a.user}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`;
}
