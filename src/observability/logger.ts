import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { workContext } from './context.js';

export type { Logger } from 'pino';

// Secrets must never reach a log line, whatever shape they are logged in. Config secrets are also
// wrapped in `Secret` (config/secret.ts), which serialises as [redacted]; this list is the second net.
export const redactPaths = [
  'token',
  'secret',
  'password',
  'authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
  '*.botToken',
  '*.signingSecret',
  '*.appToken',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  '*.headers.authorization',
];

export function createLogger(
  opts: { level?: string; name?: string; destination?: DestinationStream } = {},
): Logger {
  const options: LoggerOptions = {
    name: opts.name ?? 'egress-responder',
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Every line written while a step or action runs says which (incident, step, action, phase),
    // wherever in the code it is logged; fields a child logger already binds are not repeated.
    mixin: (_obj, _level, logger) => {
      const work = workContext();
      if (!work) return {};
      const bound = logger.bindings();
      return Object.fromEntries(Object.entries(work).filter(([k, v]) => v !== undefined && !(k in bound)));
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination(2));
}

/** A logger that drops everything: for the CLI drill (its output is the timeline) and unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
