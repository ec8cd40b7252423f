import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { loadContracts } from '../contracts/load.js';
import { renderContracts } from '../contracts/render.js';
import { fileNameOf, formatObjects, formatRender, type OutputFormat } from '../contracts/render-output.js';
import { CodedError } from '../domain/errors.js';
import type { Io } from './io.js';
import { checkedPath, renderFlagOptions, renderOptionsFrom } from './render-flags.js';

// `egress-responder contracts render`: every contract as the policies that enforce it. To stdout
// (all contracts, one stream) or one file per contract in --out, rewritten only when it changed.

const USAGE =
  'usage: egress-responder contracts render [--contracts DIR] [--out DIR] [--format yaml|json] [--fqdn cilium|cidrs] [--no-dns] [--app-label KEY] [--trust-domain DOMAIN] [--config FILE]';

function formatOf(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'yaml' || value === 'json') return value ?? 'yaml';
  throw new CodedError('command_invalid', `--format must be yaml or json, not "${value}"\n${USAGE}`);
}

async function writeIfChanged(file: string, text: string): Promise<boolean> {
  const before = await readFile(file, 'utf8').catch(() => undefined);
  if (before === text) return false;
  await writeFile(file, text);
  return true;
}

export async function contractsCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      contracts: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      ...renderFlagOptions,
    },
  });
  const [action, ...extra] = positionals;
  if (action !== 'render')
    throw new CodedError(
      'command_invalid',
      `${action === undefined ? 'contracts needs a command' : `unknown contracts command "${action}"`}\n${USAGE}`,
    );
  if (extra.length > 0)
    throw new CodedError(
      'command_invalid',
      `contracts render takes no argument (got "${extra.join(' ')}")\n${USAGE}`,
    );
  const format = formatOf(values.format);
  const opts = renderOptionsFrom(values);
  const config = await loadConfig(io.env, values.config);
  const dir = values.contracts ? resolve(checkedPath('--contracts', values.contracts)) : config.contracts;
  const out = values.out === undefined ? undefined : resolve(checkedPath('--out', values.out));

  const set = await loadContracts(dir);
  const renders = renderContracts(set.contracts, opts);
  const problems = [
    ...set.errors.map((e) => e.describe()),
    ...renders.flatMap((r) => r.problems.map((p) => `${r.file}: ${p}`)),
  ];
  for (const r of renders) for (const w of r.warnings) io.err(`warning ${r.file}: ${w}`);
  for (const p of problems) io.err(`error ${p}`);
  const rendered = renders.filter((r) => r.objects.length > 0);

  if (out === undefined) {
    const objects = rendered.flatMap((r) => r.objects);
    if (objects.length > 0) io.out(formatObjects(objects, format).trimEnd());
  } else {
    await mkdir(out, { recursive: true });
    for (const r of rendered) {
      const file = join(out, fileNameOf(r, format));
      const changed = await writeIfChanged(file, formatRender(r, format));
      io.err(
        `${changed ? 'wrote' : 'unchanged'} ${file}: ${r.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
      );
    }
  }
  io.err(
    `${rendered.length} contract(s) rendered to ${rendered.reduce((n, r) => n + r.objects.length, 0)} object(s); ${problems.length} error(s)`,
  );
  return problems.length > 0 ? 1 : 0;
}
