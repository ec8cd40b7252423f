import { loadConfig } from '../config/load.js';
import { startServer } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { startTracing } from '../observability/tracing-sdk.js';
import { startMemoryReducer } from '../server/memory-reducer.js';
import { installProcessGuards } from '../server/process-guard.js';
import type { Io } from './io.js';

/** Run until SIGTERM/SIGINT; then stop taking requests, flush Slack updates and close the store. */
export async function serveCommand(args: { config?: string }, io: Io): Promise<number> {
  const config = await loadConfig(io.env, args.config);
  const log = createLogger({ level: config.env.logLevel });
  // A stray rejection is logged (one line, no request dump) and the process goes on; an uncaught
  // exception is one fatal line and exit 1, so a supervisor restarts a process in an unknown state.
  installProcessGuards(log);
  // Before anything that makes spans; nothing is loaded unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const tracing = await startTracing(io.env, log);
  const running = await startServer(config, log);
  // After an alert storm, give the heap's garbage back once things are quiet (memory-reducer.ts).
  const reducer = startMemoryReducer(log);
  // Listen for the signals before saying we listen: a SIGTERM sent the moment the line is read (a
  // supervisor, a test) must find the handler, not the default action that kills with no shutdown.
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  io.err(`egress-responder listening on :${running.port} (store: ${running.store.kind})`);
  await signalled;
  // Leave the way a pod should: readiness 503 first (endpoints drop us), then stop taking requests,
  // let runs in flight finish or park (a parked run is resumed from the store by another replica),
  // flush and close; bounded, so the kubelet's SIGKILL never finds us half-way.
  const { drain, grace } = config.shutdown;
  const deadline = setTimeout(() => {
    log.error({ graceMs: grace }, 'shutdown took longer than shutdown.grace; exiting now');
    process.exit(1);
  }, grace);
  deadline.unref();
  log.info({ drainMs: drain }, 'shutting down: readiness is 503 from now on');
  running.drain();
  reducer.stop();
  await new Promise((r) => setTimeout(r, drain));
  await running.close();
  await tracing?.shutdown();
  clearTimeout(deadline);
  log.info('shut down');
  return 0;
}
