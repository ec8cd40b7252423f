import { createHash } from 'node:crypto';
import {
  ArtifactMeta,
  artifactNameProblem,
  MAX_ARTIFACT_BYTES,
  type NewArtifact,
} from '../domain/artifact.js';
import { CodedError } from '../domain/errors.js';
import { corrupt } from './codec.js';

// What both artifact stores check on the way in and decode on the way out: the name is safe (it
// becomes a file name and a Redis key), the size is under the ceiling, the digest is computed here,
// never taken from the caller, so what the timeline says of the bytes is what was stored.

/** The meta of an artifact about to be stored, or a refusal (`command_invalid`) naming why not. */
export function artifactMetaOf(incidentId: string, artifact: NewArtifact, maxBytes: number): ArtifactMeta {
  if (incidentId === '' || artifactNameProblem(incidentId) !== undefined) {
    throw new CodedError(
      'command_invalid',
      `refusing an artifact for incident ${JSON.stringify(incidentId)}`,
    );
  }
  const problem = artifactNameProblem(artifact.name);
  if (problem) throw new CodedError('command_invalid', `refusing to store an artifact: ${problem}`);
  const cap = Math.min(maxBytes, MAX_ARTIFACT_BYTES);
  if (artifact.bytes.byteLength > cap) {
    throw new CodedError(
      'command_invalid',
      `refusing to store artifact ${artifact.name}: ${artifact.bytes.byteLength} bytes is over the ${cap}-byte cap`,
      { details: { name: artifact.name, size: artifact.bytes.byteLength, cap } },
    );
  }
  const res = ArtifactMeta.safeParse({
    name: artifact.name,
    contentType: artifact.contentType,
    size: artifact.bytes.byteLength,
    sha256: createHash('sha256').update(artifact.bytes).digest('hex'),
    storedAt: artifact.storedAt,
    ...(artifact.truncated !== undefined ? { truncated: artifact.truncated } : {}),
  });
  if (!res.success) {
    throw new CodedError('internal', `refusing to store an invalid artifact ${artifact.name}`, {
      userSafe: false,
      cause: res.error,
    });
  }
  return res.data;
}

export function decodeArtifactMeta(json: string, where: string): ArtifactMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw corrupt(where, err);
  }
  const res = ArtifactMeta.safeParse(raw);
  if (!res.success) throw corrupt(where, res.error, raw);
  return res.data;
}

/** Bytes read back must be the bytes whose digest was recorded: a mismatch is corruption, not evidence. */
export function checkDigest(meta: ArtifactMeta, bytes: Buffer, where: string): Buffer {
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== meta.sha256 || bytes.byteLength !== meta.size) {
    throw corrupt(where, new Error(`bytes do not match the recorded sha256 ${meta.sha256}`));
  }
  return bytes;
}
