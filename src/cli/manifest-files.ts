import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type ManifestRead, type ReadOptions, readManifests } from '../contracts/manifests.js';
import { CodedError } from '../domain/errors.js';
import type { Io } from './io.js';

// Where `validate --manifests` reads from: a file, a directory (recursively: base/ and overlays/
// alike; hidden entries and symlinked directories skipped) or `-` (standard input, e.g.
// `kubectl kustomize overlays/prod | egress-responder validate --manifests -`).

/** A manifest set larger than this is refused rather than read into memory. */
export const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;
const MANIFEST_FILE = /\.(ya?ml|json)$/i;

async function filesUnder(dir: string, out: string[]): Promise<void> {
  const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await filesUnder(path, out);
    else if (entry.isFile() && MANIFEST_FILE.test(entry.name)) out.push(path);
  }
}

function notFound(path: string, err: unknown): CodedError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'unreadable';
  return new CodedError('command_invalid', `--manifests ${path}: cannot read it (${code})`);
}

function merge(reads: readonly ManifestRead[]): ManifestRead {
  return { workloads: reads.flatMap((r) => r.workloads), problems: reads.flatMap((r) => r.problems) };
}

export async function readManifestSource(source: string, opts: ReadOptions, io: Io): Promise<ManifestRead> {
  if (source === '-') {
    if (!io.stdin) throw new CodedError('command_invalid', '--manifests -: no standard input here');
    const text = await io.stdin(MAX_MANIFEST_BYTES);
    if (text === undefined)
      throw new CodedError(
        'command_invalid',
        `--manifests -: more than ${MAX_MANIFEST_BYTES} bytes on standard input`,
      );
    return readManifests(text, '<stdin>', opts);
  }
  const info = await stat(source).catch((err: unknown) => {
    throw notFound(source, err);
  });
  const files: string[] = [];
  if (info.isDirectory()) await filesUnder(source, files);
  else files.push(source);
  let total = 0;
  const reads: ManifestRead[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch((err: unknown) => {
      throw notFound(file, err);
    });
    total += Buffer.byteLength(text);
    if (total > MAX_MANIFEST_BYTES)
      throw new CodedError(
        'command_invalid',
        `--manifests ${source}: more than ${MAX_MANIFEST_BYTES} bytes of manifests`,
      );
    reads.push(readManifests(text, relative(process.cwd(), file) || file, opts));
  }
  return merge(reads);
}
