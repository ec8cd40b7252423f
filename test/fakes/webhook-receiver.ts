// A local rotation-webhook receiver for tests: real HTTP on 127.0.0.1, verifies the signature with the
// same code a production receiver would use, records every request, and answers from a script.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/actions/rotate/signing.js';

export interface ScriptedResponse {
  status: number;
  /** Response body (default: empty). */
  body?: string;
  /** Sent as the Retry-After header (seconds, or an HTTP date as text). */
  retryAfter?: number | string;
  /** Wait this long before answering (to exceed the sender's timeout). */
  delayMs?: number;
  headers?: Record<string, string>;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Exactly as received. */
  rawBody: string;
  /** Parsed JSON, or undefined when the body was not JSON. */
  body: unknown;
  validSignature: boolean;
  /** Why the signature was refused, when it was. */
  signatureProblem?: string;
  /** What was answered (401 for a bad signature, else the scripted status). */
  answered: number;
}

export interface WebhookReceiver {
  /** e.g. http://127.0.0.1:40123/hooks/rotate */
  url: string;
  /** Every request, in arrival order (bad signatures included). */
  requests: ReceivedRequest[];
  /** Queue answers for the next requests with a valid signature; after them the default answers. */
  respondWith(responses: ScriptedResponse[]): void;
  /** Change the answer given once the queue is empty. */
  setDefault(response: ScriptedResponse): void;
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  secret: string;
  /** Default: 202 with `{"accepted":true}`. */
  defaultResponse?: ScriptedResponse;
  path?: string;
  toleranceSeconds?: number;
}

export async function startWebhookReceiver(opts: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const queue: ScriptedResponse[] = [];
  let fallback: ScriptedResponse = opts.defaultResponse ?? { status: 202, body: '{"accepted":true}' };
  const requests: ReceivedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const answer = (res: ServerResponse, r: ScriptedResponse) => {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...r.headers };
    if (r.retryAfter !== undefined) headers['retry-after'] = String(r.retryAfter);
    res.writeHead(r.status, headers);
    res.end(r.body ?? '');
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const rawBody = raw.toString('utf8');
      const check = verifyWebhookSignature(
        opts.secret,
        req.headers,
        raw,
        Date.now() / 1000,
        opts.toleranceSeconds,
      );
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const scripted: ScriptedResponse = check.ok
        ? (queue.shift() ?? fallback)
        : { status: 401, body: JSON.stringify({ error: check.reason }) };
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        body,
        validSignature: check.ok,
        ...(check.ok ? {} : { signatureProblem: check.reason }),
        answered: scripted.status,
      });
      if (scripted.delayMs && scripted.delayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer(res, scripted);
        }, scripted.delayMs);
        timers.add(timer);
      } else {
        answer(res, scripted);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${opts.path ?? '/hooks/rotate'}`,
    requests,
    respondWith(responses) {
      queue.push(...responses);
    },
    setDefault(response) {
      fallback = response;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
