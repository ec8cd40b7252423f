import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../support/redis.js';

// `egress-responder serve` as a real child process: started from a package root, ready once it says
// it is listening, and killed with SIGKILL (no shutdown hook runs: what a crashed pod or an OOM kill
// leaves behind).

export interface ChildOptions {
  /** A package root with bin/egress-responder.js and dist/. */
  root: string;
  config: string;
  env: Record<string, string>;
  /** How long the child may take to say it listens. */
  readyTimeoutMs?: number;
}

export interface Child {
  port: number;
  base: string;
  pid: number;
  /** performance.now() when it was spawned and when it said it was listening. */
  spawnedAt: number;
  readyAt: number;
  /** Resolves when the process has exited (code, signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** SIGKILL, synchronously sent; await `exited` to know it is gone. */
  kill(): void;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines it wrote (stdout and stderr), for a failure message. */
  output(): string;
}

const KEEP_LINES = 60;

async function spawnOnce(opts: ChildOptions, port: number): Promise<Child | { retry: string }> {
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line.length > 600 ? `${line.slice(0, 600)}…` : line);
      if (lines.length > KEEP_LINES) lines.shift();
    }
  };
  const spawnedAt = performance.now();
  const proc: ChildProcess = spawn(
    process.execPath,
    [join(opts.root, 'bin', 'egress-responder.js'), 'serve', '--config', opts.config],
    { env: { ...opts.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  proc.once('error', (err) => lines.push(`spawn error: ${err.message}`));
  proc.stdout!.on('data', keep);
  let ready: (() => void) | undefined;
  const listening = new Promise<void>((resolve) => {
    ready = resolve;
  });
  proc.stderr!.on('data', (chunk: Buffer) => {
    keep(chunk);
    if (chunk.toString('utf8').includes(`listening on :${port}`)) ready?.();
  });
  const timeoutMs = opts.readyTimeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    listening.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  const output = () => lines.join('\n');
  if (outcome !== 'ready') {
    proc.kill('SIGKILL');
    await exited;
    const text = output();
    if (outcome === 'exited' && /EADDRINUSE/.test(text)) return { retry: text };
    throw new Error(
      `serve did not start (${outcome === 'timeout' ? `not listening after ${timeoutMs} ms` : 'it exited'}):\n${text}`,
    );
  }
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    pid: proc.pid!,
    spawnedAt,
    readyAt: performance.now(),
    exited,
    alive,
    kill() {
      if (alive()) proc.kill('SIGKILL');
    },
    async stop(graceMs = 5000) {
      if (!alive()) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    output,
  };
}

/** Start `serve` on a free port (another, if the port was taken before the child could bind it). */
export async function startChild(opts: ChildOptions): Promise<Child> {
  let last = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const got = await spawnOnce(opts, await freePort());
    if (!('retry' in got)) return got;
    last = got.retry;
  }
  throw new Error(`serve could not bind a free port in 5 attempts:\n${last}`);
}
