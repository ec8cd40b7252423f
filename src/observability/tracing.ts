// Spans for alert intake, playbook steps and actions. Only @opentelemetry/api is used here: without
// an SDK (tracing-sdk.ts, started by serve when OTEL_EXPORTER_OTLP_ENDPOINT is set) every call is a
// no-op, so the engine and the intake pay nothing when tracing is off.
import { type Attributes, type Link, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { EgressAlert } from '../domain/alert.js';
import { type WorkContext, withWorkContext } from './context.js';

const tracer = () => trace.getTracer('egress-responder');

/** A W3C trace id: 32 lower-case hex digits, not all zero. */
const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;

/** The seed's egress attributes (issue 13), from what the alert said. Absent values are left out. */
export function egressAttributes(alert: EgressAlert): Attributes {
  const attrs: Attributes = {
    'egress.dst.service': alert.destination.name,
    'egress.dst.type': alert.destination.type,
    'egress.protocol': alert.destination.protocol,
    'src.service': alert.source.service,
    'src.namespace': alert.source.namespace,
  };
  const optional: [string, string | undefined][] = [
    ['egress.dst.namespace', alert.destination.namespace],
    ['egress.policy_id', alert.policyId],
    ['src.identity', alert.source.identity],
    ['egress.trace_id', alert.traceId],
  ];
  for (const [k, v] of optional) if (v !== undefined) attrs[k] = v;
  return attrs;
}

/**
 * A link to the sender's trace when the alert carries a valid W3C trace id. The sender's span id is
 * not known (alerts carry a trace id only), so the link names the trace with an all-zero span id;
 * backends show the trace, and `egress.trace_id` holds the id as sent whatever its shape.
 */
export function alertLinks(alert: EgressAlert): Link[] {
  const id = alert.traceId?.toLowerCase();
  if (!id || !TRACE_ID.test(id)) return [];
  return [
    {
      context: { traceId: id, spanId: '0000000000000000', traceFlags: 1, isRemote: true },
      attributes: { 'link.reason': 'alert.trace_id' },
    },
  ];
}

/**
 * Run `fn` in a span named `name` and in the work context `fields` (so its log lines carry them).
 * A throw ends the span as an error with the error's message; the error goes on unchanged.
 */
export function inSpan<T>(
  name: string,
  opts: { attributes?: Attributes; links?: Link[]; work?: WorkContext },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const run = () =>
    tracer().startActiveSpan(
      name,
      {
        ...(opts.attributes ? { attributes: opts.attributes } : {}),
        ...(opts.links ? { links: opts.links } : {}),
      },
      async (span) => {
        try {
          return await fn(span);
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  return opts.work ? withWorkContext(opts.work, run) : run();
}

/** A step's or an action's span: the step/action, the incident and the alert's egress attributes. */
export function inIncidentSpan<T>(
  name: string,
  incident: { id: string; alert: EgressAlert },
  work: Omit<WorkContext, 'incident'>,
  fn: () => Promise<T>,
): Promise<T> {
  const attributes: Attributes = { 'incident.id': incident.id, ...egressAttributes(incident.alert) };
  for (const [k, v] of Object.entries(work)) if (v !== undefined) attributes[`playbook.${k}`] = v;
  return inSpan(
    name,
    { attributes, links: alertLinks(incident.alert), work: { incident: incident.id, ...work } },
    fn,
  );
}

/**
 * One span per alert of an intake request (children of the request's span), each ended with what
 * became of its alert (`alert.status`: opened, folded, duplicate, rejected …, and the incident id).
 */
export function alertSpans(items: readonly { index: number; alert?: EgressAlert | undefined }[]): {
  end(results: readonly { index: number; status: string; id: string | null }[]): void;
} {
  const spans = new Map<number, Span>();
  for (const item of items) {
    if (!item.alert) continue;
    spans.set(
      item.index,
      tracer().startSpan('alert.record', {
        attributes: {
          'alert.index': item.index,
          'alert.origin': item.alert.origin,
          ...egressAttributes(item.alert),
        },
        links: alertLinks(item.alert),
      }),
    );
  }
  return {
    end(results) {
      for (const r of results) {
        const span = spans.get(r.index);
        if (!span) continue;
        span.setAttribute('alert.status', r.status);
        if (r.id) span.setAttribute('incident.id', r.id);
        if (r.status === 'not_recorded' || r.status === 'unknown')
          span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        spans.delete(r.index);
      }
      for (const span of spans.values()) span.end();
    },
  };
}
