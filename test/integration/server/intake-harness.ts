import type { Server } from 'node:http';
import { type AddressInfo, createServer, type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parseConfig, readEnv } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { loadContracts } from '../../../src/contracts/load.js';
import { allowAll } from '../../../src/domain/access.js';
import type { Incident } from '../../../src/domain/incident.js';
import { createCore, createRegistry, type Policy } from '../../../src/main.js';
import { systemClock } from '../../../src/observability/clock.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { loadPlaybooks } from '../../../src/playbooks/load.js';
import { createHttpServer } from '../../../src/server/http.js';
import type { Store } from '../../../src/store/store.js';

// What the intake tests under test/integration/server/ share: the /alerts server built in-process as
// test/integration/server/alerts-endpoint.test.ts builds it (createCore + createHttpServer, real HTTP
// on a loopback port, no worker: queued playbook runs stay in the schedule where a test can read them),
// the answer's shape, and a TCP proxy that can slow the way to Redis down.

export const TOKEN = 'intake-test-token-7f3c9a';

export type Status =
  | 'opened'
  | 'folded'
  | 'duplicate'
  | 'resolved'
  | 'ignored'
  | 'rejected'
  | 'not_recorded'
  | 'unknown';

export interface AlertAnswer {
  index: number;
  at?: string;
  status: Status;
  id: string | null;
  issues?: { path: string; message: string }[];
  error?: string;
}

export interface AlertsBody {
  format: string;
  alerts: AlertAnswer[];
  summary: Partial<Record<Status, number>>;
  incidents: { id: string | null; status: Status }[];
  error?: string;
  message?: string;
  issues?: { path: string; message: string }[];
}

export interface Posted {
  status: number;
  body: AlertsBody;
  retryAfter: string | null;
  ms: number;
}

export interface Served {
  server: Server;
  base: string;
  store: Store;
  /** POST /alerts with the bearer token (unless `headers` says otherwise); the answer decoded. */
  post(body: unknown, headers?: Record<string, string>): Promise<Posted>;
  close(): Promise<void>;
}

let policyLoaded: Promise<{ registry: ReturnType<typeof createRegistry>; policy: Policy }> | undefined;
async function loadPolicyOnce() {
  policyLoaded ??= (async () => {
    const registry = createRegistry();
    const [pb, ct] = await Promise.all([
      loadPlaybooks(join(packageRoot, 'playbooks'), registry),
      loadContracts(join(packageRoot, 'playbooks', 'contracts')),
    ]);
    const policy: Policy = { playbooks: pb.playbooks, contracts: ct.contracts, errors: [] };
    return { registry, policy };
  })();
  return policyLoaded;
}

export async function serve(
  store: Store,
  opts: { storeTimeoutMs?: number; log?: Logger; retryWindowMs?: number } = {},
): Promise<Served> {
  const { registry, policy } = await loadPolicyOnce();
  const config = parseConfig('{}', 'test-config.yaml', packageRoot, readEnv({}));
  const log = opts.log ?? silentLogger();
  const { recorder } = createCore({
    config,
    store,
    registry,
    policy,
    cluster: undefined,
    log,
    access: allowAll,
  });
  const server: Server = createHttpServer({
    alerts: {
      recorder: { ...recorder, retryWindowMs: opts.retryWindowMs ?? 600_000 },
      token: TOKEN,
      parse: {},
      log,
      storeTimeoutMs: opts.storeTimeoutMs ?? config.intake.requestTimeout, // as serve has it
      now: () => Date.now(),
    },
    store,
    clock: systemClock,
    log,
    metrics: createMetrics(),
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    base,
    store,
    async post(body, headers = { authorization: `Bearer ${TOKEN}` }) {
      const started = performance.now();
      const res = await fetch(`${base}/alerts`, {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...headers },
      });
      const text = await res.text();
      const ms = performance.now() - started;
      return {
        status: res.status,
        body: JSON.parse(text) as AlertsBody,
        retryAfter: res.headers.get('retry-after'),
        ms,
      };
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * One egress event (format 1) of anomaly `anomaly`: each anomaly has its own destination name, under
 * its own registrable domain (subdomains of one domain fold into one incident by default).
 */
export function egressEvent(anomaly: number | string, over: Record<string, unknown> = {}) {
  return {
    src_service: 'payments-api',
    src_namespace: 'prod',
    dst_type: 'fqdn',
    dst_name: `exfil.a${anomaly}.net`,
    dst_port: 443,
    protocol: 'https',
    ...over,
  };
}

/** Every incident in the store by its destination name (one anomaly = one name here). */
export async function incidentsByName(store: Store): Promise<Map<string, Incident>> {
  const all = await store.incidents.list();
  const out = new Map<string, Incident>();
  for (const i of all) {
    if (out.has(i.alert.destination.name)) {
      throw new Error(
        `two incidents for ${i.alert.destination.name}: ${out.get(i.alert.destination.name)!.id}, ${i.id}`,
      );
    }
    out.set(i.alert.destination.name, i);
  }
  return out;
}

export const countBy = <T>(xs: readonly T[], key: (x: T) => string): Map<string, number> => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
};

export const RECORDED: ReadonlySet<Status> = new Set([
  'opened',
  'folded',
  'duplicate',
  'resolved',
  'ignored',
]);

export interface SlowProxy {
  port: number;
  url: string;
  /** Every chunk from a client to Redis waits this long (order kept, also across a change). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of Redis that adds latency on the way in: a slow network or a Redis that answers
 * late, without touching the Redis process. Replies pass through at once.
 */
export async function slowProxy(redisPort: number, delayMs = 0): Promise<SlowProxy> {
  let delay = delayMs;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(redisPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const queue: { due: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = (): void => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0]!.due <= now) upstream.write(queue.shift()!.chunk);
      if (queue.length > 0) timer = setTimeout(pump, queue[0]!.due - now);
    };
    client.on('data', (chunk: Buffer) => {
      // Never earlier than the chunk before it: order on the wire is the protocol.
      const due = Math.max(Date.now() + delay, queue.at(-1)?.due ?? 0);
      queue.push({ due, chunk });
      if (!timer) timer = setTimeout(pump, Math.max(0, queue[0]!.due - Date.now()));
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      clearTimeout(timer);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    setDelay(ms) {
      delay = ms;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
