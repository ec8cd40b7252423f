#!/usr/bin/env node
// Writes docs/alert-fields.md from the built field reference (run `npm run build` first); with
// --check, exits 1 when the file differs from what would be written.
import { readFileSync, writeFileSync } from 'node:fs';

const { renderFieldReference } = await import(
  new URL('../dist/intake/field-reference.js', import.meta.url).href
);
const target = new URL('../docs/alert-fields.md', import.meta.url);
const text = renderFieldReference();
if (process.argv.includes('--check')) {
  const same = readFileSync(target, 'utf8') === text;
  if (!same)
    process.stderr.write(
      'docs/alert-fields.md is stale: run npm run build && node scripts/alert-fields.mjs\n',
    );
  process.exit(same ? 0 : 1);
}
writeFileSync(target, text);
