import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../observability/clock.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import { type AlertsEndpoint, type EndpointResponse, handleAlerts } from './alerts.js';
import { readBody } from './body.js';
import { errorForLog } from './process-guard.js';
import type { SlackGuard } from './slack-guard.js';

export const MAX_ALERT_BODY_BYTES = 1024 * 1024;
/** The one path Bolt's HTTPReceiver serves (src/slack/app.ts: `endpoints: '/slack/events'`). */
export const SLACK_EVENTS_PATH = '/slack/events';
/** A client has this long to send its headers, and this long for the whole request. */
export const HEADERS_TIMEOUT_MS = 15_000;
export const REQUEST_TIMEOUT_MS = 60_000;

export interface HttpServerDeps {
  alerts: AlertsEndpoint;
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Slack's HTTP receiver (Bolt's `receiver.requestListener`) for POST /slack/events; absent in Socket Mode. */
  slack?: RequestListener;
  /**
   * Checks every Slack request before Bolt sees it (signature, replay, clock skew, response_url, size);
   * the body it read is handed to Bolt as `req.rawBody`. Logs its own refusals (one line each).
   */
  slackGuard?: SlackGuard;
  /**
   * Told when a Slack request arrives; what it returns is called once when the request is answered
   * (or its connection closed). The work queued after acks waits while any are unanswered.
   */
  onSlackRequest?: () => () => void;
  /** Readiness beyond the store: config loaded, Slack connected … */
  ready?: () => string | undefined;
}

function send(res: ServerResponse, r: EndpointResponse): void {
  const body = JSON.stringify(r.body);
  res.writeHead(r.status, { 'Content-Type': 'application/json', ...r.headers });
  res.end(body);
}

/** The path for log lines: no query string (it may carry a token), bounded, whatever the client sent. */
function pathForLog(url: string | undefined): string {
  const path = (url ?? '').split('?')[0] ?? '';
  return path.length > 200 ? `${path.slice(0, 200)}…(${path.length} chars)` : path;
}

