import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { allowPolicy } from '../../builders/additive-trap.js';
import { aPod, FakeKubeApi, type FakeKubeApiOptions, type JsonObject } from '../../fakes/kube-api/index.js';
import { FakeSlackApi } from '../../fakes/slack-api/index.js';

// The fake Kubernetes and Slack APIs behind servers of our own, so that the suite sees every request
// as it arrives and every answer as it leaves, and can kill the bot exactly there: before a write
// reaches the cluster (dropped), after the cluster applied it but before the bot heard back
// (unanswered), or a moment after the bot got the answer (answered).

export type TrapPhase = 'before' | 'unanswered' | 'answered';

/** Kill the bot at the `at`-th counted request (1-based), in `phase`; `fire` kills it. */
export interface Trap {
  at: number;
  /**
   * Kill at the first command (Redis) or write (kube: `METHOD /path`, dry runs excluded) whose text
   * matches, instead of the `at`-th.
   */
  match?: RegExp;
  phase: TrapPhase;
  /** For `answered`: how long after the answer left. */
  delayMs: number;
  fire: (why: string) => void;
}

/** One write the bot sent to the fake cluster. */
export interface KubeWrite {
  /** 1-based, among counted writes (not dry-runs, not access reviews). */
  seq: number;
  method: string;
  path: string;
  dryRun: boolean;
  body: unknown;
  /** Filled when the fake answered (absent when the request was dropped). */
  status?: number;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  /** The object's resourceVersion moved: the write changed it. */
  changed?: boolean;
  /** Killed here: `before` (never applied), `unanswered` (applied, the bot never heard). */
  trapped?: TrapPhase;
  /** The bearer token it carried: which process sent it, when each has a kubeconfig of its own. */
  client?: string;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const objKey = (kind: string, namespace: string | undefined, name: string) =>
  `${kind}/${namespace ?? ''}/${name}`;

function parseJson(text: string): JsonObject | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Intercept the answer of `res`: `onAnswer` sees it before it leaves; when it returns 'hold', the
 * answer never leaves (the socket is destroyed once `release` resolves).
 */
function interceptAnswer(
  res: ServerResponse,
  onAnswer: (status: number, body: string) => 'send' | 'hold',
): void {
  const writeHead = res.writeHead.bind(res);
  const end = res.end.bind(res);
  let status = 200;
  let headers: unknown[] = [];
  (res as { writeHead: unknown }).writeHead = (code: number, ...rest: unknown[]) => {
    status = code;
    headers = rest;
    return res;
  };
  (res as { end: unknown }).end = (chunk?: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    if (onAnswer(status, text) === 'hold') {
      res.destroy();
      return res;
    }
    (writeHead as (...a: unknown[]) => unknown)(status, ...headers);
    return (end as (...a: unknown[]) => unknown)(chunk, ...rest);
  };
}

export class TrappedKube {
  readonly fake: FakeKubeApi;
  readonly writes: KubeWrite[] = [];
  trap: Trap | undefined;
  #counted = 0;
  readonly #rv = new Map<string, string>();
  readonly #claimed = new WeakSet<object>();

  private constructor(fake: FakeKubeApi) {
    this.fake = fake;
  }

