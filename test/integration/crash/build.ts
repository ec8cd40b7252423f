import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

// The kill suite runs `serve` as a real process, so it needs compiled code, while jest itself runs on
// src/. Building into the shared dist/ would race with whoever else builds or benchmarks there, so the
// suite builds a private snapshot of the package instead: dist/ compiled from the src/ of this
// checkout and bundled as `npm run build` does, next to copies of bin/ and playbooks/ and a link to node_modules. Snapshots are cached
// under the OS temp dir by a hash of what goes into them, so a re-run with unchanged src/ starts at
// once.

const run = promisify(execFile);
const CACHE_PREFIX = 'egress-responder-kill-build-';
const STALE_MS = 24 * 3_600_000;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A hash of everything a snapshot is made of. */
function inputsHash(repo: string): string {
  const h = createHash('sha256');
  const files = [
    ...filesUnder(join(repo, 'src')),
    ...filesUnder(join(repo, 'playbooks')),
    ...filesUnder(join(repo, 'bin')),
    join(repo, 'package.json'),
    join(repo, 'tsconfig.json'),
    join(repo, 'tsconfig.build.json'),
    join(repo, 'scripts', 'bundle.mjs'),
  ];
  for (const f of files) {
    h.update(relative(repo, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 20);
}

function removeStaleSnapshots(keep: string): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(CACHE_PREFIX) || join(tmpdir(), entry) === keep) continue;
    const path = join(tmpdir(), entry);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another run may be removing it too
    }
  }
}

export interface BuiltPackage {
  /** A package root: bin/egress-responder.js, dist/, playbooks/, node_modules (a link). */
  root: string;
  /** True when this call compiled it (false: taken from the cache). */
  built: boolean;
  /** Compiler diagnostics when tsc reported errors but emitted anyway (src/ is being edited, say). */
  warnings?: string;
}

/** A compiled snapshot of the package in `repo` (the checkout's current src/). */
export async function builtPackage(repo: string): Promise<BuiltPackage> {
  const hash = inputsHash(repo);
  const target = join(tmpdir(), `${CACHE_PREFIX}${hash}`);
  removeStaleSnapshots(target);
  if (existsSync(join(target, '.complete'))) return { root: target, built: false };
  const staging = mkdtempSync(join(tmpdir(), `${CACHE_PREFIX}staging-`));
  let warnings: string | undefined;
  try {
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(staging, 'dist')], {
        cwd: repo,
        maxBuffer: 16 * 2 ** 20,
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      warnings = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message;
      // tsc emits despite type errors; without an entry point there is nothing to run.
      if (!existsSync(join(staging, 'dist', 'cli', 'index.js'))) throw new Error(`tsc failed:\n${warnings}`);
    }
    // bin/ runs the bundle, as `npm run build` makes it.
    await run(process.execPath, [join(repo, 'scripts', 'bundle.mjs'), join(staging, 'dist')], { cwd: repo });
    cpSync(join(repo, 'bin'), join(staging, 'bin'), { recursive: true });
    cpSync(join(repo, 'playbooks'), join(staging, 'playbooks'), { recursive: true });
    cpSync(join(repo, 'package.json'), join(staging, 'package.json'));
    symlinkSync(join(repo, 'node_modules'), join(staging, 'node_modules'), 'dir');
    // A snapshot of a tree that changed while it was compiled (or did not type-check) is used, not kept.
    if (warnings !== undefined || inputsHash(repo) !== hash) return { root: staging, built: true, warnings };
    writeFileSync(join(staging, '.complete'), `${new Date().toISOString()}\n`);
    try {
      renameSync(staging, target);
    } catch {
      // Another run finished the same snapshot first: use that one.
      if (!existsSync(join(target, '.complete'))) return { root: staging, built: true };
      rmSync(staging, { recursive: true, force: true });
    }
    return { root: target, built: true };
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}
