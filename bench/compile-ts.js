// Test code shared with benchmarks (the fakes, the harnesses) is TypeScript: compile it with swc into a
// temporary directory whose src/ is a link to dist/ (so what it imports of ours is the built code) and
// whose node_modules/ is the project's. Returns how many files were compiled.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { transformSync } from '@swc/core';

export function compileTs(root, entries, out) {
  symlinkSync(join(root, 'dist'), join(out, 'src'), 'dir');
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  const todo = entries.map((e) => join(root, e));
  const done = new Set();
  while (todo.length > 0) {
    const file = todo.pop();
    if (done.has(file)) continue;
    done.add(file);
    const { code } = transformSync(readFileSync(file, 'utf8'), {
      filename: file,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    });
    const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, code);
    for (const [, spec] of code.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const dep = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      if (!relative(root, dep).startsWith(`src${'/'}`)) todo.push(dep);
    }
  }
  return done.size;
}
