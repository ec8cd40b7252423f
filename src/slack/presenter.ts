import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Incident } from '../domain/incident.js';
import { NOTE_SOURCES, type TimelineEvent } from '../domain/timeline.js';
import type { EngineCommands, IncidentReader } from '../engine/ports.js';
import type { IncidentObserver } from '../journal/journal.js';
import {
  type Block,
  enforceMessage,
  escapeCode,
  fallbackText,
  incidentView,
  markDrill,
  renderIncidentRoot,
  renderReleaseRequest,
  renderStep,
  renderVerification,
  richMessage,
  type Segment,
  timelineLine,
  truncate,
} from './blocks/index.js';
import { slaBreachLine } from './blocks/sla.js';
import { Coalescer } from './coalescer.js';
import type { DrillClientFor } from './drill-clients.js';
import { type GrantPresenterPorts, GrantThread } from './grant-presenter.js';
import { ThreadUploader } from './uploads.js';

export interface PresenterOptions {
  client: WebClient;
  channel: string;
  /** Where drill incidents open their threads (default: `channel`). */
  drillChannel?: string;
  log: Logger;
  /**
   * Root-message updates within this window are coalesced into one chat.update. A change that only
   * moves the alert counters (a fold) waits 5 windows, or one per root update already waiting (up to
   * 60), so an alert storm over many incidents stays near one chat.update per window in all: Slack
   * rate-limits the method, and a 429 pauses every call of the client.
   */
  coalesceMs?: number;
  /** How often incidents still without a thread are looked for (Slack was down when they opened). */
  sweepMs?: number;
  /** First retry of a failed artifact upload (doubling up to 30 s). */
  uploadRetryMs?: number;
  /** The config's responders (users and groups): who an SLA reminder names when no commander is set. */
  responders?: readonly string[];
  /** A drill incident's own client (an injected Slack rate limit); undefined: `client`. */
  clientFor?: DrillClientFor;
}

/** What the presenter reads and the two things it records (the messages it posted). */
export type PresenterPorts = {
  reader: IncidentReader;
  commands: Pick<
    EngineCommands,
    'attachThread' | 'attachStepMessage' | 'attachUpload' | 'recordSlackRateLimit'
  >;
  /** Break-glass, where it is wired: grant messages in the thread. */
  grants?: GrantPresenterPorts;
};

/** Events worth their own line in the thread, keyed by kind (never by their text); summaries shown as typed. */
const threadLines: Partial<Record<TimelineEvent['kind'], (e: TimelineEvent) => Segment[]>> = {
  'status.changed': (e) => [{ emoji: 'information_source' }, ` ${e.summary}`],
  'incident.closed': (e) => [{ emoji: 'white_check_mark' }, ` ${e.summary}`],
  'engine.resumed': (e) => [{ emoji: 'arrows_counterclockwise' }, ` ${e.summary}`],
  'plan.drift': (e) => [{ emoji: 'warning' }, ` ${e.summary}`],
  'alert.resolved': (e) => [
    { emoji: 'large_green_circle' },
    ` ${e.summary}. If nothing else is open, `,
    { text: `/egress close ${e.incidentId} resolved`, code: true },
    ' closes the incident.',
  ],
};

/** What a late thread is told happened before it (the steps get their own messages). */
const catchUpKinds = new Set<TimelineEvent['kind']>([
  'alert.resolved',
  'status.changed',
  'action.applied',
  'action.verified',
  'action.failed',
  'sla.breached',
  'engine.resumed',
  'plan.drift',
]);

/** Actions whose applied result is said in the thread as it is. */
const announcedActions = new Set(['notify.message']);

const ROOT_RETRY_MAX_MS = 30_000;

/**
 * Renders incidents into Slack: one root message per incident in the incident channel (updated,
 * coalesced, never re-posted), one thread message per step (edited as the step moves), and a few
 * thread lines for verifications, SLA breaches and status changes. Work per incident is serialised.
 * A root message Slack refused is retried with backoff, and a periodic sweep catches up incidents
 * that opened while Slack was unreachable (the thread is then rebuilt from the stored incident).
 */