  /** `opts.token: null` lets several processes each carry a token of their own (`KubeWrite.client`). */
  static async start(opts: FakeKubeApiOptions = {}): Promise<TrappedKube> {
    let self: TrappedKube | undefined;
    const server = createServer((req, res) => void self!.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    self = new TrappedKube(new FakeKubeApi(server, opts));
    return self;
  }

  /**
   * A fresh cluster: in each namespace two payments-api pods and the allow-policy that keeps
   * selecting them (the additive trap, test/builders/additive-trap.ts), nothing else.
   */
  seed(namespaces: readonly string[], pods: (ns: string) => string[]): void {
    this.fake.reset();
    this.writes.length = 0;
    this.#counted = 0;
    this.#rv.clear();
    this.trap = undefined;
    const remember = (o: JsonObject) => {
      const m = o.metadata as JsonObject;
      this.#rv.set(objKey(String(o.kind), m.namespace as string, String(m.name)), String(m.resourceVersion));
    };
    for (const ns of namespaces) {
      for (const name of pods(ns)) {
        remember(
          this.fake.put(
            aPod({
              namespace: ns,
              name,
              labels: { app: 'payments-api' },
              serviceAccountName: 'payments-api',
            }),
          ),
        );
      }
      remember(this.fake.put(allowPolicy(ns)));
    }
  }

  get counted(): number {
    return this.#counted;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake');
    const dryRun = url.searchParams.getAll('dryRun').length > 0;
    const review = url.pathname.startsWith('/apis/authorization.k8s.io/');
    if (!WRITE_METHODS.has(method) || review) return this.fake.handle(req, res);
    const write: KubeWrite = { seq: 0, method, path: url.pathname, dryRun, body: undefined };
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) write.client = auth.slice('Bearer '.length);
    if (!dryRun) write.seq = ++this.#counted;
    this.writes.push(write);
    const t = this.trap;
    const hit = t?.match ? t.match.test(`${method} ${url.pathname}`) : write.seq === t?.at;
    const trap = t && !dryRun && hit ? t : undefined;
    // A matched trap fires once: the process that finishes the work sends the same request again.
    if (trap?.match) this.trap = undefined;
    if (trap?.phase === 'before') {
      write.trapped = 'before';
      trap.fire(`kube write #${write.seq} (${method} ${url.pathname}) before it reached the cluster`);
      req.resume();
      res.destroy();
      return;
    }
    interceptAnswer(res, (status, text) => {
      write.status = status;
      const obj = parseJson(text);
      const m = obj?.metadata as JsonObject | undefined;
      if (obj && m && typeof obj.kind === 'string' && typeof m.name === 'string' && obj.kind !== 'Status') {
        write.kind = obj.kind;
        write.namespace = typeof m.namespace === 'string' ? m.namespace : undefined;
        write.name = m.name;
        write.uid = typeof m.uid === 'string' ? m.uid : undefined;
        write.resourceVersion = typeof m.resourceVersion === 'string' ? m.resourceVersion : undefined;
        if (!dryRun && status < 300 && write.resourceVersion !== undefined) {
          const key = objKey(obj.kind, write.namespace, m.name);
          write.changed = this.#rv.get(key) !== write.resourceVersion;
          this.#rv.set(key, write.resourceVersion);
        }
      }
      if (trap?.phase === 'unanswered') {
        write.trapped = 'unanswered';
        trap.fire(`kube write #${write.seq} (${method} ${url.pathname}) applied, answer withheld`);
        return 'hold';
      }
      if (trap?.phase === 'answered') {
        setTimeout(
          () => trap.fire(`${trap.delayMs} ms after kube write #${write.seq} (${method} ${url.pathname})`),
          trap.delayMs,
        );
      }
      return 'send';
    });
    // The fake records the request (and reads the body) itself; keep the body it parsed.
    const before = this.fake.requests.length;
    await this.fake.handle(req, res);
    const rec = this.fake.requests
      .slice(before)
      .find((r) => r.method === method && r.path === url.pathname && !this.#claimed.has(r));
    if (rec) {
      this.#claimed.add(rec);
      write.body = rec.body;
    }
  }

  close(): Promise<void> {
    return this.fake.close();
  }
}

/** Slack Web API calls that post or change something (what a kill in the presenter interrupts). */
const SLACK_WRITES = /^\/api\/(chat\.|reactions\.|files\.|views\.)/;

export class TrappedSlack {
  readonly fake: FakeSlackApi;
  trap: Trap | undefined;
  #counted = 0;

  private constructor(fake: FakeSlackApi) {
    this.fake = fake;
  }

  static async start(): Promise<TrappedSlack> {
    let self: TrappedSlack | undefined;
    const server = createServer((req, res) => void self!.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    self = new TrappedSlack(new FakeSlackApi(server, {}));
    return self;
  }

  reset(): void {
    this.fake.reset();
    this.#counted = 0;
    this.trap = undefined;
  }

  get counted(): number {
    return this.#counted;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (req.method !== 'POST' || !SLACK_WRITES.test(path)) return this.fake.handle(req, res);
    const seq = ++this.#counted;
    const trap = this.trap && seq === this.trap.at ? this.trap : undefined;
    if (trap?.phase === 'before') {
      trap.fire(`Slack call #${seq} (${path}) before it reached Slack`);
      req.resume();
      res.destroy();
      return;
    }
    if (trap) {
      interceptAnswer(res, () => {
        if (trap.phase === 'unanswered') {
          trap.fire(`Slack call #${seq} (${path}) done, answer withheld`);
          return 'hold';
        }
        setTimeout(() => trap.fire(`${trap.delayMs} ms after Slack call #${seq} (${path})`), trap.delayMs);
        return 'send';
      });
    }
    await this.fake.handle(req, res);
  }

  close(): Promise<void> {
    return this.fake.close();
  }
}
