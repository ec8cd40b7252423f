import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { GrantCommands, GrantReader } from '../breakglass/ports.js';
import type { TimelineEvent } from '../domain/timeline.js';
import { isAnnouncedGrantEvent, renderGrantAnnouncement, renderGrantMessage } from './blocks/index.js';

// Break-glass in the incident thread, driven by the timeline's grant.* events (details.grant is the
// grant id): the grant's message is posted when it is requested, recorded on the grant through
// attachMessage, and edited in place on every later event, always from the stored grant. Ends (and
// extensions) get a thread line of their own; a failed removal is broadcast to the channel too,
// every time it is recorded. Work runs on the presenter's per-incident queue, so a grant's messages
// never race its incident's other messages; renders queued for one grant collapse into one.

export interface GrantPresenterPorts {
  reader: GrantReader;
  commands: Pick<GrantCommands, 'attachMessage'>;
}

export type Thread = { channel: string; ts: string };

export class GrantThread {
  readonly #client: WebClient;
  readonly #log: Logger;
  readonly #enqueue: (id: string, work: () => Promise<void>) => void;
  readonly #threadOf: (incidentId: string) => Promise<Thread | undefined>;
  /** Grants with a render queued and not yet started (a later event needs no second one). */
  readonly #queued = new Set<string>();

  constructor(opts: {
    client: WebClient;
    log: Logger;
    enqueue: (id: string, work: () => Promise<void>) => void;
    threadOf: (incidentId: string) => Promise<Thread | undefined>;
  }) {
    this.#client = opts.client;
    this.#log = opts.log;
    this.#enqueue = opts.enqueue;
    this.#threadOf = opts.threadOf;
  }

  onEvent(ports: GrantPresenterPorts, event: TimelineEvent): void {
    const grantId = event.details.grant;
    if (typeof grantId !== 'string') return;
    if (!this.#queued.has(grantId)) {
      this.#queued.add(grantId);
      this.#enqueue(event.incidentId, async () => {
        this.#queued.delete(grantId);
        await this.#render(ports, event.incidentId, grantId);
      });
    }
    if (isAnnouncedGrantEvent(event.kind)) {
      this.#enqueue(event.incidentId, () => this.#announce(ports, event, grantId));
    }
  }

  /** Post the grant's message (once: the first recorded wins) or edit it to what the store says now. */
  async #render(ports: GrantPresenterPorts, incidentId: string, grantId: string): Promise<void> {
    const grant = await ports.reader.get(grantId);
    const message = renderGrantMessage(grant, ports.reader.preview(grant));
    if (grant.message) {
      await this.#client.chat.update({ channel: grant.message.channel, ts: grant.message.ts, ...message });
      return;
    }
    const thread = await this.#threadOf(incidentId);
    if (!thread) return;
    const posted = await this.#client.chat.postMessage({
      channel: thread.channel,
      thread_ts: thread.ts,
      ...message,
    });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    const channel = posted.channel ?? thread.channel;
    const attached = await ports.commands.attachMessage(grantId, { channel, ts: posted.ts });
    if (attached.message?.ts !== posted.ts) {
      // Another replica posted it first: ours is a duplicate.
      await this.#client.chat.delete({ channel, ts: posted.ts }).catch(() => undefined);
      return;
    }
    if (attached.version !== grant.version + 1) {
      // It moved on while we posted: show where it is now.
      await this.#render(ports, incidentId, grantId);
    }
  }

  async #announce(ports: GrantPresenterPorts, event: TimelineEvent, grantId: string): Promise<void> {
    const thread = await this.#threadOf(event.incidentId);
    if (!thread) return;
    const grant = await ports.reader.get(grantId).catch(() => ({ id: grantId, drill: false }));
    const loud = event.kind === 'grant.removal_failed';
    const message = {
      channel: thread.channel,
      thread_ts: thread.ts,
      ...renderGrantAnnouncement(event, grant),
    };
    // A removal that failed is said in the channel too: the exception may still be open.
    await this.#client.chat.postMessage(loud ? { ...message, reply_broadcast: true } : message);
    if (loud) this.#log.error({ grant: grantId, incident: event.incidentId }, 'break-glass removal failed');
  }
}
