// `node scripts/bundle.mjs <dist>`: the CLI that tsc compiled into <dist>/, bundled with esbuild into
// <dist>/bundle/, which bin/egress-responder.js runs. Why: Node resolves, reads and links every ES module
// file on its own; for our ~260 files that was about 200 ms of `serve`'s 1 s start-up, and a restarted
// pod mid-incident is not ready until it is done. Only our code is bundled: packages stay imports of
// node_modules (`packages: 'external'`), so pino's worker threads, Bolt's files and the lazily loaded
// Kubernetes client behave exactly as they do unbundled. Code imported with `import()` (the Kubernetes
// cluster, the Slack app) becomes its own chunk, loaded when first needed as before. dist/bundle/ sits
// two levels below the package root, as dist/<dir>/ does, so `new URL('../../', import.meta.url)`
// (config/paths.ts) names the same root.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Bundle `<dist>/cli/index.js` into `<dist>/bundle/index.js` (and its chunks). */
export async function bundle(dist) {
  const outdir = join(dist, 'bundle');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { index: join(dist, 'cli', 'index.js') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    // tsc's own maps are read in, so a stack trace mapped with --enable-source-maps names src/ lines.
    sourcemap: true,
    logLevel: 'warning',
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dist = process.argv[2];
  if (!dist) {
    process.stderr.write('usage: node scripts/bundle.mjs <dist directory>\n');
    process.exit(2);
  }
  await bundle(resolve(dist));
}
