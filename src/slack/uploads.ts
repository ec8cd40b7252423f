import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { ArtifactMeta } from '../domain/artifact.js';
import type { EngineCommands, IncidentReader } from '../engine/ports.js';
import {
  enforceMessage,
  escapeMrkdwn,
  markDrill,
  markDrillComment,
  richMessage,
  type Segment,
} from './blocks/index.js';

// Uploads an incident's artifacts (evidence, timeline exports) to its thread with files.uploadV2
// (files.getUploadURLExternal, the bytes to the upload URL, files.completeUploadExternal into the
// thread). The timeline is the record of what was uploaded: an artifact with a `slack.uploaded`
// event is never uploaded again (a restart, another replica's presenter), and the event is recorded
// through the engine only once the upload completed, first recording wins: a replica that lost that
// race deletes its duplicate file, as the presenter does with a duplicate root message. A failed
// upload is retried with backoff; the thread is told once that it failed and once if it gave up.

export interface UploaderPorts {
  reader: IncidentReader;
  commands: Pick<EngineCommands, 'attachUpload'>;
}

const RETRY_MAX_MS = 30_000;
const MAX_ATTEMPTS = 6;

/** A file's comment: files.uploadV2 takes mrkdwn only (no blocks), so the name is escaped there. */
export function uploadComment(a: ArtifactMeta): string {
  return `:paperclip: ${escapeMrkdwn(a.name)}: ${a.size} bytes, sha256 \`${a.sha256}\`${a.truncated ? ` (${escapeMrkdwn(a.truncated)})` : ''}`;
}

export class ThreadUploader {
  readonly #client: WebClient;
  readonly #log: Logger;
  readonly #enqueue: (id: string, work: () => Promise<void>) => void;
  /** Failed attempts per `<incident>\u0000<artifact>`; one retry timer per incident retries them all. */
  readonly #attempts = new Map<string, number>();
  readonly #gaveUp = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #baseDelayMs: number;

  constructor(opts: {
    client: WebClient;
    log: Logger;
    /** The presenter's per-incident queue: uploads never race the thread's other messages. */
    enqueue: (id: string, work: () => Promise<void>) => void;
    baseDelayMs?: number;
  }) {
    this.#client = opts.client;
    this.#log = opts.log;
    this.#enqueue = opts.enqueue;
    this.#baseDelayMs = opts.baseDelayMs ?? 1000;
  }

  /** Upload whatever of the incident's artifacts the timeline does not show as uploaded. */
  catchUp(ports: UploaderPorts, id: string): void {
    this.#enqueue(id, () => this.#uploadPending(ports, id));
  }

  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  async #uploadPending(ports: UploaderPorts, id: string): Promise<void> {
    const incident = await ports.reader.get(id);
    if (!incident.slack) return; // the thread opens later and catches up then
    const uploaded = new Set(
      (await ports.reader.timeline(id))
        .filter((e) => e.kind === 'slack.uploaded' && typeof e.details.name === 'string')
        .map((e) => e.details.name as string),
    );
    for (const meta of await ports.reader.artifacts(id)) {
      if (uploaded.has(meta.name)) continue;
      const key = `${id}\u0000${meta.name}`;
      if (this.#gaveUp.has(key)) continue;
      const thread = incident.slack;
      try {
        const found = await ports.reader.artifact(id, meta.name);
        if (!found) continue;
        const res = await this.#client.filesUploadV2({
          channel_id: thread.channel,
          thread_ts: thread.ts,
          file: found.bytes,
          filename: meta.name,
          title: meta.name,
          initial_comment: markDrillComment(uploadComment(found.artifact), incident.drill),
        });
        const fileId = res.files.flatMap((f) => f.files ?? []).find((f) => f.id)?.id;
        if (!fileId) throw new Error('files.completeUploadExternal returned no file id');
        const first = await ports.commands.attachUpload(id, {
          name: meta.name,
          size: found.artifact.size,
          sha256: found.artifact.sha256,
          fileId,
          channel: thread.channel,
          threadTs: thread.ts,
        });
        this.#attempts.delete(key);
        if (!first) await this.#client.files.delete({ file: fileId }).catch(() => undefined);
      } catch (err) {
        await this.#failed(ports, id, meta, key, err);
      }
    }
  }

  async #failed(
    ports: UploaderPorts,
    id: string,
    meta: ArtifactMeta,
    key: string,
    err: unknown,
  ): Promise<void> {
    const why = err instanceof Error ? err.message : String(err);
    const attempts = (this.#attempts.get(key) ?? 0) + 1;
    this.#attempts.set(key, attempts);
    this.#log.warn(
      { incident: id, artifact: meta.name, attempts, err: why },
      'slack: artifact upload failed',
    );
    if (attempts >= MAX_ATTEMPTS) {
      this.#gaveUp.add(key);
      await this.#say(ports, id, [
        { emoji: 'x' },
        ` Gave up uploading ${meta.name} after ${attempts} attempts (${why}). It is kept with the incident (sha256 `,
        { text: meta.sha256, code: true },
        '); a restart of the bot tries again.',
      ]);
      return;
    }
    if (attempts === 1) {
      await this.#say(ports, id, [
        { emoji: 'warning' },
        ` Could not upload ${meta.name} to this thread yet (${why}); retrying. It is not uploaded until it is listed here.`,
      ]);
    }
    if (this.#timers.has(id)) return;
    const delay = Math.min(RETRY_MAX_MS, this.#baseDelayMs * 2 ** (attempts - 1));
    const timer = setTimeout(() => {
      this.#timers.delete(id);
      this.catchUp(ports, id);
    }, delay);
    timer.unref();
    this.#timers.set(id, timer);
  }

  /** A line in the thread; the file name and the error are shown as they are (rich_text). */
  async #say(ports: UploaderPorts, id: string, line: Segment[]): Promise<void> {
    const incident = await ports.reader.get(id);
    if (!incident.slack) return;
    await this.#client.chat
      .postMessage({
        channel: incident.slack.channel,
        thread_ts: incident.slack.ts,
        ...markDrill(enforceMessage(richMessage(line)), incident.drill),
      })
      .catch((e: unknown) => this.#log.warn({ err: (e as Error).message }, 'slack: could not say so'));
  }
}
