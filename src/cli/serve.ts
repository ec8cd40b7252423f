import { loadConfig } from '../config/load.js';
import { startServer } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { installProcessGuards } from '../server/process-guard.js';
import type { Io } from './io.js';

/** Run until SIGTERM/SIGINT; then stop taking requests, flush Slack updates and close the store. */
export async function serveCommand(args: { config?: string }, io: Io): Promise<number> {
  const config = await loadConfig(io.env, args.config);
  const log = createLogger({ level: config.env.logLevel });
  // A stray rejection is logged (one line, no request dump) and the process goes on; an uncaught
  // exception is one fatal line and exit 1, so a supervisor restarts a process in an unknown state.
  installProcessGuards(log);
  const running = await startServer(config, log);
  io.err(`egress-responder listening on :${running.port} (store: ${running.store.kind})`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('shutting down');
  await running.close();
  return 0;
}
