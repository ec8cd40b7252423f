import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Incident } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { Engine, EngineObserver } from '../engine/engine.js';
import type { Store } from '../store/store.js';
import {
  enforceMessage,
  escapeMrkdwn,
  incidentView,
  renderIncidentRoot,
  renderReleaseRequest,
  renderStep,
  renderVerification,
} from './blocks/index.js';

export interface PresenterOptions {
  client: WebClient;
  channel: string;
  store: Store;
  log: Logger;
  /** Root-message updates within this window are coalesced into one chat.update (alert storms). */
  coalesceMs?: number;
  /** Extra lines posted under a step's results (e.g. what containment does not cover). */
}

/** Events that are worth their own message in the thread, beyond the per-step message. */
const threadLines: Partial<Record<TimelineEvent['kind'], (e: TimelineEvent) => string>> = {
  'sla.breached': (e) => `:alarm_clock: ${escapeMrkdwn(e.summary)}`,
  'status.changed': (e) => `:information_source: ${escapeMrkdwn(e.summary)}`,
  'incident.closed': (e) => `:white_check_mark: ${escapeMrkdwn(e.summary)}`,
  'engine.resumed': (e) => `:arrows_counterclockwise: ${escapeMrkdwn(e.summary)}`,
};

/**
 * Renders incidents into Slack: one root message per incident in the incident channel (updated,
 * coalesced, never re-posted), one thread message per step (edited as the step moves), and a few
 * thread lines for verifications, SLA breaches and status changes. Work per incident is serialised.
 */
export class SlackPresenter implements EngineObserver {
  readonly #o: Required<Omit<PresenterOptions, 'coalesceMs'>> & { coalesceMs: number };
  #engine: Engine | undefined;
  readonly #queues = new Map<string, Promise<void>>();
  readonly #rootTimers = new Map<string, NodeJS.Timeout>();
  readonly #stepTimers = new Map<string, NodeJS.Timeout>();

  constructor(opts: PresenterOptions) {
    this.#o = { coalesceMs: 1000, ...opts };
  }

  attach(engine: Engine): void {
    this.#engine = engine;
  }

