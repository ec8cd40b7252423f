import { main } from '../../../src/cli/index.js';
import type { Io } from '../../../src/cli/io.js';

// `drill --interactive`: a facilitator answers at the prompt, reading the step messages the thread
// would show. Scripted here as a person would type: the answers reach the engine as commands, and
// an empty answer or end of input stops the drill where it is, which the scorecard says.

function scripted(answers: string[]): Io & { stdout: string[]; stderr: string[]; asked: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const asked: string[] = [];
  return {
    stdout,
    stderr,
    asked,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    env: {},
    async ask(q) {
      asked.push(q);
      return answers.shift();
    },
  };
}

it('a facilitator who says yes and approves by name plays the drill to the end', async () => {
  const io = scripted(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'y' : 'yes')));
  // Approvals ask for a name: answer every prompt with "y" except those, which get "alice" / "bob".
  const names = ['alice', 'bob', 'carol'];
  const ask = io.ask!.bind(io);
  io.ask = async (q) => {
    if (q.startsWith('Approve')) {
      io.asked.push(q);
      return names.shift();
    }
    return ask(q);
  };
  const code = await main(['drill', 'exfil-unknown-fqdn', '--interactive'], io);
  const out = io.stdout.join('\n');
  expect(io.stderr).toEqual([]);
  expect(code).toBe(0);
  // The step messages of the thread, as text, before each question.
  expect(out).toMatch(/B\) Contain/);
  expect(io.asked).toContain('Confirm and apply (as a dry-run)? [y/N] ');
  expect(io.asked.some((q) => q.startsWith('Tick "'))).toBe(true);
  expect(out).toMatch(/Drill scorecard: exfil-unknown-fqdn — PASSED/);
  // The answers are the facilitator's, in the timeline.
  expect(out).toContain('cli:facilitator');
  expect(out).toMatch(/cli:alice/);
});

it('an empty answer stops the drill there, and the scorecard says a step still waits', async () => {
  const io = scripted(['']);
  const code = await main(['drill', 'exfil-unknown-fqdn', '--interactive'], io);
  const out = io.stdout.join('\n');
  expect(io.asked).toHaveLength(1);
  expect(out).toContain('played: no, a step failed or still waits');
  expect(out).toMatch(/Drill scorecard: exfil-unknown-fqdn — FAILED/);
  expect(code).toBe(1);
});

it('--interactive with --auto is a usage error', async () => {
  const io = scripted([]);
  expect(await main(['drill', 'exfil-unknown-fqdn', '--interactive', '--auto'], io)).toBe(2);
  expect(io.stderr.join('\n')).toContain('--interactive and --auto exclude each other');
});
