import type { Logger } from 'pino';

// Last-resort handlers for the process. An unhandled rejection is a bug in one piece of work, not a
// corrupted process: log it (one line) and carry on serving. An uncaught exception leaves the process
// in an unknown state: log one clear line and exit non-zero so the supervisor (Kubernetes) restarts it.

/** Exit status after an uncaught exception (what Node itself uses). */
export const FATAL_EXIT_CODE = 1;

/** The part of `process` the guards use; tests pass an EventEmitter with an `exit` stub. */
export type GuardedProcess = Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;

/**
 * An error reduced to what may reach a log line: name, message, code, the top of the stack. Never its
 * enumerable properties (Bolt's errors carry the request and response, client errors the raw bytes,
 * store errors their config). Log it under a key other than `err`: pino's err serializer would add
 * those properties back.
 */
export function errorForLog(reason: unknown): Record<string, unknown> {
  if (reason instanceof Error) {
    const code = (reason as { code?: unknown }).code;
    return {
      type: reason.name,
      message: reason.message.slice(0, 500),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(reason.stack ? { stack: reason.stack.split('\n').slice(0, 10).join('\n') } : {}),
    };
  }
  // A thrown non-Error: its type only (a string or object could be anything, a token included).
  return { type: reason === null ? 'null' : typeof reason };
}

/** Install the handlers; returns a function that removes them again. */
export function installProcessGuards(log: Logger, proc: GuardedProcess = process): () => void {
  let exiting = false;
  const onRejection = (reason: unknown) => {
    log.error(
      { kind: 'unhandledRejection', error: errorForLog(reason) },
      'unhandled promise rejection (continuing)',
    );
  };
  const onException = (err: unknown, origin: string) => {
    if (exiting) return;
    exiting = true;
    try {
      log.fatal(
        { kind: 'uncaughtException', origin, error: errorForLog(err), exitCode: FATAL_EXIT_CODE },
        'uncaught exception: exiting so the supervisor restarts the process',
      );
      log.flush?.();
    } catch {
      // the exit below matters more than the line
    }
    proc.exit(FATAL_EXIT_CODE);
  };
  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);
  return () => {
    proc.off('unhandledRejection', onRejection);
    proc.off('uncaughtException', onException);
  };
}
