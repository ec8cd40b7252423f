import { z } from 'zod';
import { UtcTimestamp } from './alert.js';

// An artifact is a file of evidence kept with an incident (a pod's evidence bundle, a container's
// log, the timeline export): stored once in the store, so any replica can read it (the Slack
// presenter may run elsewhere than the action that made it), optionally written to a directory,
// and uploaded to the incident's thread. Its name is also a file name, so it is kept to a safe
// alphabet here, once, for the store, the directory writer and Slack alike.

/** Letters, digits, `.`, `_`, `-`; starting with a letter or digit; never `..`; at most 200 characters. */
export const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The largest artifact a store keeps (a hard ceiling: the configured cap may only be lower). */
export const MAX_ARTIFACT_BYTES = 16 * 1024 * 1024;
/** The default cap per artifact: logs beyond it are cut (keeping their end) with a marker. */
export const DEFAULT_ARTIFACT_BYTES = 2 * 1024 * 1024;

/** Why a name is not a safe artifact name, or undefined when it is. */
export function artifactNameProblem(name: string): string | undefined {
  if (!ARTIFACT_NAME.test(name)) {
    return `artifact name ${JSON.stringify(name.slice(0, 80))} must be 1–200 letters, digits, ".", "_" or "-", starting with a letter or digit`;
  }
  // No path tricks: `..` anywhere (even `a..b`) is refused rather than reasoned about.
  if (name.includes('..')) return `artifact name ${JSON.stringify(name)} must not contain ".."`;
  return undefined;
}

/**
 * A safe name made from parts that may not be (pod and container names are DNS names, but they come
 * from the cluster): anything outside the alphabet becomes `_`, runs of dots collapse, and the
 * result is cut to fit. Distinct inputs may map to one name; callers that care add a suffix.
 */
export function safeArtifactName(...parts: string[]): string {
  const joined = parts
    .map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_'))
    .join('.')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^A-Za-z0-9]+/, '');
  const cut = joined.slice(0, 200).replace(/\.+$/, '');
  return cut === '' ? 'artifact' : cut;
}

/** What is known of a stored artifact without its bytes. */
export const ArtifactMeta = z.strictObject({
  name: z.string().regex(ARTIFACT_NAME),
  contentType: z.string().min(1).max(200),
  /** Bytes stored (after any truncation). */
  size: z.number().int().min(0),
  /** Hex sha256 of the bytes stored. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  storedAt: UtcTimestamp,
  /** Set when the content was cut to fit the cap: what was cut, in words (the bytes carry a marker too). */
  truncated: z.string().optional(),
});
export type ArtifactMeta = z.infer<typeof ArtifactMeta>;

/** An artifact to store: the store computes its size and sha256. */
export interface NewArtifact {
  name: string;
  contentType: string;
  bytes: Uint8Array;
  storedAt: string;
  truncated?: string;
}
