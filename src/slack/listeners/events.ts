import type { App } from '@slack/bolt';
import { richMessage } from '../blocks/index.js';
import { callerOf, type SlackDeps, slackReply } from '../deps.js';
import { postTimeline, statusLine } from './operations.js';

/** Events API: mentions inside an incident thread, and :pushpin: reactions that pin a message to the timeline. */
export function registerEvents(app: App, deps: SlackDeps): void {
  const eventIdOf = (body: unknown) => {
    const id = (body as { event_id?: unknown }).event_id;
    return typeof id === 'string' ? id : undefined;
  };

  app.event('app_mention', async ({ event, body, say }) => {
    const reply = (text: string) => say({ ...richMessage([text]), thread_ts: event.thread_ts ?? event.ts });
    // Slack retries an event it thinks was not received; what it records is keyed by the event id.
    const by = callerOf(event.user ?? 'unknown', eventIdOf(body));
    try {
      const incident = event.thread_ts
        ? await deps.reader.byThread(event.channel, event.thread_ts)
        : undefined;
      if (!incident) {
        await reply('Mention me inside an incident thread (or use `/egress status`).');
        return;
      }
      const words = (event.text ?? '').replace(/<@[A-Z0-9]+>/g, '').trim();
      const [verb = 'status', ...rest] = words.split(/\s+/);
      if (verb === 'note' && rest.length > 0) {
        await deps.commands.note(incident.id, by, words.slice(4).trim(), {
          source: `slack:mention:${by.requestId ?? `${event.channel}:${event.ts}`}`,
        });
        await reply('Noted in the timeline.');
      } else if (verb === 'timeline') {
        await reply(await postTimeline(deps, incident.id, rest[0] === 'json' ? 'json' : 'md', by));
      } else if (verb === 'status') {
        await reply(statusLine(await deps.commands.view(incident.id, by)));
      } else {
        await reply('In a thread I understand: `status`, `timeline [md|json]`, `note <text>`.');
      }
    } catch (err) {
      await reply(slackReply(deps, err, { from: 'mention' })).catch(() => undefined);
    }
  });

  app.event('reaction_added', async ({ event }) => {
    if (event.reaction !== 'pushpin' || event.item.type !== 'message') return;
    const { channel, ts } = event.item;
    try {
      // With a reply's ts Slack answers with its thread (parent first): look for the exact message in it.
      const replies = await deps.client.conversations.replies({ channel, ts, limit: 200, inclusive: true });
      const message = replies.messages?.find((m) => m.ts === ts);
      if (!message) return;
      const incident = await deps.reader.byThread(channel, message.thread_ts ?? message.ts ?? ts);
      if (!incident) return;
      const author = message.user ?? message.bot_id ?? 'unknown';
      // Recorded as its author's words at its own time; only a responder's message goes in (a note is the audit trail).
      await deps.commands.note(incident.id, callerOf(author), `:pushpin: ${message.text ?? ''}`, {
        at: Math.round(Number(ts) * 1000),
        source: `slack:${channel}:${ts}`,
      });
    } catch (err) {
      slackReply(deps, err, { from: 'pushpin' });
    }
  });
}
