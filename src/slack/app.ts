import type { RequestListener } from 'node:http';
import { LogLevel, WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { AccessPolicy } from '../domain/access.js';
import { CodedError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import type { SlackRateLimit } from '../domain/slack-rate-limit.js';
import type { DrillStarter, EngineCommands, IncidentReader } from '../engine/ports.js';
import { App, HTTPReceiver } from './bolt.js';
import { ViewSeal } from './breakglass/seal.js';
import { countingFetch, type SlackErrorSink } from './counting-fetch.js';
import type { GrantPorts, SlackDeps } from './deps.js';
import { drillClients } from './drill-clients.js';
import { type ClaimOnce, dropRepeatedEvents } from './event-dedupe.js';
import { registerActions } from './listeners/actions.js';
import { registerBreakglass } from './listeners/breakglass.js';
import { registerCommands } from './listeners/commands.js';
import { registerEvents } from './listeners/events.js';
import { registerGrantActions } from './listeners/grants.js';
import { SlackPresenter } from './presenter.js';
import { createWorkQueue, DEFAULT_WORK_QUEUE, type WorkQueueOptions } from './work-queue.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string;
  /** Socket Mode instead of HTTP when set. */
  appToken?: string;
  /** Web API base URL ending in /api/ (a proxy or a test fake). */
  apiUrl?: string;
  incidentChannel: string;
  /** Drill incidents' threads (default: the incident channel). */
  drillChannel?: string;
  log: Logger;
  coalesceMs?: number;
  /** Who SLA reminders name when an incident has no commander (the config's responders). */
  responders?: readonly string[];
  /** Web API retries (429 honours Retry-After); tests set 0. */
  retries?: number;
  /** Told of every failed Web API call (the metrics count them by method and error). */
  onApiError?: SlackErrorSink;
  /** The work after each ack: how much at once, how much may wait (beyond that: "busy, retry"). */
  workQueue?: WorkQueueOptions;
  /** The Slack rate limit a drill incident's scenario injects (its thread gets a client of its own). */
  drillRateLimit?: (incident: Incident) => SlackRateLimit | undefined;
  /** The shared store's SET NX: an Events API event is handled by the first replica it reaches, once. */
  claimOnce: ClaimOnce;
}

export interface SlackApp {
  app: App;
  /** Give it to the journal as an observer; it presents once `listen` gives it the engine's ports. */
  presenter: SlackPresenter;
  /** Bolt's HTTP listener for /slack/events; undefined in Socket Mode. */
  http?: RequestListener;
  /**
   * Register the listeners and start presenting, on the engine's reader and commands, and break-glass's
   * ports where it is wired (`access` only decides which buttons a list shows).
   */
  listen(ports: {
    reader: IncidentReader;
    commands: EngineCommands;
    grants?: GrantPorts;
    access?: AccessPolicy;
    drills?: DrillStarter;
  }): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Bolt's logger interface over pino, so Slack's logs are JSON and redacted like ours. */
function boltLogger(log: Logger) {
  const l = log.child({ component: 'bolt' });
  return {
    debug: (...m: unknown[]) => l.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => l.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => l.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => l.error(m.map(String).join(' ')),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

async function whoAmI(
  client: WebClient,
  apiUrl: string | undefined,
): Promise<{ botId: string; userId: string }> {
  const where = apiUrl ?? 'https://slack.com/api/';
  try {
    const res = await client.auth.test();
    if (!res.user_id) throw new Error('auth.test returned no user_id');
    return { botId: res.bot_id ?? '', userId: res.user_id };
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    throw new CodedError(
      'config_invalid',
      code
        ? `Slack rejected SLACK_BOT_TOKEN (${code}): check the bot token of the installed app`
        : `cannot reach the Slack Web API at ${where}: ${(err as Error).message}${(err as { original?: { cause?: Error } }).original?.cause ? ` (${(err as { original: { cause: Error } }).original.cause.message})` : ''}`,
      { cause: err },
    );
  }
}

export async function createSlackApp(opts: SlackAppOptions): Promise<SlackApp> {
  const fetch = opts.onApiError ? countingFetch(opts.onApiError) : undefined;
  const clientOptions = {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    retryConfig: { retries: opts.retries ?? 5, factor: 2, maxTimeout: 30_000 },
    ...(fetch ? { fetch } : {}),
  };
  const logger = boltLogger(opts.log);
  const receiver = opts.appToken
    ? undefined
    : new HTTPReceiver({
        signingSecret: opts.signingSecret,
        endpoints: '/slack/events',
        logger,
        unhandledRequestTimeoutMillis: 3001,
      });
  // Check the token ourselves first, so a wrong token or an unreachable API is one clear error at
  // start (Bolt's own background check would reject unhandled and crash the process).
  const identity = await whoAmI(
    new WebClient(opts.botToken, { ...clientOptions, logger, retryConfig: { retries: 1 } }),
    opts.apiUrl,
  );
  const app = new App({
    token: opts.botToken,
    tokenVerificationEnabled: false,
    botId: identity.botId,
    botUserId: identity.userId,
    logger,
    clientOptions,
    ...(receiver
      ? { receiver }
      : {
          socketMode: true,
          appToken: opts.appToken,
          signingSecret: opts.signingSecret,
          installerOptions: { clientOptions },
        }),
  });
  const presenter = new SlackPresenter({
    client: app.client,
    channel: opts.incidentChannel,
    ...(opts.drillChannel ? { drillChannel: opts.drillChannel } : {}),
    log: opts.log,
    ...(opts.coalesceMs !== undefined ? { coalesceMs: opts.coalesceMs } : {}),
    ...(opts.responders ? { responders: opts.responders } : {}),
    ...(opts.drillRateLimit
      ? {
          clientFor: drillClients({
            token: opts.botToken,
            options: { ...clientOptions, logger },
            fetch: fetch ?? globalThis.fetch,
            log: opts.log,
            rateLimitOf: opts.drillRateLimit,
          }),
        }
      : {}),
  });
  const work = createWorkQueue(opts.workQueue ?? DEFAULT_WORK_QUEUE);
  dropRepeatedEvents(app, opts.claimOnce, opts.log);
  app.error(async (err) => {
    opts.log.error(
      { err: { name: err.name, message: err.message, code: err.code } },
      'unhandled Slack listener error',
    );
  });
  return {
    app,
    presenter,
    ...(receiver ? { http: receiver.requestListener } : {}),
    listen(ports) {
      const deps: SlackDeps = {
        ...ports,
        presenter,
        client: app.client,
        log: opts.log,
        incidentChannel: opts.incidentChannel,
        seal: new ViewSeal(opts.signingSecret),
        work,
      };
      registerCommands(app, deps);
      registerActions(app, deps);
      registerEvents(app, deps);
      registerBreakglass(app, deps);
      registerGrantActions(app, deps);
      presenter.start(ports);
    },
    start: async () => {
      if (!receiver) await app.start();
    },
    stop: async () => {
      await work.idle();
      await presenter.flush();
      if (!receiver) await app.stop();
    },
  };
}
