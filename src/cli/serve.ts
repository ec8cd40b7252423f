import { loadConfig } from '../config/load.js';
import { startServer } from '../main.js';
import { createLogger } from '../observability/logger.js';
import type { Io } from './io.js';

/** Run until SIGTERM/SIGINT; then stop taking requests, flush Slack updates and close the store. */
export async function serveCommand(args: { config?: string }, io: Io): Promise<number> {
  const config = await loadConfig(io.env, args.config);
  const log = createLogger({ level: config.env.logLevel });
  // A stray rejection in a listener is logged with its incident context, never a crash mid-incident.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
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
