import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../observability/clock.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import { type AlertsEndpoint, type EndpointResponse, handleAlerts } from './alerts.js';

export const MAX_ALERT_BODY_BYTES = 1024 * 1024;

export interface HttpServerDeps {
  alerts: AlertsEndpoint;
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Slack's HTTP receiver (Bolt) for everything under /slack/; absent in Socket Mode. */
  slack?: RequestListener;
  /** Readiness beyond the store: config loaded, Slack connected … */
  ready?: () => string | undefined;
}

function send(res: ServerResponse, r: EndpointResponse): void {
  const body = JSON.stringify(r.body);
  res.writeHead(r.status, { 'Content-Type': 'application/json', ...r.headers });
  res.end(body);
}

/** Read a body up to `limit` bytes; undefined when it is larger (the caller answers 413). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** One HTTP server: POST /alerts, GET /healthz, GET /readyz, GET /metrics, and Slack's /slack/events. */
export function createHttpServer(deps: HttpServerDeps): Server {
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    'POST /alerts': async (req, res) => {
      const body = await readBody(req, MAX_ALERT_BODY_BYTES);
      if (body === undefined) {
        deps.metrics.inc('alerts_rejected_total', { reason: 'too_large' });
        send(res, {
          status: 413,
          body: {
            error: 'payload_too_large',
            message: `alert bodies are limited to ${MAX_ALERT_BODY_BYTES} bytes`,
          },
        });
        return;
      }
      const r = await handleAlerts(deps.alerts, {
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
        receivedAt: deps.clock.now(),
      });
      deps.metrics.inc('alerts_requests_total', { status: String(r.status) });
      send(res, r);
    },
    'GET /healthz': async (_req, res) => send(res, { status: 200, body: { status: 'ok' } }),
    'GET /readyz': async (_req, res) => {
      const notReady = deps.ready?.();
      if (notReady) return send(res, { status: 503, body: { status: 'not ready', reason: notReady } });
      try {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          deps.store.ping(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('store ping timed out')), 2000);
          }),
        ]).finally(() => clearTimeout(timer));
        send(res, { status: 200, body: { status: 'ready', store: deps.store.kind } });
      } catch (err) {
        send(res, {
          status: 503,
          body: { status: 'not ready', reason: `store unreachable: ${(err as Error).message}` },
        });
      }
    },
    'GET /metrics': async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(deps.metrics.render());
    },
  };

  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes[`${req.method} ${path}`];
    if (route) {
      route(req, res).catch((err) => {
        deps.log.error({ err, path }, 'request failed');
        if (!res.headersSent) send(res, { status: 500, body: { error: 'internal' } });
        else res.end();
      });
      return;
    }
    if (deps.slack && path?.startsWith('/slack/')) {
      deps.slack(req, res);
      return;
    }
    send(res, { status: 404, body: { error: 'not_found', message: `no route for ${req.method} ${path}` } });
  });
}
