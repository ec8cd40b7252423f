// Runs the benchmarks against the built code (dist/): `npm run build && npm run bench [name ...]`.
// Each benchmark runs in its own Node process (a fresh heap and JIT, --expose-gc so the harness can
// collect garbage between cases) and prints its own table; a summary follows. Figures are printed,
// never asserted. Benchmarks only talk to 127.0.0.1.
import { execFileSync, fork } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, machineFacts, table } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
export const BENCHMARKS = [
  'parse',
  'contracts',
  'ingest',
  'http',
  'netpol',
  'drill',
  'expiry',
  'ack',
  'storm',
  'footprint',
  'contain',
  'soak',
];
/** Side-by-side benchmarks (several rounds against a baseline) need longer than the others. */
const LIMITS = { ack: 300_000, storm: 900_000, footprint: 600_000, contain: 300_000, soak: 300_000 };
/**
 * Run only when named (`npm run bench kill`), with their own hard stop: they take minutes. `kill`:
 * the kill -9 suite's scenario 100 times (test/integration/crash/).
 */
export const OPT_IN = { kill: { killAfterMs: 900_000 } };
/** Hard stop for one benchmark process (each is designed to finish well within ~20 s). */
const KILL_AFTER_MS = 90_000;

async function child(name) {
  const mod = await import(`./${name}.bench.js`);
  const result = await mod.run();
  if (process.send) process.send({ result });
}

function runOne(name) {
  return new Promise((resolve) => {
    const started = Date.now();
    const killAfterMs = OPT_IN[name]?.killAfterMs ?? LIMITS[name] ?? KILL_AFTER_MS;
    const proc = fork(fileURLToPath(import.meta.url), ['--child', name], {
      execArgv: ['--expose-gc'],
      stdio: 'inherit',
    });
    let result;
    const timer = setTimeout(() => {
      console.error(`bench ${name}: still running after ${killAfterMs / 1000} s, stopping it`);
      proc.kill('SIGKILL');
    }, killAfterMs);
    proc.on('message', (m) => {
      result = m.result;
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ name, result, code, signal, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The most recently modified file under `dir` (recursively), or undefined when there is none. */
function newestFile(dir) {
  let newest;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const mtime = statSync(path).mtimeMs;
    if (!newest || mtime > newest.mtime) newest = { path, mtime };
  }
  return newest;
}

/** Which code is measured: the commit checked out (and whether the tree differs) and when dist/ was built. */
function codeVersion() {
  const root = join(here, '..');
  const built = statSync(join(root, 'dist', 'main.js')).mtime.toISOString();
  try {
    const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'playbooks') !== '';
    return `commit ${commit}${dirty ? ' + uncommitted changes in src/ or playbooks/' : ''}; dist/ built ${built}`;
  } catch {
    return `dist/ built ${built}`;
  }
}

async function main(argv) {
  if (argv[0] === '--child') return child(argv[1]);
  if (!existsSync(join(here, '..', 'dist', 'main.js'))) {
    console.error('dist/ is missing: run `npm run build` first (the benchmarks measure the built code).');
    process.exitCode = 2;
    return;
  }
  const unknown = argv.filter((a) => !BENCHMARKS.includes(a) && !Object.hasOwn(OPT_IN, a));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')} (opt-in: ${Object.keys(OPT_IN).join(', ')})`,
    );
    process.exitCode = 2;
    return;
  }
  const names = argv.length > 0 ? argv : BENCHMARKS;
  const facts = machineFacts();
  console.log('# egress-responder benchmarks');
  console.log(`date: ${new Date().toISOString()}`);
  console.log(
    `machine: node ${facts.node} (V8 ${facts.v8}), ${facts.platform}, ${facts.cpu}, ${facts.cores} cores, ${facts.memoryGiB} GiB, load average (1 min) ${facts.load1}`,
  );
  console.log(`code: ${codeVersion()}`);
  const newestSrc = newestFile(join(here, '..', 'src'));
  if (newestSrc && newestSrc.mtime > statSync(join(here, '..', 'dist', 'main.js')).mtimeMs) {
    console.log(
      `warning: src/ changed after dist/ was built (${relative(join(here, '..'), newestSrc.path)}); these figures are for the older build: run npm run build`,
    );
  }
  console.log('columns: rate = units/s; calls/s and latency percentiles are per call (one sample each)');

  const done = [];
  for (const name of names) done.push(await runOne(name));

  console.log('\n# summary');
  const rows = [];
  for (const d of done) {
    if (!d.result) {
      rows.push([d.name, `FAILED (exit ${d.code ?? d.signal})`, '-', '-', '-', `${d.seconds.toFixed(1)}`]);
      process.exitCode = 1;
      continue;
    }
    for (const c of d.result.cases) {
      if (c.summary) {
        // A side-by-side case: ours against its baseline from the same run, said in one line.
        rows.push([`${d.name}: ${c.case}`, c.summary, '-', '-', '-', `${d.seconds.toFixed(1)}`]);
        continue;
      }
      rows.push([
        `${d.name}: ${c.case}`,
        c.skipped ? 'skipped' : format.rate(c.unitsPerSec),
        c.unit,
        c.skipped ? '-' : format.ms(c.latency.p50Ms),
        c.skipped ? '-' : format.ms(c.latency.p99Ms),
        `${d.seconds.toFixed(1)}`,
      ]);
    }
  }
  console.log(table(['case', 'rate', 'unit', 'p50 ms', 'p99 ms', 'bench s'], rows));
}

await main(process.argv.slice(2));
