// deploy/Dockerfile, read as the builder reads it (no image can be built on these machines: there is no
// Docker daemon and no registry but npm's). Instructions are parsed line by line, stage by stage.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployDir } from './kustomize.js';

interface Stage {
  from: string;
  name?: string;
  instructions: { op: string; args: string }[];
}

function stages(text: string): Stage[] {
  const out: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (!op) throw new Error(`unreadable Dockerfile line: ${line}`);
    if (op.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!)!;
      out.push({ from: from!, ...(name ? { name } : {}), instructions: [] });
    } else out.at(-1)!.instructions.push({ op: op.toUpperCase(), args: args! });
  }
  return out;
}

describe('deploy/Dockerfile', () => {
  const text = readFileSync(join(deployDir, 'Dockerfile'), 'utf8');
  const all = stages(text);
  const runtime = all.at(-1)!;
  const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op).map((i) => i.args);

  it('is multi-stage on a slim Node 20 base, every stage pinned to the same one', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const s of all) expect(s.from).toBe('node:20-bookworm-slim');
    expect(runtime.name).toBeUndefined();
  });

  it('runs as a numeric non-root user and group, with node as PID 1 (exec form) and no HEALTHCHECK', () => {
    const users = ops(runtime, 'USER');
    expect(users).toHaveLength(1);
    const [, uid, gid] = /^(\d+):(\d+)$/.exec(users[0]!) ?? [];
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
    expect(JSON.parse(ops(runtime, 'ENTRYPOINT')[0]!)).toEqual(['node', 'bin/egress-responder.js']);
    expect(JSON.parse(ops(runtime, 'CMD')[0]!)[0]).toBe('serve');
    expect(all.flatMap((s) => ops(s, 'HEALTHCHECK'))).toEqual([]);
  });

  it('ships production dependencies only: installed with --omit=dev, without install scripts, and no npm run at run time', () => {
    const copies = ops(runtime, 'COPY');
    const modules = copies.find((c) => / \.\/node_modules$/.test(c))!;
    const from = /--from=(\S+)/.exec(modules)![1];
    const deps = all.find((s) => s.name === from)!;
    const install = ops(deps, 'RUN').join(' ');
    expect(install).toMatch(/npm ci\b/);
    expect(install).toMatch(/--omit=dev/);
    expect(install).toMatch(/--ignore-scripts/);
    expect(ops(runtime, 'RUN')).toEqual([]);
    // The compiled code comes from the build stage; the sources do not reach the runtime image.
    expect(copies.some((c) => /--from=build \/app\/dist/.test(c))).toBe(true);
    expect(copies.some((c) => /^src\b/.test(c))).toBe(false);
  });

  it('gives the build stage every file `npm run build` reads, and the build context lets them in', () => {
    const pkg = JSON.parse(readFileSync(join(deployDir, '..', 'package.json'), 'utf8')) as {
      scripts: { build: string };
    };
    const build = all.find((s) => s.name === 'build')!;
    const copied = ops(build, 'COPY').join(' ');
    const ignore = readFileSync(join(deployDir, 'Dockerfile.dockerignore'), 'utf8');
    const named = pkg.scripts.build.match(/[\w./-]+\.(?:json|mjs)\b/g) ?? [];
    expect(named).toContain('scripts/bundle.mjs');
    for (const file of named) {
      expect(copied).toContain(file);
      expect(ignore).toContain(`!${file}`);
    }
  });

  it('says why node as PID 1 is enough (the signal handlers of serve)', () => {
    expect(text).toMatch(/PID 1/);
    expect(readFileSync(join(deployDir, '..', 'src', 'cli', 'serve.ts'), 'utf8')).toMatch(
      /process\.once\('SIGTERM'/,
    );
  });
});