/** What became of a request's alerts, by source format (or why the request was refused whole). */
function countAlerts(metrics: Metrics, r: EndpointResponse): void {
  const refused: Record<number, string> = { 401: 'unauthorized', 400: String(r.body.error) };
  const reason = refused[r.status];
  if (reason) {
    metrics.inc('alert_requests_refused_total', { reason });
    return;
  }
  const source = String(r.body.format ?? 'unknown');
  const summary = (r.body.summary ?? {}) as Record<string, number>;
  for (const [outcome, n] of Object.entries(summary)) metrics.inc('alerts_total', { source, outcome }, n);
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** One HTTP server: POST /alerts, GET /healthz, GET /readyz, GET /metrics, and Slack's POST /slack/events. */
export function createHttpServer(deps: HttpServerDeps): Server {
  const log = deps.log.child({ component: 'http' });

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/alerts': {
      POST: async (req, res) => {
        const read = await readBody(req, MAX_ALERT_BODY_BYTES);
        if (!read.ok && read.reason === 'aborted') {
          refuse(req, res, 400, 'body_aborted');
          return;
        }
        if (!read.ok) {
          deps.metrics.inc('alert_requests_refused_total', { reason: 'too_large' });
          refuse(req, res, 413, 'payload_too_large', {
            message: `alert bodies are limited to ${MAX_ALERT_BODY_BYTES} bytes`,
          });
          return;
        }
        const r = await handleAlerts(deps.alerts, {
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          body: read.body.toString('utf8'),
          receivedAt: deps.clock.now(),
          source: req.socket.remoteAddress ?? 'unknown',
        });
        countAlerts(deps.metrics, r);
        send(res, r);
      },
    },
    '/healthz': { GET: (_req, res) => send(res, { status: 200, body: { status: 'ok' } }) },
    '/readyz': {
      GET: async (_req, res) => {
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
    },
    '/metrics': {
      GET: async (_req, res) => {
        const text = await deps.metrics.render(); // before the headers: a failure is then a clean 500
        res.writeHead(200, { 'Content-Type': deps.metrics.contentType });
        res.end(text);
      },
    },
  };
  const slack = deps.slack;
  if (slack) {
    routes[SLACK_EVENTS_PATH] = {
      POST: async (req, res) => {
        // Ack latency as Slack sees it: from arrival to the last byte of our answer.
        const start = performance.now();
        res.once('finish', () =>
          deps.metrics.observe('slack_ack_seconds', (performance.now() - start) / 1000),
        );
        // 'close' comes once per response, after 'finish' or on an aborted connection.
        const answered = deps.onSlackRequest?.();
        if (answered) res.once('close', answered);
        if (deps.slackGuard) {
          const verdict = await deps.slackGuard(req);
          if (!verdict.ok) {
            // The guard has logged it; count and answer.
            deps.metrics.inc('slack_requests_refused_total', { reason: verdict.reason });
            if (!res.headersSent) send(res, { status: verdict.status, body: { error: verdict.reason } });
            return;
          }
          // Bolt takes a pre-read body as `req.rawBody` (HTTPModuleFunctions.bufferIncomingMessage) and
          // verifies its signature over exactly these bytes.
          (req as IncomingMessage & { rawBody?: Buffer }).rawBody = verdict.rawBody;
        }
        // Bolt throws synchronously for requests it does not route; the caller turns that into an answer.
        await slack(req, res);
      },
    };
  }

  /** A 4xx the server decides itself: one log line and a JSON answer. */
  function refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    reason: string,
    extra: { message?: string; headers?: Record<string, string> } = {},
  ): void {
    // Scanners probing paths and verbs are routine (info); the rest deserves a look (warn).
    const level = status === 404 || status === 405 ? 'info' : 'warn';
    log[level](
      {
        method: req.method,
        path: pathForLog(req.url),
        status,
        reason,
        source: req.socket.remoteAddress ?? 'unknown',
      },
      'http request refused',
    );
    deps.metrics.inc('http_refused_total', { status: String(status), reason });
    if (res.headersSent) return;
    send(res, {
      status,
      body: { error: reason, ...(extra.message ? { message: extra.message } : {}) },
      ...(extra.headers ? { headers: extra.headers } : {}),
    });
  }

  /** A handler failed: one log line; a 500 when nothing was sent yet, else the connection is cut. */
  function failed(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const code = (err as { code?: unknown } | undefined)?.code;
    if (code === 'slack_bolt_http_receiver_deferred_request_error') {
      refuse(req, res, 404, 'not_found');
      return;
    }
    log.error(
      {
        method: req.method,
        path: pathForLog(req.url),
        error: errorForLog(err),
        headersSent: res.headersSent,
      },
      'http request failed',
    );
    try {
      if (!res.headersSent) send(res, { status: 500, body: { error: 'internal' } });
      // A partial answer must not look complete (res.end() would terminate a chunked body cleanly).
      else if (!res.writableEnded) res.destroy();
    } catch {
      res.destroy();
    }
  }

  const inFlight = new WeakSet<Socket>();

  const server = createServer((req, res) => {
    // Errors of the streams themselves (aborted upload, peer gone) are seen where the body is read;
    // without these listeners an 'error' with no listener would be thrown out of the event loop.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const socket = req.socket;
    inFlight.add(socket);
    res.once('close', () => inFlight.delete(socket));
    const handle = async (): Promise<void> => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      // Own properties only: a request-target of `constructor` or `__proto__` names no route.
      const methods = Object.hasOwn(routes, path) ? routes[path] : undefined;
      if (!methods) {
        refuse(req, res, 404, 'not_found', { message: 'no such path' });
        return;
      }
      const method = req.method ?? '';
      const handler = Object.hasOwn(methods, method)
        ? methods[method]
        : method === 'HEAD'
          ? methods.GET
          : undefined;
      if (!handler) {
        const allow = Object.keys(methods);
        if (methods.GET) allow.push('HEAD');
        refuse(req, res, 405, 'method_not_allowed', { headers: { Allow: allow.join(', ') } });
        return;
      }
      await handler(req, res);
    };
    handle().catch((err) => failed(req, res, err));
  });

  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;

  // Requests Node's parser refuses (bad framing, oversized headers, timeouts): the same answers as Node's
  // default, plus one log line. Errors on a socket with a request in flight are that request's to report.
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    const quiet = err.code === 'ECONNRESET' || err.code === 'EPIPE';
    if (!inFlight.has(socket)) {
      const line = { code: err.code, reason: err.message.slice(0, 200) };
      if (quiet) log.debug(line, 'http client went away');
      else log.warn(line, 'http request refused by the parser');
    }
    if (socket.writable && !quiet && !inFlight.has(socket)) {
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
            ? '413 Payload Too Large'
            : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
              ? '408 Request Timeout'
              : '400 Bad Request';
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });

  // CONNECT (a proxy tunnel) is nothing we serve; without a listener Node drops the socket silently.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => undefined);
    log.info(
      { method: req.method, path: pathForLog(req.url), status: 405, reason: 'method_not_allowed' },
      'http request refused',
    );
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
  });

  return server;
}
