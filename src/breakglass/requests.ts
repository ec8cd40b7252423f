import { createHash, randomBytes } from 'node:crypto';
import { CodedError } from '../domain/errors.js';
import type { Grant } from '../domain/grant.js';
import type { Incident } from '../domain/incident.js';
import type { Caller } from '../engine/ports.js';
import type { GrantEvents } from './events.js';
import type { Lifecycle } from './lifecycle.js';
import type { GrantRequestInput } from './ports.js';
import { assertIsolated, readSource } from './preflight.js';
import { objectRefs } from './render.js';
import type { BreakglassDeps } from './settings.js';
import { checkRequest, parseRequestShape, type ValidRequest } from './validate.js';

// From what a person typed to a pending grant record: validated (shape, access, rules, and with a
// cluster the source pods), then drafted with its id, its request window and the objects it will create.

/** Shape, access, the rules, and (with a cluster) the source pods: everything before a grant is stored. */
export async function validateRequest(
  d: BreakglassDeps,
  events: GrantEvents,
  input: GrantRequestInput,
  caller: Caller,
  recordRefusal: boolean,
): Promise<{ valid: ValidRequest; incident: Incident }> {
  const shape = parseRequestShape(input);
  const incident = await events.incident(shape.incidentId);
  if (!d.access.has(caller.actor, 'responder')) {
    return events.refuse(
      recordRefusal ? incident : undefined,
      undefined,
      caller,
      'request break-glass',
      'not_authorized',
      'it needs the responder role',
    );
  }
  const valid = checkRequest(shape, incident, d.config, d.namespaces);
  const inc = incident as Incident;
  if (!d.cluster && !inc.drill) {
    throw new CodedError(
      'cluster_unavailable',
      'No Kubernetes cluster is configured: a grant could never be applied.',
    );
  }
  if (d.cluster && valid.spec.kind === 'egress-exception') {
    assertIsolated(await readSource(d.cluster, valid.spec.namespace, valid.sourceSelector ?? {}));
  }
  return { valid, incident: inc };
}

export function draftGrant(
  d: BreakglassDeps,
  life: Lifecycle,
  valid: ValidRequest,
  incident: Incident,
  caller: Caller,
  id: string,
): Grant {
  const now = d.clock.now();
  const grant: Grant = {
    id,
    version: 0,
    incidentId: incident.id,
    drill: incident.drill,
    spec: valid.spec,
    ...(valid.sourceSelector ? { sourceSelector: valid.sourceSelector } : {}),
    durationMs: valid.durationMs,
    reason: valid.reason,
    ...(valid.ticket ? { ticket: valid.ticket } : {}),
    requester: caller.actor,
    requestedAt: new Date(now).toISOString(),
    requestExpiresAt: new Date(now + d.config.requestTtl).toISOString(),
    approvalsRequired: d.config.approvals,
    approvals: [],
    status: 'pending',
    objects: [],
  };
  grant.objects = objectRefs(life.render(grant));
  return grant;
}

/** The same request delivered twice is one grant: its id comes from the request id when there is one. */
export function newGrantId(caller: Caller, incidentId: string): string {
  if (!caller.requestId) return `bg-${randomBytes(5).toString('hex')}`;
  const digest = createHash('sha256')
    .update(`${incidentId}\0${caller.actor}\0${caller.requestId}`)
    .digest('hex');
  return `bg-${digest.slice(0, 10)}`;
}
