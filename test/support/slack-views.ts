import type { FakeView } from '../fakes/slack-api/index.js';
import { type Bot, CHANNEL, signed } from './slack-harness.js';

// Modals through the front door: what Slack sends when someone submits a view or acts inside one,
// signed like every request, against the views the fake Slack API recorded (views.open/update). And
// clicks on a given message (a grant's thread message, or an ephemeral list).

export type FieldValue = string | { option: string };

/** view.state.values as Slack sends them: a text input's `value`, a select's or radio's `selected_option`. */
export function stateOf(fields: Record<string, FieldValue>, actionIds: Record<string, string> = {}) {
  const values: Record<string, Record<string, unknown>> = {};
  for (const [block, v] of Object.entries(fields)) {
    values[block] = {
      [actionIds[block] ?? 'value']:
        typeof v === 'string'
          ? { type: 'plain_text_input', value: v }
          : { type: 'static_select', selected_option: { value: v.option } },
    };
  }
  return values;
}

/** The view as Slack holds it: what the app sent, plus id, hash and state. */
export interface OpenView {
  id: string;
  hash: string;
  callback_id?: string;
  private_metadata?: string;
  blocks: unknown[];
  [key: string]: unknown;
}

export function asOpenView(v: FakeView): OpenView {
  return {
    ...(v.view as Record<string, unknown>),
    id: v.id,
    hash: v.hash,
    blocks: (v.view.blocks as unknown[]) ?? [],
  };
}

/** The latest modal the bot opened (views.open), as Slack holds it now (after any views.update). */
export function lastOpenedView(bot: Bot): OpenView | undefined {
  const views = [...bot.fake.views.values()];
  const last = views.at(-1);
  return last ? asOpenView(last) : undefined;
}

/** Submit a view: returns Bolt's answer (the response_action, or {} for a plain ack) and the HTTP status. */
export async function submitView(
  bot: Bot,
  user: string,
  view: OpenView,
  fields: Record<string, FieldValue>,
  actionIds: Record<string, string> = {},
): Promise<{
  status: number;
  answer: Record<string, unknown>;
  body: string;
  headers: Record<string, string>;
}> {
  const payload = {
    type: 'view_submission',
    team: { id: bot.fake.team.id, domain: 'test' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: bot.fake.team.id },
    api_app_id: bot.fake.bot.appId,
    token: 'unused',
    trigger_id: `${Date.now()}.${Math.random().toString(36).slice(2)}`,
    view: {
      ...view,
      team_id: bot.fake.team.id,
      app_id: bot.fake.bot.appId,
      bot_id: bot.fake.bot.botId,
      type: 'modal',
      state: { values: stateOf(fields, actionIds) },
    },
    response_urls: [],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const headers = signed(body);
  const res = await bot.rawSlack(body, headers);
  const text = await res.text();
  return {
    status: res.status,
    answer: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    body,
    headers,
  };
}

/** Act inside a view (a dispatch_action input): a block_actions payload whose container is the view. */
export async function actInView(
  bot: Bot,
  user: string,
  view: OpenView,
  action: { actionId: string; blockId: string; value: string },
  fields: Record<string, FieldValue> = {},
  actionIds: Record<string, string> = {},
): Promise<Response> {
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: bot.fake.team.id },
    team: { id: bot.fake.team.id, domain: 'test' },
    api_app_id: bot.fake.bot.appId,
    container: { type: 'view', view_id: view.id },
    trigger_id: `${Date.now()}.${Math.random().toString(36).slice(2)}`,
    view: { ...view, type: 'modal', state: { values: stateOf(fields, actionIds) } },
    actions: [
      {
        type: 'radio_buttons',
        action_id: action.actionId,
        block_id: action.blockId,
        selected_option: { value: action.value },
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return bot.rawSlack(body, signed(body));
}

/**
 * A button click on a given message (`ts` in `channel`), or on an ephemeral message: the container
 * Slack sends says which. Returns the response_url the bot answers on.
 */
export async function clickOn(
  bot: Bot,
  user: string,
  actionId: string,
  value: string,
  where: { ts?: string; channel?: string; ephemeral?: boolean },
): Promise<{ res: Response; responseUrl: string; triggerId: string }> {
  const channel = where.channel ?? CHANNEL;
  const responseUrl = bot.fake.responseUrl(`click-${Math.random()}`);
  const triggerId = `${Date.now()}.${Math.random().toString(36).slice(2)}`;
  const ts = where.ts ?? '1.1';
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: bot.fake.team.id },
    team: { id: bot.fake.team.id, domain: 'test' },
    channel: { id: channel, name: 'incidents' },
    container: {
      type: 'message',
      channel_id: channel,
      message_ts: ts,
      ...(where.ephemeral ? { is_ephemeral: true } : {}),
    },
    ...(where.ephemeral ? {} : { message: { type: 'message', ts, text: '' } }),
    trigger_id: triggerId,
    response_url: responseUrl,
    actions: [
      { type: 'button', action_id: actionId, block_id: 'b', value, action_ts: `${Date.now() / 1000}` },
    ],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return { res: await bot.rawSlack(body, signed(body)), responseUrl, triggerId };
}
