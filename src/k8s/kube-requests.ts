// Raw JSON requests to the Kubernetes API over @kubernetes/client-node's request pipeline, retried on
// transient failures and turned into CodedErrors.
//
// Why raw JSON over the client's transport rather than its typed calls: KubernetesObjectApi.read/list
// deserialize into the generated models, which turn timestamps into Date objects and silently drop every
// field the models do not know (so an object read and written back is not the original), and its patch()
// derives the URL from the body, so it cannot send a JSON Patch (an array). So this module keeps the
// client's KubeConfig handling, authentication (tokens, exec plugins, client certs, in-cluster token
// rotation), TLS agent, middleware and HTTP library — through a KubernetesObjectApi's configuration — and
// sends and receives plain JSON.
import * as k8s from '@kubernetes/client-node';
import { CodedError } from '../domain/errors.js';
import { type RequestInfo, RequestTimeout, toK8sError, transientReason } from './errors.js';
import { KeptAgents } from './kept-agents.js';
import { type RetryEvent, type RetryPolicy, withRetry } from './retry.js';

export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: string;
  contentType?: string;
  accept?: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Called before each retry wait (log it; it carries no credentials). */
export type OnRetry = (e: RetryEvent & { request: RequestInfo }) => void;

export interface KubeRequestsOptions {
  policy: RetryPolicy;
  onRetry?: OnRetry | undefined;
  /** Jitter source. */
  random: () => number;
}

/** client-node's request pipeline (auth, TLS agent, middleware, fetch), used for raw JSON requests. */
class Transport extends k8s.KubernetesObjectApi {
  readonly #agents = new KeptAgents();

  async send(req: RawRequest, signal: AbortSignal): Promise<RawResponse> {
    const cfg = this.configuration;
    const ctx = cfg.baseServer.makeRequestContext(req.path, req.method as k8s.HttpMethod);
    ctx.setHeaderParam('Accept', req.accept ?? 'application/json');
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) ctx.setQueryParam(k, v);
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(req.body);
    }
    ctx.setSignal(signal);
    await cfg.authMethods.BearerToken?.applySecurityAuthentication(ctx);
    await cfg.authMethods.default?.applySecurityAuthentication(ctx);
    const made = ctx.getAgent();
    if (made) ctx.setAgent(this.#agents.keep(made));
    let prepared = ctx;
    for (const m of cfg.middleware) prepared = await m.pre(prepared).toPromise();
    let resp = await cfg.httpApi.send(prepared).toPromise();
    for (const m of cfg.middleware) resp = await m.post(resp).toPromise();
    const text = await resp.body.text();
    return { status: resp.httpStatusCode, headers: resp.headers as Record<string, string>, text };
  }
}

/** One request at a time: a timeout per attempt, retries on transient failures, CodedErrors out. */
export class KubeRequests {
  readonly #transport: Transport;
  readonly #policy: RetryPolicy;
  readonly #onRetry: OnRetry | undefined;
  readonly #random: () => number;

  constructor(kc: k8s.KubeConfig, opts: KubeRequestsOptions) {
    this.#transport = kc.makeApiClient(Transport);
    this.#policy = opts.policy;
    this.#onRetry = opts.onRetry;
    this.#random = opts.random;
  }

  /** The response of a 2xx answer; anything else (after retries) throws a CodedError naming `info`. */
  async call(info: RequestInfo, req: RawRequest, signal?: AbortSignal): Promise<RawResponse> {
    let attempts = 0;
    try {
      return await withRetry(
        async (attempt) => {
          attempts = attempt;
          const timeout = AbortSignal.timeout(this.#policy.timeoutMs);
          const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
          let res: RawResponse;
          try {
            res = await this.#transport.send(req, sig);
          } catch (err) {
            if (!signal?.aborted && timeout.aborted) throw new RequestTimeout(this.#policy.timeoutMs);
            throw err;
          }
          if (res.status >= 200 && res.status < 300) return res;
          throw new k8s.ApiException(res.status, `HTTP ${res.status}`, res.text, res.headers);
        },
        {
          policy: this.#policy,
          classify: transientReason,
          random: this.#random,
          ...(signal ? { signal } : {}),
          onRetry: (e) => this.#onRetry?.({ ...e, request: info }),
        },
      );
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw toK8sError(err, info, attempts);
    }
  }

  /** `call`, with the answer parsed as JSON (a body that is not JSON is the API being unavailable). */
  async json<T>(info: RequestInfo, req: RawRequest, signal?: AbortSignal): Promise<T> {
    const res = await this.call(info, req, signal);
    try {
      return JSON.parse(res.text) as T;
    } catch (err) {
      throw new CodedError(
        'k8s_unavailable',
        `The Kubernetes API answered ${res.status} with a body that is not JSON`,
        {
          cause: err,
          details: { ...info },
        },
      );
    }
  }
}
