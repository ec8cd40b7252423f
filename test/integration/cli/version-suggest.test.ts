// `--version` and the nearest-subcommand hint, through the built CLI as a child process (what an
// operator types), including hostile names.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtPackage } from '../crash/build.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const repo = resolve(import.meta.dirname, '../../..');
let bin: string;

function cli(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { encoding: 'utf8', maxBuffer: 2 ** 24 },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  bin = join((await builtPackage(repo)).root, 'bin', 'egress-responder.js');
}, 120_000);

describe('egress-responder --version', () => {
  it('prints the version from package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    const run = await cli(['--version']);
    expect(run).toEqual({ code: 0, stdout: `egress-responder ${version}\n`, stderr: '' });
  });
});

describe('a mistyped subcommand', () => {
  it.each([
    ['drlil', 'drill'],
    ['serv', 'serve'],
    ['valdiate', 'validate'],
    ['grant', 'grants'],
    ['TIMELINE', 'timeline'],
    ['atest', 'attest'],
  ])('%s → did you mean %s?, exit 2', async (typed, meant) => {
    const run = await cli([typed]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toBe(`unknown command "${typed}"; did you mean ${meant}?`);
  });

  it.each(['constructor', '__proto__', 'toString', 'xyzzy', '../../etc/passwd'])(
    'suggests nothing for %s and prints the usage, exit 2',
    async (typed) => {
      const run = await cli([typed]);
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(`unknown command "${typed}"`);
      expect(run.stderr).toContain('Usage:');
      expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    },
  );

  it('a huge name is cut in the message and not compared', async () => {
    const run = await cli(['d'.repeat(100_000)]);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(`unknown command "${'d'.repeat(64)}…"`);
    expect(run.stderr.length).toBeLessThan(5_000);
  });
});
