import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { createRegistry, loadPolicy } from '../../../src/main.js';

// The README is the front door: what it tells an operator to copy must work, the environment it lists
// must be what the code reads, and every link in it and in docs/ must lead somewhere in the repository.

const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');

function between(text: string, name: string): string {
  const m = text.match(new RegExp(`<!-- ${name}:begin -->\\n([\\s\\S]*?)<!-- ${name}:end -->`));
  if (!m) throw new Error(`README.md has no <!-- ${name}:begin/end --> block`);
  return m[1]!;
}

describe('the README config example', () => {
  const yaml = between(readme, 'config-example').replace(/^```yaml\n|```\n?$/gm, '');

  it('loads from a scratch directory, far from the repository, with the shipped playbooks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'readme-config-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, yaml);
      const config = await loadConfig({}, file);
      expect(config.slack?.incidentChannel).toBe('C0123456');
      expect(config.slack?.approvers).toEqual(['U0CCC']);
      expect(config.modes).toEqual({ prod: 'soft', 'dev-*': 'observe' });
      // Paths the example leaves out are the embedded defaults, not the scratch directory.
      expect(config.playbooks).toBe(join(packageRoot, 'playbooks'));
      const policy = await loadPolicy(config, createRegistry());
      expect(policy.errors).toEqual([]);
      expect(policy.playbooks.map((p) => p.playbook.id)).toContain('egress-anomaly');
      expect(policy.contracts.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the README environment table', () => {
  const listed = new Set(
    [...between(readme, 'env-table').matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!),
  );
  const source = readFileSync(join(packageRoot, 'src/config/load.ts'), 'utf8');
  const read = new Set(
    [...source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|secret\('([A-Z][A-Z0-9_]+)'\)/g)].map(
      (m) => (m[1] ?? m[2])!,
    ),
  );

  it('lists every variable the config loader reads, and only those', () => {
    expect(read.size).toBeGreaterThan(5);
    expect([...listed].sort()).toEqual([...read].sort());
  });
});

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const inFence = /^```[\s\S]*?^```/gm;
  for (const m of markdown.replace(inFence, '').matchAll(/^#{1,6}\s+(.+)$/gm)) out.add(slug(m[1]!));
  return out;
}

function markdownFiles(): string[] {
  const docs = join(packageRoot, 'docs');
  const inDocs = readdirSync(docs)
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(docs, n));
  return [join(packageRoot, 'README.md'), ...inDocs];
}

describe('links in README.md and docs/', () => {
  const files = markdownFiles();

  it.each(files.map((f) => [relative(packageRoot, f), f]))(
    '%s: every relative link resolves inside the repository',
    (_name, file) => {
      const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
      const problems: string[] = [];
      let links = 0;
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue; // an address outside: not a file of ours
        links++;
        const [path, hash] = target.split('#') as [string, string | undefined];
        const abs = path === '' ? file : resolve(dirname(file), path);
        if (relative(packageRoot, abs).startsWith('..')) {
          problems.push(`${target}: outside the repository`);
          continue;
        }
        let isFile = false;
        try {
          isFile = statSync(abs).isFile() || statSync(abs).isDirectory();
        } catch {
          problems.push(`${target}: no such file`);
          continue;
        }
        if (hash && isFile && abs.endsWith('.md') && !anchors(readFileSync(abs, 'utf8')).has(hash)) {
          problems.push(`${target}: no heading #${hash} in ${relative(packageRoot, abs)}`);
        }
      }
      expect(problems).toEqual([]);
      if (file.endsWith('README.md')) expect(links).toBeGreaterThan(10);
    },
  );

  it('every page in docs/ is linked from the README', () => {
    const linked = new Set([...readme.matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]!));
    const pages = files.slice(1).map((f) => relative(packageRoot, f));
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });
});
