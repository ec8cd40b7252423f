import { z } from 'zod';
import type { FieldIssue } from './errors.js';

/** Where an alert came from; parsers for each input format produce the same EgressAlert. */
export const AlertOrigin = z.enum(['egress-event', 'alertmanager', 'falcosidekick']);
export type AlertOrigin = z.infer<typeof AlertOrigin>;

export const DestinationType = z.enum(['service', 'fqdn', 'ip']);
export type DestinationType = z.infer<typeof DestinationType>;

/** RFC 3339 UTC timestamp with milliseconds, e.g. 2026-11-25T14:03:12.123Z. */
export const UtcTimestamp = z.iso.datetime({ precision: 3 });

export const AlertSource = z.strictObject({
  service: z.string().min(1),
  namespace: z.string().min(1),
  /** Workload identity: a SPIFFE id, a service account, or absent when the sender did not know it. */
  identity: z.string().min(1).optional(),
  /** The pod that was seen, when the sender names one (Falco does). */
  pod: z.string().min(1).optional(),
});
export type AlertSource = z.infer<typeof AlertSource>;

export const AlertDestination = z.strictObject({
  type: DestinationType,
  name: z.string().min(1),
  /** Required for `service` destinations. */
  namespace: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535),
  /** Lower-case: tcp, udp, http, https, grpc, tls … */
  protocol: z.string().min(1),
});
export type AlertDestination = z.infer<typeof AlertDestination>;

export const EgressAlert = z.strictObject({
  origin: AlertOrigin,
  /** `firing` opens or folds into an incident; `resolved` (Alertmanager) is recorded only. */
  state: z.enum(['firing', 'resolved']),
  event: z.string().optional(),
  source: AlertSource,
  destination: AlertDestination,
  decision: z.string().optional(),
  policyId: z.string().optional(),
  traceId: z.string().optional(),
  /** The sender's id for this report: the same id seen again is a retry, not a new observation. */
  requestId: z.string().optional(),
  /** How many observations this one alert stands for (Alertmanager groups may carry a count). */
  count: z.number().int().positive(),
  firstSeen: UtcTimestamp,
  lastSeen: UtcTimestamp,
  /** A one-line description from the sender (Falco output, Alertmanager summary). */
  summary: z.string().optional(),
  /** Other sender fields worth keeping for forensics (labels, rule, priority, cmdline …). */
  extra: z.record(z.string(), z.string()),
});
export type EgressAlert = z.infer<typeof EgressAlert>;

/** One item of a request body: a valid alert, or the reasons it is not one. `at` is its path (`[3]`, `alerts[1]`, `line 4`). */
export type ParsedItem =
  | { index: number; at: string; alert: EgressAlert; issues?: undefined }
  | { index: number; at: string; alert?: undefined; issues: FieldIssue[] };

/** A batch as received on the intake endpoint, after format detection and parsing. */
export interface ParsedBatch {
  format: AlertOrigin;
  /** The valid alerts, in body order. */
  alerts: EgressAlert[];
  /** Every item in body order, valid or not: what the per-alert answer is built from. */
  items: ParsedItem[];
}

/** How a destination reads in one line: `service orders-api.prod`, `fqdn evil.example`, `ip 203.0.113.9`. */
export function describeDestination(d: AlertDestination): string {
  const name = d.type === 'service' && d.namespace ? `${d.name}.${d.namespace}` : d.name;
  return `${d.type} ${name}:${d.port}/${d.protocol}`;
}

export function describeSource(s: AlertSource): string {
  return `${s.service}.${s.namespace}${s.identity ? ` (${s.identity})` : ''}`;
}