  onEvent(event: TimelineEvent, incident: Incident): void {
    if (event.kind === 'incident.opened') {
      this.#enqueue(incident.id, () => this.#openThread(incident.id));
      return;
    }
    const step = typeof event.details.step === 'string' ? event.details.step : undefined;
    if (step) this.#scheduleStep(incident.id, step);
    if (event.kind === 'action.verified') {
      const v = event.details.verification as { ok?: boolean; line?: string } | undefined;
      this.#enqueue(incident.id, () =>
        this.#postInThread(incident.id, [renderVerification(v?.line ?? event.summary, v?.ok)], event.summary),
      );
    }
    if (
      event.kind === 'action.applied' &&
      event.details.action &&
      String(event.summary).includes('notify.message')
    ) {
      this.#enqueue(incident.id, () => this.#postText(incident.id, `:mega: ${escapeMrkdwn(event.summary)}`));
    }
    if (event.kind === 'approval.requested' && event.details.release === true && step) {
      this.#enqueue(incident.id, () => this.#postReleaseRequest(incident.id, step, event.actor));
    }
    const line = threadLines[event.kind];
    if (line) this.#enqueue(incident.id, () => this.#postText(incident.id, line(event)));
    this.#scheduleRoot(incident.id);
  }

  onIncident(incident: Incident): void {
    this.#scheduleRoot(incident.id);
  }

  /** Wait for everything queued (tests, shutdown). */
  async flush(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const timers = [...this.#rootTimers.keys(), ...this.#stepTimers.keys()];
      for (const key of timers) {
        clearTimeout(this.#rootTimers.get(key) ?? this.#stepTimers.get(key));
      }
      const roots = [...this.#rootTimers.keys()];
      const steps = [...this.#stepTimers.keys()];
      this.#rootTimers.clear();
      this.#stepTimers.clear();
      for (const id of roots) this.#enqueue(id, () => this.#updateRoot(id));
      for (const key of steps) {
        const [id, step] = key.split('\u0000') as [string, string];
        this.#enqueue(id, () => this.#renderStep(id, step));
      }
      await Promise.all([...this.#queues.values()]);
      if (this.#rootTimers.size === 0 && this.#stepTimers.size === 0) return;
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

  #scheduleRoot(id: string): void {
    if (this.#rootTimers.has(id)) return;
    this.#rootTimers.set(
      id,
      setTimeout(() => {
        this.#rootTimers.delete(id);
        this.#enqueue(id, () => this.#updateRoot(id));
      }, this.#o.coalesceMs),
    );
  }

  #scheduleStep(id: string, step: string): void {
    const key = `${id}\u0000${step}`;
    if (this.#stepTimers.has(key)) return;
    this.#stepTimers.set(
      key,
      setTimeout(
        () => {
          this.#stepTimers.delete(key);
          this.#enqueue(id, () => this.#renderStep(id, step));
        },
        Math.min(250, this.#o.coalesceMs),
      ),
    );
  }

  #playbookTitle(incident: Incident): string | undefined {
    return this.#engine?.playbookOf(incident)?.playbook.title;
  }

  async #openThread(id: string): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    // One replica posts the root message; the others see it on the incident.
    const claim = `slack:root:${id}`;
    if (!(await this.#o.store.dedupe.claim(claim, 24 * 3_600_000))) return;
    const incident = await engine.get(id);
    if (incident.slack) return;
    const message = enforceMessage(renderIncidentRoot(incidentView(incident, this.#playbookTitle(incident))));
    let ts: string;
    let posted: Awaited<ReturnType<WebClient['chat']['postMessage']>>;
    try {
      posted = await this.#o.client.chat.postMessage({ channel: this.#o.channel, ...message });
      if (!posted.ts) throw new Error('chat.postMessage returned no ts');
      ts = posted.ts;
    } catch (err) {
      // Let the next update of this incident try again instead of leaving it without a thread.
      await this.#o.store.dedupe.release(claim);
      throw err;
    }
    const channel = posted.channel ?? this.#o.channel;
    await engine.mutate(id, (d) => {
      d.slack = { channel, ts, steps: {} };
    });
    if (incident.mode === 'hard') {
      await this.#postText(
        id,
        ':rotating_light: *Hard mode*: containment starts at once; every action is recorded here.',
      );
    }
  }

  async #updateRoot(id: string): Promise<void> {
    const incident = await this.#engine?.get(id);
    if (!incident) return;
    if (!incident.slack) return this.#openThread(id);
    const message = enforceMessage(renderIncidentRoot(incidentView(incident, this.#playbookTitle(incident))));
    await this.#o.client.chat.update({ channel: incident.slack.channel, ts: incident.slack.ts, ...message });
  }

  async #renderStep(id: string, stepId: string): Promise<void> {
    const engine = this.#engine;
    const incident = await engine?.get(id);
    if (!engine || !incident?.slack) return;
    const step = engine.playbookOf(incident)?.playbook.steps.find((s) => s.id === stepId);
    const state = incident.steps.find((s) => s.id === stepId);
    if (!step || !state) return;
    const message = enforceMessage(renderStep(incident, step, state));
    const existing = incident.slack.steps[stepId];
    if (existing) {
      await this.#o.client.chat.update({ channel: incident.slack.channel, ts: existing, ...message });
      return;
    }
    const posted = await this.#o.client.chat.postMessage({
      channel: incident.slack.channel,
      thread_ts: incident.slack.ts,
      ...message,
    });
    if (posted.ts) {
      const ts = posted.ts;
      await engine.mutate(id, (d) => {
        if (d.slack) d.slack.steps[stepId] = ts;
      });
    }
  }

  async #postReleaseRequest(id: string, stepId: string, requestedBy: string): Promise<void> {
    const incident = await this.#engine?.get(id);
    if (!incident?.slack) return;
    const title =
      this.#engine?.playbookOf(incident)?.playbook.steps.find((s) => s.id === stepId)?.title ?? stepId;
    await this.#o.client.chat.postMessage({
      channel: incident.slack.channel,
      thread_ts: incident.slack.ts,
      ...renderReleaseRequest(id, title, requestedBy),
    });
  }

  async #postText(id: string, text: string): Promise<void> {
    const incident = await this.#engine?.get(id);
    if (!incident?.slack) return;
    await this.#o.client.chat.postMessage({
      channel: incident.slack.channel,
      thread_ts: incident.slack.ts,
      text,
    });
  }

  async #postInThread(
    id: string,
    blocks: ReturnType<typeof renderVerification>[],
    text: string,
  ): Promise<void> {
    const incident = await this.#engine?.get(id);
    if (!incident?.slack) return;
    const message = enforceMessage({ text: escapeMrkdwn(text), blocks });
    await this.#o.client.chat.postMessage({
      channel: incident.slack.channel,
      thread_ts: incident.slack.ts,
      ...message,
    });
  }
}
