import type { App } from '@slack/bolt';
import type { Logger } from 'pino';

// Slack delivers an Events API event again (X-Slack-Retry-Num) when it did not see our 200 in
// time, and with several replicas behind one URL the retry usually lands on another one. The
// signature guard cannot catch it (every delivery is signed anew), and a note is idempotent but
// its reply, a timeline export or a status answer is not: each would be posted once per delivery.
// So the first delivery of an event id claims it in the shared store, for longer than Slack keeps
// retrying (three retries within about five minutes), and later deliveries of it are dropped.
// A replica that dies between the claim and its work loses that one event; Slack's retries could
// not have been told apart from a second run of it anyway.

/** Slack's retries of one event come within about five minutes; an hour leaves room for clock trouble. */
export const SLACK_EVENT_CLAIM_TTL_MS = 60 * 60_000;

/** SET NX with a TTL in the shared store: true the first time a key is seen. */
export type ClaimOnce = (key: string, ttlMs: number) => Promise<boolean>;

export const eventClaimKey = (eventId: string) => `slack:event:${eventId}`;

/** The event id of an Events API delivery (`event_callback`), else undefined (commands, clicks, views). */
export function eventIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { type?: unknown; event_id?: unknown };
  return b.type === 'event_callback' && typeof b.event_id === 'string' && b.event_id.length > 0
    ? b.event_id
    : undefined;
}

/**
 * A global middleware: an event whose id another delivery already claimed (here or on another
 * replica) goes no further. When the store cannot answer, the event is handled: doubling a reply
 * is better than dropping a responder's note.
 */
export function dropRepeatedEvents(app: App, claim: ClaimOnce, log: Logger): void {
  app.use(async ({ body, context, next }) => {
    const id = eventIdOf(body);
    if (id !== undefined) {
      let first = true;
      try {
        first = await claim(eventClaimKey(id), SLACK_EVENT_CLAIM_TTL_MS);
      } catch (err) {
        log.warn({ err, eventId: id }, 'slack: cannot claim the event id in the store; handling it anyway');
      }
      if (!first) {
        log.info({ eventId: id, retryNum: context.retryNum }, 'slack: event delivered again; already taken');
        return;
      }
    }
    await next();
  });
}
