import { createHmac } from 'node:crypto';
import { parseConfig, readEnv } from '../../src/config/load.js';
import { packageRoot } from '../../src/config/paths.js';
import type { Cluster } from '../../src/k8s/cluster.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { silentLogger } from '../../src/observability/logger.js';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api/index.js';

// One running bot (real Bolt over HTTP, real engine and server) against the fake Slack Web API, with
// correctly signed requests: what the Slack end-to-end tests share.

export const SIGNING_SECRET = 'test-signing-secret';
export const ALERT_TOKEN = 'test-alert-token';
export const CHANNEL = 'C0INCIDENT';

export const defaultConfigYaml = `
slack:
  incidentChannel: ${CHANNEL}
  responders: [U0AAA, U0BBB]
  approvers: [U0CCC, U0DDD]
`;

export interface BootOptions {
  env?: Record<string, string>;
  configYaml?: string;
  cluster?: Cluster;
  slackRetries?: number;
  fake?: FakeSlackApi;
}

export interface Bot {
  fake: FakeSlackApi;
  server: RunningServer;
  base: string;
  postAlerts(body: unknown): Promise<Response>;
  /** POST an alert and return the incident id it went to. */
  openIncident(body: unknown): Promise<string>;
  slash(user: string, text: string): Promise<{ res: Response; responseUrl: string }>;
  /** A correctly signed /egress request as bytes and headers (to send, or send again exactly). */
  slashRequest(
    user: string,
    text: string,
    opts?: { responseUrl?: string; ageSeconds?: number },
  ): { body: string; headers: Record<string, string>; responseUrl: string };
  click(
    user: string,
    actionId: string,
    value: string,
    opts?: { channel?: string },
  ): Promise<{ res: Response; responseUrl: string }>;
  /** POST a body to /slack/events with these headers, as they are (replays, forgeries). */
  rawSlack(body: string, headers: Record<string, string>): Promise<Response>;
  event(event: Record<string, unknown>, opts?: { eventId?: string; retryNum?: number }): Promise<Response>;
  /** What the bot answered on a response_url (waits briefly for it). */
  responsesTo(url: string): Promise<string[]>;
  rootMessages(): ReturnType<FakeSlackApi['messages']>;
  close(): Promise<void>;
}

/** The egress event the Slack tests open incidents with: payments-api in prod calling a paste site. */
export const egressAlert = (over: Record<string, unknown> = {}) => ({
  src_service: 'payments-api',
  src_namespace: 'prod',
  dst_type: 'fqdn',
  dst_name: 'paste.exfil.example.net',
  dst_port: 443,
  protocol: 'https',
  ...over,
});

export function signed(
  body: string,
  opts: { secret?: string; ageSeconds?: number; contentType?: string } = {},
) {
  const ts = Math.floor(Date.now() / 1000) - (opts.ageSeconds ?? 0);
  const sig = createHmac('sha256', opts.secret ?? SIGNING_SECRET)
    .update(`v0:${ts}:${body}`)
    .digest('hex');
  return {
    'Content-Type': opts.contentType ?? 'application/x-www-form-urlencoded',
    'X-Slack-Request-Timestamp': String(ts),
    'X-Slack-Signature': `v0=${sig}`,
  };
}

