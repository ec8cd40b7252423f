/** What a CLI command may touch: its output streams and the environment. Tests pass their own. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /** A line from the person at the terminal (`drill --interactive`); undefined at end of input. */
  ask?(question: string): Promise<string | undefined>;
  /** All of standard input (`validate --manifests -`), at most `maxBytes`; undefined past it. */
  stdin?(maxBytes: number): Promise<string | undefined>;
}

let lines: AsyncIterator<string> | undefined;

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  async ask(question) {
    process.stdout.write(question);
    // One reader for the process, created on first use (a command that never asks never holds stdin).
    lines ??= (await import('node:readline'))
      .createInterface({ input: process.stdin })
      [Symbol.asyncIterator]();
    const next = await lines.next();
    return next.done ? undefined : next.value;
  },
  async stdin(maxBytes) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) return undefined;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  },
};
