// The OpenTelemetry SDK, started only when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans go to that
// collector over OTLP/HTTP (JSON), batched. Loaded with import() so a process without the variable
// never loads the SDK at all. The exporter reads the standard OTEL_* variables itself (endpoint,
// headers, timeout); OTEL_SERVICE_NAME names the service (default egress-responder).
import { CodedError } from '../domain/errors.js';
import type { Logger } from './logger.js';

export interface Tracing {
  /** Export what is still buffered, then stop (bounded by the exporter's timeout). */
  shutdown(): Promise<void>;
}

export async function startTracing(env: NodeJS.ProcessEnv, log: Logger): Promise<Tracing | undefined> {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!endpoint) return undefined;
  let origin: string;
  try {
    origin = new URL(endpoint).origin;
  } catch {
    throw new CodedError('config_invalid', 'OTEL_EXPORTER_OTLP_ENDPOINT is not a URL', {
      issues: [
        {
          path: 'OTEL_EXPORTER_OTLP_ENDPOINT',
          message: 'expected an http(s) URL such as http://otel-collector:4318',
        },
      ],
    });
  }
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  const version = env.npm_package_version;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME ?? 'egress-responder',
      ...(version ? { 'service.version': version } : {}),
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  // Only where spans go: the endpoint has no credentials (those are in OTEL_EXPORTER_OTLP_HEADERS,
  // which is never logged).
  log.info({ endpoint: origin }, 'tracing: exporting spans over OTLP/HTTP');
  return {
    shutdown: () =>
      provider
        .shutdown()
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'tracing: flush failed')),
  };
}