export async function bootBot(opts: BootOptions = {}): Promise<Bot> {
  const fake = opts.fake ?? (await startFakeSlackApi());
  const env = readEnv({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
    SLACK_API_URL: fake.url,
    PORT: '0',
    ...opts.env,
  });
  const config = parseConfig(opts.configYaml ?? defaultConfigYaml, 'test-config.yaml', packageRoot, env);
  const server = await startServer(config, silentLogger(), {
    coalesceMs: 30,
    slackRetries: opts.slackRetries ?? 0,
    ...(opts.cluster ? { cluster: opts.cluster } : {}),
  });
  const base = `http://127.0.0.1:${server.port}`;
  const slackPost = (body: string, headers: Record<string, string>) =>
    fetch(`${base}/slack/events`, { method: 'POST', headers, body });

  const bot: Bot = {
    fake,
    server,
    base,
    postAlerts: (body) =>
      fetch(`${base}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
        body: JSON.stringify(body),
      }),
    async openIncident(body) {
      const res = await bot.postAlerts(body);
      if (res.status !== 202) throw new Error(`alert not accepted: ${res.status} ${await res.text()}`);
      const { incidents } = (await res.json()) as { incidents: { id: string }[] };
      return incidents[0]!.id;
    },
    async slash(user, text) {
      const { body, headers, responseUrl } = bot.slashRequest(user, text);
      return { res: await slackPost(body, headers), responseUrl };
    },
    slashRequest(user, text, o = {}) {
      const responseUrl = o.responseUrl ?? fake.responseUrl(`cmd-${Math.random()}`);
      const body = new URLSearchParams({
        command: '/egress',
        text,
        user_id: user,
        user_name: user.toLowerCase(),
        channel_id: CHANNEL,
        team_id: fake.team.id,
        response_url: responseUrl,
        trigger_id: `${Date.now()}.${Math.random().toString(36).slice(2)}`,
      }).toString();
      return { body, headers: signed(body, { ageSeconds: o.ageSeconds ?? 0 }), responseUrl };
    },
    async click(user, actionId, value, o = {}) {
      const responseUrl = fake.responseUrl(`click-${Math.random()}`);
      const payload = {
        type: 'block_actions',
        user: { id: user, username: user.toLowerCase(), team_id: fake.team.id },
        team: { id: fake.team.id, domain: 'test' },
        channel: { id: o.channel ?? CHANNEL, name: 'incidents' },
        container: { type: 'message', channel_id: o.channel ?? CHANNEL, message_ts: '1.1' },
        trigger_id: `${Date.now()}.${Math.random().toString(36).slice(2)}`,
        response_url: responseUrl,
        actions: [
          { type: 'button', action_id: actionId, block_id: 'b', value, action_ts: `${Date.now() / 1000}` },
        ],
      };
      const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
      return { res: await slackPost(body, signed(body)), responseUrl };
    },
    rawSlack: (body, headers) => slackPost(body, headers),
    event(event, o = {}) {
      const body = JSON.stringify({
        type: 'event_callback',
        team_id: fake.team.id,
        api_app_id: fake.bot.appId,
        event_id: o.eventId ?? `Ev${Math.random().toString(36).slice(2, 10).toUpperCase()}`,
        event_time: Math.floor(Date.now() / 1000),
        event,
      });
      // Slack signs every delivery anew: a retry carries a later timestamp (the same bytes twice are a replay).
      const headers: Record<string, string> = signed(body, {
        contentType: 'application/json',
        ageSeconds: -(o.retryNum ?? 0),
      });
      if (o.retryNum) headers['X-Slack-Retry-Num'] = String(o.retryNum);
      return slackPost(body, headers);
    },
    async responsesTo(url) {
      const id = new URL(url).pathname.split('/').pop()!;
      for (let i = 0; i < 150 && fake.responses(id).length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      return fake.responses(id).map((r) => JSON.stringify(r.body));
    },
    rootMessages: () => fake.messages(CHANNEL).filter((m) => !m.thread_ts || m.thread_ts === m.ts),
    async close() {
      await server.close();
      if (!opts.fake) await fake.close();
    },
  };
  return bot;
}

/** Poll until `check` returns a value (or time runs out): for work that continues after Slack's ack. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  ms = 5000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Tick checklist items of a step as the step message's checkboxes do (signed, through Bolt). */
export async function tickAll(
  bot: Bot,
  id: string,
  stepId: string,
  items: string[],
  opts: { user?: string; channel?: string } = {},
): Promise<Response> {
  const user = opts.user ?? 'U0AAA';
  const channel = opts.channel ?? CHANNEL;
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: bot.fake.team.id },
    team: { id: bot.fake.team.id, domain: 'test' },
    channel: { id: channel, name: 'incidents' },
    container: { type: 'message', channel_id: channel, message_ts: '1.1' },
    trigger_id: `${Date.now()}.${Math.random().toString(36).slice(2)}`,
    response_url: bot.fake.responseUrl(`tick-${Math.random()}`),
    actions: [
      {
        type: 'checkboxes',
        action_id: 'step.tick',
        block_id: `checklist-${stepId}`,
        selected_options: items.map((item) => ({
          text: { type: 'mrkdwn', text: item },
          value: `${id}|${stepId}|${item}`,
        })),
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return bot.rawSlack(body, signed(body));
}
