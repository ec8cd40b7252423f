import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Trap } from './fakes.js';

// A TCP proxy between the bot and Redis that reads the commands the bot sends (RESP arrays of bulk
// strings, which is all ioredis sends), counts them, and can kill the bot at the k-th one: before it
// reaches Redis (never executed), or right after it was forwarded (executed; the bot never hears the
// answer), or a moment later (answered). Kills between two store writes are where a run that is not
// idempotent shows it.

/** Connection chatter, not state: not counted. */
const UNCOUNTED = new Set([
  'SELECT',
  'PING',
  'INFO',
  'CLIENT',
  'SCRIPT',
  'HELLO',
  'COMMAND',
  'QUIT',
  'READONLY',
]);

/** The end of the RESP command starting at `at` in `buf`, and its name; undefined when incomplete. */
function commandAt(buf: Buffer, at: number): { end: number; name: string; text: string } | undefined {
  const line = (from: number): { text: string; next: number } | undefined => {
    const cr = buf.indexOf('\r\n', from);
    return cr < 0 ? undefined : { text: buf.toString('latin1', from, cr), next: cr + 2 };
  };
  const head = line(at);
  if (!head) return undefined;
  if (!head.text.startsWith('*'))
    throw new Error(`redis proxy: not a RESP array: ${JSON.stringify(head.text.slice(0, 40))}`);
  const count = Number(head.text.slice(1));
  let pos = head.next;
  let name = '';
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = line(pos);
    if (!len) return undefined;
    if (!len.text.startsWith('$'))
      throw new Error(`redis proxy: not a bulk string: ${JSON.stringify(len.text.slice(0, 40))}`);
    const n = Number(len.text.slice(1));
    if (len.next + n + 2 > buf.length) return undefined;
    if (i === 0) name = buf.toString('latin1', len.next, len.next + n).toUpperCase();
    if (parts.join(' ').length < 300) parts.push(buf.toString('utf8', len.next, len.next + Math.min(n, 80)));
    pos = len.next + n + 2;
  }
  return { end: pos, name, text: parts.join(' ').slice(0, 300) };
}

export class RedisProxy {
  trap: Trap | undefined;
  /** Commands counted since the last reset (name and the start of its arguments, in order). */
  readonly commands: string[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Proxy 127.0.0.1:<port> → `upstreamPort` on 127.0.0.1. */
  static async start(upstreamPort: number): Promise<RedisProxy> {
    let self: RedisProxy | undefined;
    const server = createServer((client) => self!.#connect(client, upstreamPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    self = new RedisProxy(server);
    return self;
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get counted(): number {
    return this.commands.length;
  }

  reset(): void {
    this.commands.length = 0;
    this.trap = undefined;
  }

  #connect(client: Socket, upstreamPort: number): void {
    const upstream = createConnection({ host: '127.0.0.1', port: upstreamPort });
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    let pending: Buffer = Buffer.alloc(0);
    let deaf = false;
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', () => {
      this.#sockets.delete(client);
      upstream.end();
    });
    upstream.on('close', () => {
      this.#sockets.delete(upstream);
      client.destroy();
    });
    client.on('error', drop);
    upstream.on('error', drop);
    upstream.on('data', (chunk) => {
      if (!deaf) client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      if (deaf) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      for (;;) {
        const cmd = commandAt(pending, at);
        if (!cmd) break;
        if (!UNCOUNTED.has(cmd.name)) {
          this.commands.push(cmd.text);
          const trap = this.trap;
          const hit = trap && (trap.match ? trap.match.test(cmd.text) : this.commands.length === trap.at);
          if (trap && hit) {
            this.trap = undefined;
            const label = `Redis command #${this.commands.length} (${cmd.name})`;
            if (trap.phase === 'before') {
              upstream.write(pending.subarray(0, at));
              trap.fire(`${label} before it reached Redis`);
              deaf = true;
              setTimeout(drop, 50);
              return;
            }
            if (trap.phase === 'unanswered') {
              trap.fire(`${label} sent to Redis, answer withheld`);
              deaf = true;
              upstream.write(pending.subarray(0, cmd.end));
              setTimeout(drop, 50);
              return;
            }
            setTimeout(() => trap.fire(`${trap.delayMs} ms after ${label}`), trap.delayMs);
          }
        }
        at = cmd.end;
      }
      if (at > 0) {
        upstream.write(pending.subarray(0, at));
        pending = pending.subarray(at);
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
