import type { App } from '@slack/bolt';
import { asCodedError } from '../../domain/errors.js';
import type { Incident } from '../../domain/incident.js';
import { escapeMrkdwn } from '../blocks/index.js';
import { actorOf, type SlackDeps } from '../deps.js';
import { postTimeline, statusLine } from './operations.js';

async function incidentForThread(
  deps: SlackDeps,
  channel: string,
  threadTs: string | undefined,
): Promise<Incident | undefined> {
  if (!threadTs) return undefined;
  const open = await deps.store.incidents.list({ activeOnly: true, limit: 500 });
  return open.find((i) => i.slack?.channel === channel && i.slack.ts === threadTs);
}

/** Events API: mentions inside an incident thread, and :pushpin: reactions that pin a message to the timeline. */
export function registerEvents(app: App, deps: SlackDeps): void {
  // Slack retries an event it thinks was not received; each event id is handled once.
  const firstTime = (eventId: string | undefined) =>
    eventId ? deps.store.dedupe.claim(`slack:event:${eventId}`, 3_600_000) : Promise.resolve(true);

  app.event('app_mention', async ({ event, body, say }) => {
    if (!(await firstTime((body as { event_id?: string }).event_id))) return;
    const incident = await incidentForThread(deps, event.channel, event.thread_ts);
    const reply = (text: string) => say({ text: escapeMrkdwn(text), thread_ts: event.thread_ts ?? event.ts });
    if (!incident) {
      await reply('Mention me inside an incident thread (or use `/egress status`).');
      return;
    }
    const words = (event.text ?? '').replace(/<@[A-Z0-9]+>/g, '').trim();
    const [verb = 'status', ...rest] = words.split(/\s+/);
    const actor = actorOf(event.user ?? 'unknown');
    try {
      if (verb === 'note' && rest.length > 0) {
        await deps.engine.note(incident.id, actor, words.slice(4).trim());
        await reply('Noted in the timeline.');
      } else if (verb === 'timeline') {
        await reply(await postTimeline(deps, incident.id, rest[0] === 'json' ? 'json' : 'md', actor));
      } else if (verb === 'status') {
        await reply(statusLine(await deps.engine.get(incident.id)));
      } else {
        await reply('In a thread I understand: `status`, `timeline [md|json]`, `note <text>`.');
      }
    } catch (err) {
      const coded = asCodedError(err);
      await reply(coded.userSafe ? coded.message : 'Something went wrong; the error is in the bot log.');
    }
  });

  app.event('reaction_added', async ({ event, body }) => {
    if (event.reaction !== 'pushpin' || event.item.type !== 'message') return;
    if (!(await firstTime((body as { event_id?: string }).event_id))) return;
    const { channel, ts } = event.item;
    // With a reply's ts Slack answers with its thread (parent first): look for the exact message in it.
    const replies = await deps.client.conversations.replies({ channel, ts, limit: 200, inclusive: true });
    const message = replies.messages?.find((m) => m.ts === ts);
    if (!message) return;
    const incident = await incidentForThread(deps, channel, message.thread_ts ?? message.ts);
    if (!incident) return;
    const author = message.user ?? message.bot_id ?? 'unknown';
    await deps.engine.note(incident.id, actorOf(author), `:pushpin: ${message.text ?? ''}`, {
      at: Math.round(Number(ts) * 1000),
      source: `slack:${channel}:${ts}`,
    });
  });
}
