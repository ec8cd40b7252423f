import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

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
  };
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination(2));
}

/** A logger that drops everything: for the CLI drill (its output is the timeline) and unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