export class SlackPresenter implements IncidentObserver {
  readonly #o: Required<Omit<PresenterOptions, 'drillChannel' | 'clientFor'>> &
    Pick<PresenterOptions, 'drillChannel' | 'clientFor'>;
  #ports: PresenterPorts | undefined;
  readonly #queues = new Map<string, Promise<void>>();
  readonly #roots = new Coalescer((id) => this.#enqueue(id, () => this.#updateRoot(id)));
  readonly #steps = new Coalescer((key) => {
    const [id, step] = key.split('\u0000') as [string, string];
    this.#enqueue(id, () => this.#renderStep(id, step));
  });
  readonly #retries = new Map<string, { timer: NodeJS.Timeout; delay: number }>();
  #sweeper: NodeJS.Timeout | undefined;
  readonly #uploads: ThreadUploader;
  readonly #grants: GrantThread;

  constructor(opts: PresenterOptions) {
    this.#o = { coalesceMs: 1000, sweepMs: 30_000, uploadRetryMs: 1000, responders: [], ...opts };
    this.#uploads = new ThreadUploader({
      client: this.#o.client,
      log: this.#o.log,
      enqueue: (id, work) => this.#enqueue(id, work),
      baseDelayMs: this.#o.uploadRetryMs,
    });
    this.#grants = new GrantThread({
      client: this.#o.client,
      log: this.#o.log,
      enqueue: (id, work) => this.#enqueue(id, work),
      threadOf: async (id) => {
        const slack = (await this.#ports?.reader.get(id))?.slack;
        return slack ? { channel: slack.channel, ts: slack.ts } : undefined;
      },
    });
  }

  /** Start presenting: the reader and commands exist once the engine does. */
  start(ports: PresenterPorts): void {
    this.#ports = ports;
    this.#sweeper = setInterval(() => void this.sweep(), this.#o.sweepMs);
    this.#sweeper.unref();
    void this.sweep();
    void this.#catchUpUploads();
  }

  /** After a restart: artifacts stored while no presenter was up to upload them (the timeline says which). */
  async #catchUpUploads(): Promise<void> {
    const ports = this.#ports;
    if (!ports) return;
    try {
      for (const incident of await ports.reader.list({ activeOnly: true, limit: 200 })) {
        if (incident.slack) this.#uploads.catchUp(ports, incident.id);
      }
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message }, 'slack: could not look for artifacts to upload');
    }
  }

  /** A drill's own client under an injected rate limit (each one met is recorded), else the bot's. */
  #client(incident: Incident): WebClient {
    return this.#o.clientFor?.(incident, this.#ports?.commands) ?? this.#o.client;
  }

  #channelFor(incident: Incident): string {
    return incident.drill && this.#o.drillChannel ? this.#o.drillChannel : this.#o.channel;
  }

  onEvent(event: TimelineEvent, incident: Incident): void {
    if (event.kind === 'incident.opened') {
      this.#enqueue(incident.id, () => this.#openThread(incident.id));
      return;
    }
    const step = typeof event.details.step === 'string' ? event.details.step : undefined;
    if (step) this.#scheduleStep(incident.id, step);
    if (event.kind === 'action.verified') {
      const v = event.details.verification;
      const fields = v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
      const line = typeof fields.line === 'string' ? fields.line : event.summary;
      const ok = typeof fields.ok === 'boolean' ? fields.ok : undefined;
      this.#enqueue(incident.id, () =>
        this.#post(incident.id, { text: fallbackText([line]), blocks: [renderVerification(line, ok)] }),
      );
    }
    if (
      event.kind === 'action.applied' &&
      typeof event.details.uses === 'string' &&
      announcedActions.has(event.details.uses)
    ) {
      this.#enqueue(incident.id, () => this.#postLine(incident.id, [{ emoji: 'mega' }, ` ${event.summary}`]));
    }
    if (event.kind === 'artifact.stored' && this.#ports) this.#uploads.catchUp(this.#ports, incident.id);
    if (event.kind.startsWith('grant.') && this.#ports?.grants)
      this.#grants.onEvent(this.#ports.grants, event);
    if (event.kind === 'approval.requested' && event.details.release === true && step) {
      this.#enqueue(incident.id, () => this.#postReleaseRequest(incident.id, step, event.actor));
    }
    if (event.kind === 'note' && event.details.source === NOTE_SOURCES.drillScorecard) {
      this.#enqueue(incident.id, () =>
        this.#post(incident.id, {
          text: `:clipboard:\n\`\`\`${escapeCode(truncate(event.summary, 3800))}\`\`\``,
        }),
      );
    }
    const line =
      event.kind === 'sla.breached'
        ? () => slaBreachLine(event, this.#o.responders)
        : threadLines[event.kind]?.bind(null, event);
    if (line) this.#enqueue(incident.id, () => this.#postLine(incident.id, line()));
    this.#scheduleRoot(incident.id, event.kind === 'alert.folded' ? 'counts' : 'any');
  }

  onIncident(incident: Incident, cause?: 'fold'): void {
    this.#scheduleRoot(incident.id, cause === 'fold' ? 'counts' : 'any');
  }

  /** Post the root message of every recent active incident that has none (Slack was down, or we were). */
  async sweep(): Promise<void> {
    const ports = this.#ports;
    if (!ports) return;
    try {
      const open = await ports.reader.list({ activeOnly: true, limit: 200 });
      for (const incident of open) {
        if (!incident.slack && !this.#retries.has(incident.id))
          this.#enqueue(incident.id, () => this.#openThread(incident.id));
      }
    } catch (err) {
      this.#o.log.warn(
        { err: (err as Error).message },
        'slack: could not look for incidents without a thread',
      );
    }
  }

  /** Wait for everything queued (tests, shutdown); stops the sweep and pending retries. */
  async flush(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#uploads.stop();
    for (const r of this.#retries.values()) clearTimeout(r.timer);
    this.#retries.clear();
    for (let i = 0; i < 5; i++) {
      this.#roots.fireNow();
      this.#steps.fireNow();
      await Promise.all([...this.#queues.values()]);
      if (this.#roots.size === 0 && this.#steps.size === 0) return;
    }
  }

  #enqueue(id: string, work: () => Promise<void>): void {
    const prev = this.#queues.get(id) ?? Promise.resolve();
    const next = prev
      .then(work)
      .catch((err) => this.#o.log.error({ err, incident: id }, 'slack update failed'))
      .finally(() => {
        if (this.#queues.get(id) === next) this.#queues.delete(id);
      });
    this.#queues.set(id, next);
  }

  #scheduleRoot(id: string, only: 'counts' | 'any' = 'any'): void {
    // Counts alone wait one window per root update already waiting (5 to 60): however many incidents
    // fold at once, they move their roots about once a window in all, not once a window each.
    const windows = only === 'counts' ? Math.min(60, Math.max(5, this.#roots.size)) : 1;
    this.#roots.schedule(id, this.#o.coalesceMs * windows);
  }

  #scheduleStep(id: string, step: string): void {
    this.#steps.schedule(`${id}\u0000${step}`, Math.min(250, this.#o.coalesceMs));
  }

  #root(incident: Incident) {
    const title = this.#ports?.reader.playbookOf(incident)?.playbook.title;
    return enforceMessage(renderIncidentRoot(incidentView(incident, title)));
  }

  /** Post the root message (once: the engine keeps the first thread), then catch the thread up. */
  async #openThread(id: string): Promise<void> {
    const ports = this.#ports;
    if (!ports) return;
    const incident = await ports.reader.get(id);
    if (incident.slack) return;
    let posted: Awaited<ReturnType<WebClient['chat']['postMessage']>>;
    try {
      posted = await this.#client(incident).chat.postMessage({
        channel: this.#channelFor(incident),
        ...this.#root(incident),
      });
      if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    } catch (err) {
      this.#retryLater(id);
      throw err;
    }
    this.#retries.delete(id);
    const attached = await ports.commands.attachThread(id, {
      channel: posted.channel ?? this.#channelFor(incident),
      ts: posted.ts,
    });
    if (attached.slack?.ts !== posted.ts) {
      // Another replica posted first: ours is a duplicate root message.
      await this.#client(incident)
        .chat.delete({ channel: posted.channel ?? this.#channelFor(incident), ts: posted.ts })
        .catch(() => undefined);
      return;
    }
    if (incident.mode === 'hard') {
      await this.#post(id, {
        text: ':rotating_light: *Hard mode*: containment starts at once; every action is recorded here.',
      });
    }
    // The thread catches up from the timeline: what happened before it existed, then each step.
    const earlier = (await ports.reader.timeline(id)).filter((e) => catchUpKinds.has(e.kind));
    if (earlier.length > 0) {
      const shown = earlier.slice(-15);
      await this.#postLine(id, [
        { emoji: 'rewind' },
        ` Before this thread existed (${earlier.length} event${earlier.length === 1 ? '' : 's'}${earlier.length > shown.length ? `, last ${shown.length} shown` : ''}):`,
        ...shown.flatMap((e) => ['\n• ', ...timelineLine(e)]),
      ]);
    }
    for (const s of attached.steps) this.#scheduleStep(id, s.id);
    this.#uploads.catchUp(ports, id);
  }

  /** Exponential backoff from 1 s to 30 s until the root message is posted. */
  #retryLater(id: string): void {
    const delay = Math.min(ROOT_RETRY_MAX_MS, (this.#retries.get(id)?.delay ?? 500) * 2);
    clearTimeout(this.#retries.get(id)?.timer);
    const timer = setTimeout(() => this.#enqueue(id, () => this.#openThread(id)), delay);
    timer.unref();
    this.#retries.set(id, { timer, delay });
  }

  async #updateRoot(id: string): Promise<void> {
    const incident = await this.#ports?.reader.get(id);
    if (!incident) return;
    if (!incident.slack) {
      if (!this.#retries.has(id)) await this.#openThread(id);
      return;
    }
    await this.#client(incident).chat.update({
      channel: incident.slack.channel,
      ts: incident.slack.ts,
      ...this.#root(incident),
    });
  }

  async #renderStep(id: string, stepId: string): Promise<void> {
    const ports = this.#ports;
    const incident = await ports?.reader.get(id);
    if (!ports || !incident?.slack) return;
    const step = ports.reader.stepOf(incident, stepId);
    const state = incident.steps.find((s) => s.id === stepId);
    if (!step || !state) return;
    const message = markDrill(enforceMessage(renderStep(incident, step, state)), incident.drill);
    const existing = incident.slack.steps[stepId];
    if (existing) {
      await this.#client(incident).chat.update({ channel: incident.slack.channel, ts: existing, ...message });
      return;
    }
    const posted = await this.#client(incident).chat.postMessage({
      channel: incident.slack.channel,
      thread_ts: incident.slack.ts,
      ...message,
    });
    if (posted.ts) await ports.commands.attachStepMessage(id, stepId, posted.ts);
  }

  async #postReleaseRequest(id: string, stepId: string, requestedBy: string): Promise<void> {
    const incident = await this.#ports?.reader.get(id);
    if (!incident?.slack) return;
    const title = this.#ports?.reader.stepOf(incident, stepId)?.title ?? stepId;
    await this.#client(incident).chat.postMessage({
      channel: incident.slack.channel,
      thread_ts: incident.slack.ts,
      ...markDrill(renderReleaseRequest(id, title, requestedBy), incident.drill),
    });
  }

  /** A message in the thread, marked DRILL like every post (one function, so none forgets it). */
  async #post(id: string, message: { text: string; blocks?: Block[] }): Promise<void> {
    const incident = await this.#ports?.reader.get(id);
    if (!incident?.slack) return;
    await this.#client(incident).chat.postMessage({
      channel: incident.slack.channel,
      thread_ts: incident.slack.ts,
      ...markDrill(
        message.blocks ? enforceMessage({ ...message, blocks: message.blocks }) : message,
        incident.drill,
      ),
    });
  }

  /** A thread line that shows untrusted text as typed (rich_text). */
  #postLine(id: string, segments: readonly Segment[]): Promise<void> {
    return this.#post(id, richMessage(segments));
  }
}
