import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
// @ts-expect-error: a plain .mjs script (the one `npm run layers` runs), imported for its functions
import { biomeConfig, readLayers } from '../../../scripts/layers.mjs';
import { packageRoot } from '../../../src/config/paths.js';

// The layers of ARCHITECTURE.md, held against the code three ways: biome.json says the same, every
// import in src/ points the way the table says (and folders form no cycle), and lint really refuses
// a forbidden import of every kind (one planted per rule, in a scratch copy).

type Layer = { folders: string[]; files: string[]; packages: string[] };
const layers = readLayers() as Map<string, Layer>;
const src = join(packageRoot, 'src');
const ROOTS = new Set(['cli', 'main.ts']);

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"`;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
    out.push((m[1] ?? m[2])!);
  }
  return out;
}

const folderOf = (file: string) => relative(src, file).split('/')[0]!;

describe('layers: ARCHITECTURE.md, biome.json and the code agree', () => {
  it('has a row for every folder of src/', () => {
    const folders = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory() && !ROOTS.has(n));
    expect(folders.filter((f) => !layers.has(f))).toEqual([]);
  });

  it('biome.json carries exactly the rules the table says (npm run layers writes them)', () => {
    const current = JSON.parse(readFileSync(join(packageRoot, 'biome.json'), 'utf8'));
    expect(current.overrides).toEqual(biomeConfig(current).overrides);
  });

  it('every import in src/ points the way the table says, and folders form no cycle', () => {
    const problems: string[] = [];
    const edges = new Map<string, Set<string>>();
    const adapterPackages = [...layers.values()].flatMap((l) => l.packages);
    for (const file of tsFiles(src)) {
      const from = folderOf(file);
      if (ROOTS.has(from)) continue;
      const rule = layers.get(from)!;
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) {
          const pkg = adapterPackages.find((p) =>
            p.endsWith('/*') ? spec.startsWith(p.slice(0, -1)) : spec === p,
          );
          if (pkg && !rule.packages.includes(pkg)) problems.push(`${relative(src, file)} imports ${spec}`);
          if (from === 'domain' && spec.startsWith('node:'))
            problems.push(`${relative(src, file)} imports ${spec}`);
          continue;
        }
        const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
        const rel = relative(src, target);
        if (rel.startsWith('..')) {
          problems.push(`${relative(src, file)} imports ${spec}, outside src/`);
          continue;
        }
        const to = rel.split('/')[0]!;
        if (to === from) continue;
        if (!rule.folders.includes(to) && !rule.files.includes(rel))
          problems.push(`${relative(src, file)} → ${rel}`);
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
    }
    expect(problems).toEqual([]);
    // A depth-first search over folder arrows: a back edge is a cycle.
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      state.set(f, 'open');
      for (const to of edges.get(f) ?? []) {
        if (state.get(to) === 'open') cycles.push([...path, f, to].join(' → '));
        else if (!state.has(to)) visit(to, [...path, f]);
      }
      state.set(f, 'done');
    };
    for (const f of edges.keys()) if (!state.has(f)) visit(f, []);
    expect(cycles).toEqual([]);
  });
});

describe('layers: lint refuses a forbidden import of every kind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'er-layers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('flags one planted import per rule and none of the allowed ones', () => {
    const config = JSON.parse(readFileSync(join(packageRoot, 'biome.json'), 'utf8'));
    config.vcs = { enabled: false };
    config.files = { includes: ['src/**'] };
    delete config.$schema;
    writeFileSync(join(dir, 'biome.json'), JSON.stringify(config));
    const folders = [...layers.keys()];
    const forbidden: string[] = [];
    const allowed: string[] = [];
    const plant = (folder: string, depth: number, name: string, spec: string, bad: boolean) => {
      const where = join(dir, 'src', folder, ...Array(depth - 1).fill('nested'));
      mkdirSync(where, { recursive: true });
      const file = join(where, `${name}.ts`);
      writeFileSync(file, `import type { X } from '${spec}';\nexport type Y = X;\n`);
      (bad ? forbidden : allowed).push(relative(dir, file));
    };
    for (const [folder, rule] of layers) {
      for (const depth of [1, 2, 3]) {
        const up = '../'.repeat(depth);
        for (const other of folders) {
          if (other === folder) continue;
          const ok = rule.folders.includes(other);
          plant(folder, depth, `to-${other}`, `${up}${other}/anything.js`, !ok);
          for (const f of rule.files.filter((x) => x.startsWith(`${other}/`))) {
            plant(folder, depth, `to-${other}-interface`, `${up}${f.replace(/\.ts$/, '.js')}`, false);
          }
        }
        plant(folder, depth, 'to-main', `${up}main.js`, true);
        plant(folder, depth, 'to-cli', `${up}cli/index.js`, true);
      }
      for (const pkg of ['ioredis', '@slack/bolt', '@kubernetes/client-node']) {
        const own = rule.packages.some((p) =>
          p.endsWith('/*') ? pkg.startsWith(p.slice(0, -1)) : pkg === p,
        );
        plant(folder, 1, `pkg-${pkg.replace(/\W/g, '-')}`, pkg, !own);
      }
    }
    plant('domain', 1, 'node-module', 'node:fs', true);
    let out = '';
    try {
      out = execFileSync(
        join(packageRoot, 'node_modules', '.bin', 'biome'),
        ['lint', '--reporter=json', '--max-diagnostics=none', '.'],
        {
          cwd: dir,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    } catch (err) {
      out = (err as { stdout: string }).stdout;
    }
    const report = JSON.parse(out) as { diagnostics: { category: string; location: { path: string } }[] };
    const flagged = new Set(
      report.diagnostics
        .filter((d) => d.category === 'lint/style/noRestrictedImports')
        .map((d) => d.location.path),
    );
    // Every rule of the table bites: domain → engine, engine → slack, intake → engine/store, slack → store,
    // actions → store, config → intake, and all the others.
    expect(forbidden.filter((f) => !flagged.has(f))).toEqual([]);
    expect(allowed.filter((f) => flagged.has(f))).toEqual([]);
    expect(forbidden.length).toBeGreaterThan(500);
    for (const named of [
      'src/domain/to-engine.ts',
      'src/engine/to-slack.ts',
      'src/intake/to-engine.ts',
      'src/intake/to-store.ts',
      'src/slack/to-store.ts',
      'src/actions/nested/to-store.ts',
      'src/config/to-intake.ts',
    ]) {
      expect(flagged.has(named)).toBe(true);
    }
  });
});
