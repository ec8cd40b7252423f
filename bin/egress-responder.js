#!/usr/bin/env node
// Thin launcher: the CLI runs from dist/bundle/ (tsc's output bundled by scripts/bundle.mjs; built by
// `npm run build`, which `npm ci` runs via prepare).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/bundle/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'egress-responder: dist/bundle/ is missing; run `npm ci` (or `npm run build`) first.\n',
  );
  process.exit(2);
}
// `egress-responder … | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
