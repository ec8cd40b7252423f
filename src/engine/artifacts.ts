import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { ArtifactPort, StoredArtifact } from '../actions/define.js';
import { type ArtifactMeta, artifactNameProblem, DEFAULT_ARTIFACT_BYTES } from '../domain/artifact.js';
import { CodedError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import type { Json } from '../domain/json.js';
import { dryTag, type EngineDeps, nowIso } from './state.js';

// The artifact port an action is given: the store keeps the artifact (once: evidence is never
// overwritten, so a resumed action gets back what was stored first), the evidence directory gets a
// copy of those same bytes when one is configured (not in drills: a tabletop exercise leaves no files
// among the real evidence), and the timeline an `artifact.stored` event with the name, size, sha256
// and where it was written, keyed by name so a replay records it once. The Slack presenter acts on
// that event.

export interface EvidenceOptions {
  /** `<directory>/<incident>/<name>` gets a copy of each artifact. */
  directory?: string;
  /** Cap per artifact (bytes). */
  maxArtifactBytes?: number;
}

/** `<dir>/<incident>/<name>`, refusing anything that would land outside `<dir>/<incident>/`. */
export function evidencePath(directory: string, incidentId: string, name: string): string {
  for (const part of [incidentId, name]) {
    const problem = artifactNameProblem(part);
    if (problem) throw new CodedError('command_invalid', `refusing to write evidence: ${problem}`);
  }
  const folder = resolve(directory, incidentId);
  const path = resolve(folder, name);
  if (!path.startsWith(folder + sep)) {
    throw new CodedError('command_invalid', `refusing to write evidence outside ${folder}: ${name}`);
  }
  return path;
}

/** Write via a temporary file and a rename, so a reader never sees half a file of evidence. */
async function writeEvidence(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.partial-${process.pid}`;
  await writeFile(tmp, bytes, { mode: 0o640 });
  await rename(tmp, path);
}

export function artifactPort(
  d: EngineDeps,
  incident: Incident,
  at: { stepId: string; actionKey: string; uses: string; dryRun: boolean; actor: string },
): ArtifactPort {
  const maxBytes = d.evidence?.maxArtifactBytes ?? DEFAULT_ARTIFACT_BYTES;
  const directory = d.evidence?.directory;
  return {
    maxBytes,
    async put(artifact): Promise<StoredArtifact> {
      if (artifact.bytes.byteLength > maxBytes) {
        throw new CodedError(
          'command_invalid',
          `artifact ${artifact.name} is ${artifact.bytes.byteLength} bytes, over the ${maxBytes}-byte cap (evidence.maxArtifactBytes)`,
        );
      }
      const { artifact: meta, created } = await d.store.artifacts.put(incident.id, {
        ...artifact,
        storedAt: nowIso(d.clock),
      });
      const written = directory
        ? await copyToDirectory(d, directory, incident.id, meta, artifact.bytes, created, at.dryRun)
        : {};
      const stored: StoredArtifact = { ...meta, created, ...written };
      await d.journal.record({
        incident,
        kind: 'artifact.stored',
        summary: `${dryTag(at.dryRun)}artifact ${meta.name} stored: ${meta.size} bytes, sha256 ${meta.sha256}${meta.truncated ? ` (${meta.truncated})` : ''}${stored.path ? `; written to ${stored.path}` : ''}${stored.notWritten ? `; not written to the evidence directory: ${stored.notWritten}` : ''}`,
        details: {
          step: at.stepId,
          action: at.actionKey,
          uses: at.uses,
          artifact: artifactDetails(stored),
        },
        actor: at.actor,
        key: `artifact:${meta.name}`,
      });
      return stored;
    },
  };
}

async function copyToDirectory(
  d: EngineDeps,
  directory: string,
  incidentId: string,
  meta: ArtifactMeta,
  bytes: Uint8Array,
  created: boolean,
  dryRun: boolean,
): Promise<{ path?: string; notWritten?: string }> {
  if (dryRun) return { notWritten: 'a drill writes no evidence files' };
  try {
    const path = evidencePath(directory, incidentId, meta.name);
    // The store keeps what was stored first; the file must be those bytes, not a later collection's.
    const kept = created ? bytes : (await d.store.artifacts.get(incidentId, meta.name))?.bytes;
    if (!kept) throw new Error('the stored artifact could not be read back');
    await writeEvidence(path, kept);
    return { path };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    d.log.warn(
      { artifact: meta.name, err: message },
      'evidence: could not write an artifact to the directory',
    );
    return { notWritten: message };
  }
}

/** What the timeline says of an artifact (the presenter reads it back from here). */
export function artifactDetails(a: StoredArtifact): Record<string, Json> {
  return {
    name: a.name,
    contentType: a.contentType,
    size: a.size,
    sha256: a.sha256,
    storedAt: a.storedAt,
    ...(a.truncated ? { truncated: a.truncated } : {}),
    ...(a.path ? { path: a.path } : {}),
    ...(a.notWritten ? { not_written: a.notWritten } : {}),
  };
}
