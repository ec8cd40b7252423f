// The runtime image installs `dependencies` only (npm ci --omit=dev), and the bundle leaves every
// package an import of node_modules: a package src/ imports at run time must be declared there, not
// merely present because another package depends on it (@slack/web-api was, through Bolt).
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Package names src/ imports at run time (`import type` and `import { type … }`-only lines erased). */
function runtimeImports(): Map<string, string> {
  const found = new Map<string, string>();
  const statement =
    /^\s*import\s+(?!type\b)(?:[^'"]*?\bfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const file of sources(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(statement)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!found.has(name)) found.set(name, file.slice(root.length + 1));
    }
  }
  return found;
}

describe('package.json dependencies', () => {
  it('declare every package src/ imports at run time', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const imports = runtimeImports();
    expect(imports.size).toBeGreaterThan(5);
    const undeclared = [...imports].filter(([name]) => !(name in pkg.dependencies));
    expect(undeclared).toEqual([]);
  });
});
