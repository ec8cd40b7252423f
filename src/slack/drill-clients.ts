import { type FetchFunction, WebClient, type WebClientOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Incident } from '../domain/incident.js';
import type { SlackRateLimit } from '../domain/slack-rate-limit.js';
import type { EngineCommands } from '../engine/ports.js';
import { rateLimitingFetch } from './rate-limit-fetch.js';

// A drill incident whose scenario injects a Slack rate limit gets a WebClient of its own, with the
// limit under it. The WebClient pauses its own queue for Retry-After, so only that drill's thread
// waits: the real incidents' calls go through the bot's client, never delayed by a drill. Each limit
// met (a 429 answered, the call sent again and accepted) is recorded through the engine's command.

/** The client a drill incident's thread is presented through; undefined: the bot's own client. */
export type DrillClientFor = (
  incident: Incident,
  commands: Pick<EngineCommands, 'recordSlackRateLimit'> | undefined,
) => WebClient | undefined;

/** Drill clients kept (one per drill incident under a limit; the oldest is dropped beyond this). */
const KEEP = 50;

export function drillClients(opts: {
  token: string;
  /** The bot's client options (API URL, logger, retries); the transport is `fetch`. */
  options: WebClientOptions;
  fetch: FetchFunction;
  log: Logger;
  /** The rate limit a drill incident's scenario injects, if any. */
  rateLimitOf: (incident: Incident) => SlackRateLimit | undefined;
}): DrillClientFor {
  const clients = new Map<string, WebClient>();
  return (incident, commands) => {
    if (!incident.drill) return undefined;
    const kept = clients.get(incident.id);
    if (kept) return kept;
    const rule = opts.rateLimitOf(incident);
    if (!rule) return undefined;
    const retries = Math.max(1, opts.options.retryConfig?.retries ?? 1);
    const client = new WebClient(opts.token, {
      ...opts.options,
      // Honouring Retry-After needs at least one retry, whatever the bot's own client is given.
      retryConfig: { ...opts.options.retryConfig, retries },
      fetch: rateLimitingFetch(
        rule,
        (met) =>
          void commands
            ?.recordSlackRateLimit(incident.id, met)
            .catch((err: unknown) =>
              opts.log.warn({ err, incident: incident.id }, 'slack: a met rate limit was not recorded'),
            ),
        opts.fetch,
      ),
    });
    clients.set(incident.id, client);
    if (clients.size > KEEP) clients.delete(clients.keys().next().value!);
    return client;
  };
}
