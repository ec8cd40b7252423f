#!/usr/bin/env node
// The layer rules of ARCHITECTURE.md, written into biome.json as noRestrictedImports overrides.
//
//   node scripts/layers.mjs          rewrite biome.json from the table
//   node scripts/layers.mjs --check  exit 1 (and say what differs) when biome.json is out of date
//
// Biome applies only the last matching override's options for a rule, so every file must match
// exactly one override carrying all of its restrictions: one override per folder and directory
// depth (`src/engine/*.ts`, `src/engine/*/*.ts`, …), each with relative patterns anchored to that
// depth, so `../k8s/` from src/actions/rotate/ (which is src/actions/k8s/) is never mistaken for
// the top-level k8s/ folder.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_DEPTH = 4;
const ROOTS = ['cli', 'main'];

/** The table between the layers markers: folder → { allowed folders, allowed single files, packages }. */
export function readLayers(markdown = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8')) {
  const begin = markdown.indexOf('<!-- layers:begin -->');
  const end = markdown.indexOf('<!-- layers:end -->');
  if (begin < 0 || end < begin) throw new Error('ARCHITECTURE.md: no <!-- layers:begin/end --> table');
  const rows = markdown
    .slice(begin, end)
    .split('\n')
    .filter((l) => l.startsWith('| `'));
  const layers = new Map();
  for (const row of rows) {
    const cells = row.split('|').map((c) => c.trim());
    const folder = cells[1].replace(/[`/]/g, '');
    const imports =
      cells[3] === '—'
        ? []
        : cells[3]
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    const packages = (cells[4] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    layers.set(folder, {
      folders: imports.filter((i) => !i.includes('/')),
      files: imports.filter((i) => i.includes('/')),
      packages,
    });
  }
  return layers;
}

/** Top-level folders of src/ (and the files of each, for partial allowances). */
function srcFolders() {
  const src = join(root, 'src');
  return readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory());
}

function filesOf(folder) {
  return readdirSync(join(root, 'src', folder))
    .filter((n) => n.endsWith('.ts'))
    .map((n) => n.replace(/\.ts$/, '.js'));
}

/** The biome overrides that enforce the table. */
export function layerOverrides(layers = readLayers()) {
  const folders = srcFolders();
  const missing = folders.filter((f) => !layers.has(f) && !ROOTS.includes(f));
  if (missing.length > 0)
    throw new Error(`ARCHITECTURE.md's layer table has no row for src/${missing.join(', src/')}`);
  const adapterPackages = [...layers.values()].flatMap((l) => l.packages);
  const overrides = [];
  for (const [folder, rule] of layers) {
    for (let depth = 1; depth <= MAX_DEPTH; depth++) {
      const up = '../'.repeat(depth);
      const group = [];
      for (const other of folders) {
        if (other === folder || ROOTS.includes(other) || rule.folders.includes(other)) continue;
        const allowedFiles = rule.files
          .filter((f) => f.startsWith(`${other}/`))
          .map((f) => f.replace(/\.ts$/, '.js'));
        group.push(`${up}${other}/**`);
        for (const f of allowedFiles) group.push(`!${up}${f}`);
      }
      group.push(`${up}main.js`, `${up}cli/**`, `${up}../test/**`);
      const patterns = [
        {
          group,
          message: `src/${folder}/ may import only ${[...rule.folders, ...rule.files].join(', ') || 'nothing of ours'} (ARCHITECTURE.md, layers).`,
        },
      ];
      const banned = adapterPackages.filter((p) => !rule.packages.includes(p));
      if (banned.length > 0) {
        patterns.push({
          group: banned,
          message: `adapter libraries belong to their own folder: ${banned.join(', ')} are not src/${folder}/'s (ARCHITECTURE.md).`,
        });
      }
      if (folder === 'domain')
        patterns.push({ group: ['node:*'], message: 'domain/ is pure: no node:* modules.' });
      const glob = ['src', folder, ...Array(depth - 1).fill('*'), '*.ts'].join('/');
      overrides.push({
        includes: [glob],
        linter: { rules: { style: { noRestrictedImports: { level: 'error', options: { patterns } } } } },
      });
    }
  }
  // Files of folders with allowances for single files must exist: a renamed interface is a stale table.
  for (const [folder, rule] of layers) {
    for (const f of rule.files) {
      const [dir, file] = f.split('/');
      if (!filesOf(dir).includes(file.replace(/\.ts$/, '.js'))) {
        throw new Error(`ARCHITECTURE.md: src/${folder}/ may import ${f}, which does not exist`);
      }
    }
  }
  return overrides;
}

/** biome.json with its layer overrides replaced (every other setting kept). */
export function biomeConfig(current = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8'))) {
  const others = (current.overrides ?? []).filter((o) => !JSON.stringify(o).includes('noRestrictedImports'));
  return { ...current, overrides: [...others, ...layerOverrides()] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = join(root, 'biome.json');
  const text = readFileSync(path, 'utf8');
  const next = `${JSON.stringify(biomeConfig(JSON.parse(text)), null, 2)}\n`;
  if (process.argv.includes('--check')) {
    if (JSON.stringify(JSON.parse(text)) !== JSON.stringify(JSON.parse(next))) {
      console.error('biome.json does not match the layer table of ARCHITECTURE.md: run `npm run layers`');
      process.exit(1);
    }
    console.log('biome.json matches the layer table of ARCHITECTURE.md');
  } else {
    writeFileSync(path, next);
    console.log(`biome.json: ${layerOverrides().length} layer overrides written from ARCHITECTURE.md`);
  }
}
