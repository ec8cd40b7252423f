import { z } from 'zod';
import { DEFAULT_QUARANTINE_KEY, DEFAULT_QUARANTINE_VALUE } from '../actions/k8s/contain/common.js';
import { CodedError, type FieldIssue, showValue } from '../domain/errors.js';
import { GrantSpec, LabelMap } from '../domain/grant.js';
import { type Incident, isActive } from '../domain/incident.js';
import { assertNamespaceAllowed, type NamespacePolicy } from '../domain/namespace-policy.js';
import { zodIssues } from '../domain/zod-issues.js';
import { shortDuration } from './render.js';
import type { BreakglassConfig } from './settings.js';

// A request as people typed it (modal, CLI), checked before anything is stored or rendered: the
// shape with zod (each problem names its field, the value and what was expected), then the rules that
// need the config and the incident. The cluster's half (do the pods exist, are they isolated) is
// preflight.ts.

export interface ValidRequest {
  incidentId: string;
  spec: GrantSpec;
  /** Egress exceptions: the source pods' labels (for `quarantined`, resolved from the incident). */
  sourceSelector?: Record<string, string>;
  durationMs: number;
  reason: string;
  ticket?: string;
}

const optionalText = (max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z
      .string()
      .trim()
      .max(max, { error: `expected at most ${max} characters` })
      .optional(),
  );

const RequestShape = z.object({
  incidentId: z.string().min(1, { error: 'expected the incident id' }).max(200),
  spec: z.unknown(),
  durationMs: z
    .number({ error: 'expected a duration in milliseconds' })
    .int({ error: 'expected a whole number of milliseconds' })
    .positive({ error: 'expected a duration longer than 0' }),
  reason: z
    .string({ error: 'a reason is required' })
    .trim()
    .min(1, { error: 'a reason is required' })
    .max(2000, { error: 'expected at most 2000 characters' }),
  ticket: optionalText(200),
});

export const invalid = (message: string, issues: FieldIssue[]): CodedError =>
  new CodedError('command_invalid', message, { issues });

/** The shape of the request and of its spec; every problem at once, each naming its field. */
export function parseRequestShape(input: unknown): Omit<ValidRequest, 'sourceSelector'> {
  const outer = RequestShape.safeParse(input);
  const issues: FieldIssue[] = outer.success ? [] : zodIssues(outer.error, input);
  const rawSpec = (input as { spec?: unknown } | null)?.spec;
  const spec = GrantSpec.safeParse(rawSpec);
  if (!spec.success) issues.push(...zodIssues(spec.error, rawSpec, 'spec.'));
  issues.push(...protoKeys(rawSpec, 'spec'));
  if (!outer.success || !spec.success || issues.length > 0)
    throw invalid('invalid break-glass request', issues);
  const { incidentId, durationMs, reason, ticket } = outer.data;
  return { incidentId, spec: spec.data, durationMs, reason, ...(ticket ? { ticket } : {}) };
}

/**
 * Own `__proto__` keys (JSON.parse makes them) are skipped by zod's record parsing rather than
 * refused: in a selector that would silently widen what it selects. Refused here, by path.
 */
function protoKeys(value: unknown, path: string): FieldIssue[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.keys(value).flatMap((key) =>
    key === '__proto__'
      ? [{ path: `${path}.${key}`, message: 'not a Kubernetes label key or a field of a request' }]
      : protoKeys(
          (value as Record<string, unknown>)[key],
          Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`,
        ),
  );
}

/** The labels of an incident's quarantined pods: what quarantine and the isolate remedy leave out of every allow. */
export function quarantinedSelector(incident: Incident): Record<string, string> {
  const service = incident.alert.source.service;
  const labels = { [DEFAULT_QUARANTINE_KEY]: DEFAULT_QUARANTINE_VALUE, app: service };
  if (!LabelMap.safeParse(labels).success) {
    throw invalid(`cannot select the quarantined pods of ${incident.id}`, [
      {
        path: 'spec.source',
        message:
          'the incident source service is not a Kubernetes label value, so app=<service> cannot select its pods',
        value: showValue(service),
      },
    ]);
  }
  return labels;
}

/**
 * The rules past the shape: the incident exists and is active, the namespace is one the bot may act
 * in (and the incident's, where the grant is about the incident's pods), the duration is within the
 * kind's maximum, the ClusterRole is on the allow-list, an FQDN has a CNI that enforces it.
 */
export function checkRequest(
  req: Omit<ValidRequest, 'sourceSelector'>,
  incident: Incident | undefined,
  config: BreakglassConfig,
  namespaces: NamespacePolicy,
): ValidRequest {
  if (!incident) throw new CodedError('incident_not_found', `no incident ${req.incidentId}`);
  if (!isActive(incident))
    throw new CodedError(
      'incident_closed',
      `incident ${incident.id} is closed: break-glass is for active incidents`,
    );
  const { spec } = req;
  const max = config.maxDuration[spec.kind];
  if (req.durationMs > max) {
    throw invalid('invalid break-glass request', [
      {
        path: 'durationMs',
        message: `expected at most ${shortDuration(max)} (breakglass.maxDuration.${spec.kind})`,
        value: `${req.durationMs} (${shortDuration(req.durationMs)})`,
      },
    ]);
  }
  assertNamespaceAllowed(namespaces, spec.namespace);
  const incidentNs = incident.alert.source.namespace;
  const sameNamespace = (why: string) => {
    if (spec.namespace !== incidentNs) {
      throw invalid('invalid break-glass request', [
        {
          path: 'spec.namespace',
          message: `expected ${incidentNs}: ${why}`,
          value: showValue(spec.namespace),
        },
      ]);
    }
  };
  if (spec.kind === 'access-elevation') {
    sameNamespace(`an access elevation is granted in the incident's namespace`);
    if (!config.accessRoles.includes(spec.clusterRole)) {
      throw invalid('invalid break-glass request', [
        {
          path: 'spec.clusterRole',
          message: `expected one of the ClusterRoles on breakglass.accessRoles (${config.accessRoles.join(', ') || 'none'}); nothing else can be granted`,
          value: showValue(spec.clusterRole),
        },
      ]);
    }
    return { ...req };
  }
  if (spec.destination.kind === 'fqdn' && config.fqdnPolicy !== 'cilium') {
    throw invalid('invalid break-glass request', [
      {
        path: 'spec.destination.fqdn',
        message:
          'FQDN destinations need a CNI that enforces FQDN policy (breakglass.fqdnPolicy: cilium); give the destination as a CIDR instead',
        value: showValue(spec.destination.fqdn),
      },
    ]);
  }
  if (spec.source.kind === 'quarantined') {
    sameNamespace(`the quarantined pods of ${incident.id} are in ${incidentNs}`);
    return { ...req, sourceSelector: quarantinedSelector(incident) };
  }
  return { ...req, sourceSelector: { ...spec.source.podSelector } };
}
