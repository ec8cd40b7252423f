// A local fake Kubernetes API server for tests: real REST paths, content types, dryRun, selectors,
// resourceVersion conflicts and `Status` errors, at the HTTP level, so the real @kubernetes/client-node
// (and kubectl) can talk to it. Deterministic: uids and resourceVersions come from counters.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { Controllers } from './controllers.js';
import {
  applyJsonPatch,
  applyMergePatch,
  applyServerSide,
  applyStrategicMergePatch,
  clone,
  deepEqual,
  isObject,
  type JsonObject,
  type JsonValue,
  PatchError,
} from './patch.js';
import { FakePodLogs, type PodLogOptions } from './pod-logs.js';
import {
  type FakeExtension,
  findResource,
  groupVersion,
  RESOURCES,
  type ResourceDef,
  verbsOf,
} from './resources.js';
import {
  isLabelValue,
  isQualifiedName,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  supportedFields,
} from './selectors.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  forbiddenMessage,
  invalid,
  notFound,
  resourceDetails,
  StatusError,
  type StatusReason,
} from './status.js';

export type { JsonObject, JsonValue } from './patch.js';
export type { FakeExtension } from './resources.js';
export type { KubeStatus, StatusReason } from './status.js';

export const DEFAULT_FAKE_TOKEN = 'fake-token';
export const DEFAULT_FAKE_USER = 'system:serviceaccount:egress-responder:egress-responder';

export interface FakeKubeApiOptions {
  /** Optional API groups to serve from the start (`istio`, `adminnetworkpolicy`, `cilium`, `cert-manager`). */
  extensions?: FakeExtension[];
  /**
   * The bearer token of the kubeconfig (default `fake-token`). A request carrying another token gets 401.
   * Requests without one are accepted unless `requireToken` (kubectl, like all client-go programs, sends
   * no credentials over plain http); `null` accepts any token.
   */
  token?: string | null;
  requireToken?: boolean;
  /** The user named in 403 messages. Default the bot's ServiceAccount. */
  user?: string;
  /** Clock for creationTimestamp/deletionTimestamp. */
  now?: () => Date;
  /**
   * Run the Deployment, ReplicaSet and StatefulSet controllers (controllers.ts) after every write made
   * through the API (never after a dry run). Off by default: tests that seed a workload's status by hand
   * keep it. Objects seeded with `put()` are reconciled on `reconcile()`.
   */
  controllers?: boolean;
}

/** Answer the next matching requests with a failure (and/or a delay). */
export interface FaultRule {
  /** HTTP method(s), case-insensitive. Absent: any. */
  method?: string | string[];
  /** A string matches the path itself or anything below it (`/api/v1/namespaces/prod/pods` matches pod paths); a RegExp is tested against the path. */
  path?: string | RegExp;
  /** HTTP status to answer with (a proper Status body). Absent with `delayMs`: only slow the request down. */
  status?: number;
  /** How many matching requests this rule answers. Default 1; `Infinity` for all. */
  times?: number;
  /** Sent as the Retry-After header and details.retryAfterSeconds. */
  retryAfterSeconds?: number;
  message?: string;
  reason?: StatusReason;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Let this many matching requests through first (a failure on the second list, not the first). */
  skip?: number;
}

/** An RBAC gap: matching requests get 403 (with the real authorizer's message) and SelfSubjectAccessReviews say no. */
export interface DenyRule {
  verb?: string | string[];
  /** API group; '' is core. */
  group?: string;
  /** Resource plural, e.g. `pods`, or `pods/log` for a subresource. */
  resource?: string;
  namespace?: string;
  name?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** Parsed JSON/YAML body, or the raw text when it did not parse; undefined when empty. */
  body: unknown;
  accept: string | undefined;
  userAgent: string | undefined;
  /** Whether the request carried a bearer token (the token itself is not recorded). */
  authenticated: boolean;
  /** For resource requests: the RBAC verb and resource the request needs. */
  verb?: string;
  resource?: string;
  namespace?: string;
  name?: string;
}

interface ActiveFault extends FaultRule {
  remaining: number;
}

interface ResourceRequest {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  verb: string;
}

const WRITE_CONTENT_TYPES = ['application/json', 'application/yaml'];
const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function meta(obj: JsonObject): JsonObject {
  if (!isObject(obj.metadata)) obj.metadata = {};
  return obj.metadata as JsonObject;
}

function str(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export class FakeKubeApi {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #token: string | null;
  readonly #requireToken: boolean;
  readonly #user: string;
  readonly #now: () => Date;
  readonly #initialExtensions: FakeExtension[];
  #extensions: Set<FakeExtension>;
  #objects = new Map<string, JsonObject>();
  #applied = new Map<string, Map<string, JsonObject>>();
  #podLogs = new FakePodLogs();
  #faults: ActiveFault[] = [];
  #denials: DenyRule[] = [];
  #rv = 1000;
  #uid = 0;
  #generated = 0;
  #timers = new Set<NodeJS.Timeout>();
  #tmpDir: string | undefined;
  readonly #controllers: Controllers | undefined;

  #connections = 0;

  constructor(server: Server, opts: FakeKubeApiOptions) {
    this.#server = server;
    server.on('connection', () => this.#connections++);
    this.#token = opts.token === undefined ? DEFAULT_FAKE_TOKEN : opts.token;
    this.#requireToken = opts.requireToken ?? false;
    this.#user = opts.user ?? DEFAULT_FAKE_USER;
    this.#now = opts.now ?? (() => new Date());
    this.#initialExtensions = [...(opts.extensions ?? [])];
    this.#extensions = new Set(this.#initialExtensions);
    this.#controllers = opts.controllers ? new Controllers(this.#controllerStore()) : undefined;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** TCP connections accepted since the start (clients that keep connections alive open few). */
  get connectionsOpened(): number {
    return this.#connections;
  }

  /** The token the kubeconfig carries. */
  get token(): string {
    return this.#token ?? DEFAULT_FAKE_TOKEN;
  }

  // ---- test controls ----

  /** Switch an optional API group on or off (discovery and its resources). */
  serve(extension: FakeExtension, on = true): void {
    if (on) this.#extensions.add(extension);
    else this.#extensions.delete(extension);
  }

  fail(rule: FaultRule): void {
    if (rule.status === undefined && rule.delayMs === undefined)
      throw new Error('fail() needs a status or a delayMs');
    this.#faults.push({ ...rule, remaining: rule.times ?? 1 });
  }

  deny(rule: DenyRule): void {
    this.#denials.push({ ...rule });
  }

  /** Seed or overwrite an object of any served-or-not kind; fills metadata. Returns the stored copy. */
  put(obj: object): JsonObject {
    const o = clone(obj) as JsonObject;
    const def = this.#defOf(o);
    const m = meta(o);
    if (def.namespaced && typeof m.namespace !== 'string') m.namespace = 'default';
    if (!def.namespaced) delete m.namespace;
    if (typeof m.name !== 'string') throw new Error(`put(): ${def.kind} needs metadata.name`);
    o.apiVersion = groupVersion(def);
    o.kind = def.kind;
    if (typeof m.uid !== 'string') m.uid = this.#nextUid();
    if (typeof m.creationTimestamp !== 'string') m.creationTimestamp = rfc3339(this.#now());
    if (typeof m.generation !== 'number') m.generation = 1;
    m.resourceVersion = this.#nextRv();
    this.#objects.set(this.#key(def, str(m.namespace), m.name), o);
    this.#ensureNamespace(str(m.namespace));
    return clone(o);
  }

  /** `type` is a Kind (`Pod`), a plural (`pods`) or `apiVersion/Kind` (`apps/v1/Deployment`). */
  get(type: string, namespace: string | undefined, name: string): JsonObject | undefined {
    const def = this.#lookup(type);
    return clone(this.#objects.get(this.#key(def, def.namespaced ? namespace : undefined, name)));
  }

  list(type: string, namespace?: string, labelSelector?: string): JsonObject[] {
    const def = this.#lookup(type);
    const reqs = parseLabelSelector(labelSelector ?? '');
    return this.#all(def, namespace)
      .filter((o) => matchesLabels(reqs, meta(o).labels as Record<string, string> | undefined))
      .map((o) => clone(o));
  }

  /** Remove an object without going through the API. */
  remove(type: string, namespace: string | undefined, name: string): boolean {
    const def = this.#lookup(type);
    return this.#objects.delete(this.#key(def, def.namespaced ? namespace : undefined, name));
  }

  /**
   * Let the controllers act on what is stored now (after seeding with `put()`); they also run after
   * every API write when started with `controllers: true`. A fake without them refuses.
   */
  reconcile(): void {
    if (!this.#controllers) throw new Error('reconcile(): start the fake with { controllers: true }');
    this.#controllers.reconcile();
  }

  /** A container's log (`opts.container`; absent: the pod's one container), or its previous instance's. */
  setPodLog(namespace: string, pod: string, text: string, opts: PodLogOptions = {}): void {
    this.#podLogs.set(namespace, pod, text, opts);
  }

  /** Requests filtered by method and/or path (same matching as fault rules). */
  requestsMatching(filter: {
    method?: string | string[];
    path?: string | RegExp;
    verb?: string;
  }): RecordedRequest[] {
    return this.requests.filter(
      (r) =>
        methodMatches(filter.method, r.method) &&
        pathMatches(filter.path, r.path) &&
        (filter.verb === undefined || r.verb === filter.verb),
    );
  }

  /** Clear objects, requests, faults, denials and logs; extensions go back to the start options. */
  reset(): void {
    this.requests.length = 0;
    this.#objects.clear();
    this.#applied.clear();
    this.#podLogs.clear();
    this.#faults = [];
    this.#denials = [];
    this.#extensions = new Set(this.#initialExtensions);
  }

  /** Write a kubeconfig pointing at this server (token auth, insecure-skip-tls-verify) and return its path. */
  kubeconfig(opts: { namespace?: string; context?: string } = {}): string {
    this.#tmpDir ??= mkdtempSync(join(tmpdir(), 'fake-kube-api-'));
    const context = opts.context ?? 'fake';
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake-user', user: { token: this.token } }],
      contexts: [
        {
          name: context,
          context: { cluster: 'fake', user: 'fake-user', namespace: opts.namespace ?? 'default' },
        },
      ],
      'current-context': context,
      preferences: {},
    };
    const file = join(this.#tmpDir, `kubeconfig-${context}-${opts.namespace ?? 'default'}.yaml`);
    writeFileSync(file, stringifyYaml(doc), { mode: 0o600 });
    return file;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    if (this.#tmpDir) rmSync(this.#tmpDir, { recursive: true, force: true });
  }

  // ---- HTTP ----

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const auth = req.headers.authorization;
    const rec: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      contentType,
      body: parseBody(raw),
      accept: req.headers.accept,
      userAgent: req.headers['user-agent'],
      authenticated: typeof auth === 'string' && auth.startsWith('Bearer '),
    };
    this.requests.push(rec);
    try {
      const wrongToken = this.#token !== null && auth !== undefined && auth !== `Bearer ${this.#token}`;
      if (wrongToken || (this.#requireToken && auth === undefined))
        throw new StatusError(401, 'Unauthorized');
      let rr: ResourceRequest | undefined;
      let routeError: unknown;
      try {
        rr = this.#parseResourcePath(url.pathname, method, url.searchParams);
      } catch (err) {
        routeError = err; // injected faults still apply to paths the fake does not serve
      }
      if (rr) {
        rec.verb = rr.verb;
        rec.resource = rr.subresource ? `${rr.def.plural}/${rr.subresource}` : rr.def.plural;
        if (rr.namespace !== undefined) rec.namespace = rr.namespace;
        if (rr.name !== undefined) rec.name = rr.name;
      }
      await this.#applyFaults(method, url.pathname, rr);
      if (routeError !== undefined) throw routeError;
      if (rr) this.#checkDenied(rr);
      if (res.destroyed) return;
      const answer = rr
        ? await this.#serveResource(rr, method, url.searchParams, raw, contentType)
        : this.#serveNonResource(url.pathname, method);
      const wrote = rr !== undefined && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method);
      if (wrote && !url.searchParams.has('dryRun')) this.#controllers?.reconcile();
      if (answer.text !== undefined) send(res, answer.code, answer.text, 'text/plain');
      else send(res, answer.code, JSON.stringify(answer.body), 'application/json');
    } catch (err) {
      if (err instanceof StatusError) {
        send(res, err.status.code, JSON.stringify(err.status), 'application/json', err.headers);
      } else if (err instanceof SelectorError) {
        const st = badRequest(err.message).status;
        send(res, 400, JSON.stringify(st), 'application/json');
      } else {
        const st = new StatusError(
          500,
          `fake kube-api bug: ${err instanceof Error ? err.stack : String(err)}`,
        );
        send(res, 500, JSON.stringify(st.status), 'application/json');
      }
    }
  }

  async #applyFaults(method: string, path: string, rr: ResourceRequest | undefined): Promise<void> {
    const rule = this.#faults.find(
      (f) => f.remaining > 0 && methodMatches(f.method, method) && pathMatches(f.path, path),
    );
    if (!rule) return;
    if (rule.skip !== undefined && rule.skip > 0) {
      rule.skip--;
      return;
    }
    rule.remaining--;
    if (rule.delayMs !== undefined && rule.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          resolve();
        }, rule.delayMs);
        this.#timers.add(t);
      });
    }
    if (rule.status !== undefined) throw this.#faultError(rule, rr);
  }

  #faultError(rule: FaultRule, rr: ResourceRequest | undefined): StatusError {
    const code = rule.status!;
    const group = rr?.def.group ?? '';
    const plural = rr?.def.plural ?? '';
    const name = rr?.name;
    const headers: Record<string, string> = {};
    if (rule.retryAfterSeconds !== undefined) headers['Retry-After'] = String(rule.retryAfterSeconds);
    let message = rule.message;
    if (message === undefined) {
      if (code === 403 && rr) {
        message = forbiddenMessage({
          user: this.#user,
          verb: rr.verb,
          group,
          plural,
          ...(rr.subresource ? { subresource: rr.subresource } : {}),
          ...(rr.namespace !== undefined ? { namespace: rr.namespace } : {}),
          ...(name !== undefined ? { name } : {}),
        });
      } else if (code === 404 && rr && name) message = notFound(group, plural, name).message;
      else if (code === 409 && rr && name) message = conflict(group, plural, name).message;
      else if (code === 429) message = 'Too many requests, please try again later.';
      else if (code === 503) message = 'the server is currently unable to handle the request';
      else if (code === 504) message = 'Timeout: request did not complete within requested timeout';
      else if (code >= 500) message = 'Internal error occurred: injected fault';
      else message = `injected ${code}`;
    }
    const details = rr ? resourceDetails(group, plural, name) : {};
    if (rule.retryAfterSeconds !== undefined) details.retryAfterSeconds = rule.retryAfterSeconds;
    return new StatusError(code, message, {
      ...(rule.reason ? { reason: rule.reason } : {}),
      details,
      headers,
    });
  }

  #denies(a: { verb: string; group: string; resource: string; namespace?: string; name?: string }): boolean {
    return this.#denials.some(
      (d) =>
        (d.verb === undefined || (Array.isArray(d.verb) ? d.verb.includes(a.verb) : d.verb === a.verb)) &&
        (d.group === undefined || d.group === a.group) &&
        (d.resource === undefined || d.resource === a.resource) &&
        (d.namespace === undefined || d.namespace === a.namespace) &&
        (d.name === undefined || d.name === a.name),
    );
  }

  #checkDenied(rr: ResourceRequest): void {
    const resource = rr.subresource ? `${rr.def.plural}/${rr.subresource}` : rr.def.plural;
    const attrs = {
      verb: rr.verb,
      group: rr.def.group,
      resource,
      ...(rr.namespace !== undefined ? { namespace: rr.namespace } : {}),
      ...(rr.name !== undefined ? { name: rr.name } : {}),
    };
    if (!this.#denies(attrs)) return;
    throw new StatusError(
      403,
      forbiddenMessage({
        user: this.#user,
        verb: rr.verb,
        group: rr.def.group,
        plural: rr.def.plural,
        ...(rr.subresource ? { subresource: rr.subresource } : {}),
        ...(rr.namespace !== undefined ? { namespace: rr.namespace } : {}),
        ...(rr.name !== undefined ? { name: rr.name } : {}),
      }),
      { details: resourceDetails(rr.def.group, rr.def.plural, rr.name) },
    );
  }

  // ---- discovery ----

  #served(): ResourceDef[] {
    return RESOURCES.filter((r) => r.extension === undefined || this.#extensions.has(r.extension));
  }

  #groups(): { name: string; versions: string[] }[] {
    const out: { name: string; versions: string[] }[] = [];
    for (const r of this.#served()) {
      let g = out.find((x) => x.name === r.group);
      if (!g) {
        g = { name: r.group, versions: [] };
        out.push(g);
      }
      if (!g.versions.includes(r.version)) g.versions.push(r.version);
    }
    return out;
  }

  #apiGroup(g: { name: string; versions: string[] }): JsonObject {
    const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
    return { name: g.name, versions, preferredVersion: versions[0]! };
  }

  #resourceList(group: string, version: string): JsonObject {
    const resources: JsonObject[] = [];
    for (const r of this.#served().filter((x) => x.group === group && x.version === version)) {
      resources.push({
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: verbsOf(r),
        ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      });
      if (r.statusSubresource) {
        resources.push({
          name: `${r.plural}/status`,
          singularName: '',
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['get', 'patch', 'update'],
        });
      }
      if (r.kind === 'Pod') {
        resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
      }
    }
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group === '' ? version : `${group}/${version}`,
      resources,
    };
  }

  #serveNonResource(path: string, method: string): { code: number; body?: unknown; text?: string } {
    const notFoundPath = new StatusError(404, 'the server could not find the requested resource', {
      details: {},
    });
    if (method !== 'GET') throw notFoundPath;
    const segs = path.split('/').filter((s) => s !== '');
    if (path === '/version') {
      return {
        code: 200,
        body: {
          major: '1',
          minor: '32',
          gitVersion: 'v1.32.0-fake',
          gitCommit: '0000000000000000000000000000000000000000',
          gitTreeState: 'clean',
          buildDate: '2025-01-01T00:00:00Z',
          goVersion: 'go1.23.4',
          compiler: 'gc',
          platform: 'linux/amd64',
        },
      };
    }
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return { code: 200, text: 'ok' };
    if (path === '/openapi/v3' || path.startsWith('/openapi/v3/'))
      return { code: 200, body: this.#openApiV3(path) };
    if (path === '/api') {
      return {
        code: 200,
        body: {
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }],
        },
      };
    }
    if (path === '/api/v1') return { code: 200, body: this.#resourceList('', 'v1') };
    if (path === '/apis') {
      const groups = this.#groups()
        .filter((g) => g.name !== '')
        .map((g) => this.#apiGroup(g));
      return { code: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups } };
    }
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = this.#groups().find((x) => x.name === segs[1]);
      if (!g) throw notFoundPath;
      return { code: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...this.#apiGroup(g) } };
    }
    if (segs[0] === 'apis' && segs.length === 3) {
      const g = this.#groups().find((x) => x.name === segs[1]);
      if (!g?.versions.includes(segs[2]!)) throw notFoundPath;
      return { code: 200, body: this.#resourceList(segs[1]!, segs[2]!) };
    }
    throw notFoundPath;
  }

  /**
   * Just enough OpenAPI v3 for kubectl: the root lists group-versions; each group-version document has
   * the PATCH operations with their GVK and the `fieldValidation` parameter, which tells kubectl the server
   * validates fields itself (without it kubectl wants the protobuf OpenAPI v2 to validate client-side).
   */
  #openApiV3(path: string): JsonObject {
    const gvs = new Map<string, ResourceDef[]>();
    for (const r of this.#served()) {
      const p = r.group === '' ? 'api/v1' : `apis/${r.group}/${r.version}`;
      gvs.set(p, [...(gvs.get(p) ?? []), r]);
    }
    if (path === '/openapi/v3') {
      const paths: JsonObject = {};
      for (const p of gvs.keys())
        paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=fake${this.#extensions.size}` };
      return { paths };
    }
    const defs = gvs.get(path.slice('/openapi/v3/'.length));
    if (!defs)
      throw new StatusError(404, 'the server could not find the requested resource', { details: {} });
    const paths: JsonObject = {};
    const param = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
    for (const r of defs.filter((d) => !d.createOnly)) {
      const item = resourcePath(r, r.namespaced ? '{namespace}' : undefined, '{name}')
        .replace(/%7B/g, '{')
        .replace(/%7D/g, '}');
      paths[item] = {
        patch: {
          operationId: `patch${r.kind}`,
          parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map(param),
          responses: { '200': { description: 'OK' } },
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
        },
      };
    }
    return {
      openapi: '3.0.0',
      info: { title: 'Kubernetes (fake)', version: 'v1.32.0' },
      paths,
      components: { schemas: {} },
    };
  }

  // ---- resources ----

  #parseResourcePath(path: string, method: string, q: URLSearchParams): ResourceRequest | undefined {
    const segs = path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs[1] === 'v1' && segs.length > 2) {
      group = '';
      version = 'v1';
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length > 3) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else return undefined;
    const defs = this.#served().filter((r) => r.group === group && r.version === version);
    const notFoundPath = new StatusError(404, 'the server could not find the requested resource', {
      details: {},
    });
    if (defs.length === 0) throw notFoundPath;
    let namespace: string | undefined;
    let plural: string;
    let name: string | undefined;
    let subresource: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && defs.some((d) => d.plural === rest[2])) {
      [, namespace, plural, name, subresource] = rest as [string, string, string, string?, string?];
      if (rest.length > 5) throw notFoundPath;
    } else {
      [plural, name, subresource] = rest as [string, string?, string?];
      if (rest.length > 3) throw notFoundPath;
    }
    const def = defs.find((d) => d.plural === plural);
    if (!def) throw notFoundPath;
    if (!def.namespaced && namespace !== undefined) throw notFoundPath;
    if (def.namespaced && namespace === undefined && name !== undefined) throw notFoundPath;
    if (subresource !== undefined) {
      const ok =
        (subresource === 'status' && def.statusSubresource) || (subresource === 'log' && def.kind === 'Pod');
      if (!ok) throw notFoundPath;
    }
    let verb: string;
    switch (method) {
      case 'GET':
        verb = name === undefined ? (q.get('watch') === 'true' ? 'watch' : 'list') : 'get';
        break;
      case 'POST':
        verb = 'create';
        break;
      case 'PUT':
        verb = 'update';
        break;
      case 'PATCH':
        verb = 'patch';
        break;
      case 'DELETE':
        verb = name === undefined ? 'deletecollection' : 'delete';
        break;
      default:
        verb = method.toLowerCase();
    }
    return {
      def,
      verb,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(subresource !== undefined ? { subresource } : {}),
    };
  }

  async #serveResource(
    rr: ResourceRequest,
    method: string,
    q: URLSearchParams,
    raw: string,
    contentType: string | undefined,
  ): Promise<{ code: number; body?: unknown; text?: string }> {
    const { def } = rr;
    const methodNotAllowed = new StatusError(
      405,
      `the server does not allow this method on the requested resource`,
      {
        details: {},
      },
    );
    if (def.createOnly) {
      if (method !== 'POST' || rr.name !== undefined) throw methodNotAllowed;
      this.#dryRun(q);
      return {
        code: 201,
        body: this.#accessReview(this.#decodeObject(raw, contentType, WRITE_CONTENT_TYPES)),
      };
    }
    if (rr.subresource === 'log') {
      if (method !== 'GET') throw methodNotAllowed;
      return { code: 200, text: this.#podLog(rr, q) };
    }
    if (rr.name === undefined) {
      if (method === 'GET') {
        if (rr.verb === 'watch') throw badRequest('watch is not supported by the fake API server');
        return { code: 200, body: this.#list(def, rr.namespace, q) };
      }
      if (method === 'POST') {
        const dry = this.#dryRun(q);
        const obj = this.#decodeObject(raw, contentType, WRITE_CONTENT_TYPES);
        return { code: 201, body: this.#create(def, rr.namespace, obj, dry) };
      }
      throw methodNotAllowed;
    }
    switch (method) {
      case 'GET': {
        const obj = this.#mustGet(def, rr.namespace, rr.name);
        return { code: 200, body: obj };
      }
      case 'PUT': {
        const dry = this.#dryRun(q);
        const obj = this.#decodeObject(raw, contentType, WRITE_CONTENT_TYPES);
        return { code: 200, body: this.#update(def, rr, obj, dry) };
      }
      case 'PATCH': {
        const dry = this.#dryRun(q);
        return this.#patch(def, rr, q, raw, contentType, dry);
      }
      case 'DELETE': {
        const dry = this.#dryRun(q);
        return { code: 200, body: this.#delete(def, rr, q, raw, dry) };
      }
      default:
        throw methodNotAllowed;
    }
  }

  #dryRun(q: URLSearchParams): boolean {
    const values = q.getAll('dryRun');
    if (values.length === 0) return false;
    for (const v of values) {
      if (v !== 'All') throw badRequest(`Invalid dryRun value: "${v}"; supported values: "All"`);
    }
    return true;
  }

  #decodeObject(raw: string, contentType: string | undefined, accepted: string[]): JsonObject {
    if (contentType === undefined || !accepted.includes(contentType)) {
      throw new StatusError(
        415,
        `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
      );
    }
    let parsed: unknown;
    try {
      parsed = contentType.includes('yaml') ? parseYaml(raw) : JSON.parse(raw);
    } catch (err) {
      throw badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
    }
    if (!isObject(parsed)) throw badRequest('the body of the request must be an object');
    return parsed;
  }

  #list(def: ResourceDef, namespace: string | undefined, q: URLSearchParams): JsonObject {
    const labelReqs = parseLabelSelector(q.get('labelSelector') ?? '');
    const fieldReqs = parseFieldSelector(q.get('fieldSelector') ?? '', supportedFields(def.kind));
    const matched = this.#all(def, namespace).filter(
      (o) =>
        matchesLabels(labelReqs, meta(o).labels as Record<string, string> | undefined) &&
        matchesFields(fieldReqs, o),
    );
    const limit = Number(q.get('limit') ?? '0');
    const cont = q.get('continue');
    let offset = 0;
    if (cont) {
      offset = Number(Buffer.from(cont, 'base64').toString('utf8'));
      if (!Number.isInteger(offset) || offset < 0) throw badRequest('invalid continue token');
    }
    let page = matched.slice(offset);
    let next: string | undefined;
    if (limit > 0 && page.length > limit) {
      page = page.slice(0, limit);
      next = Buffer.from(String(offset + limit)).toString('base64');
    }
    const items = page.map((o) => {
      const c = clone(o);
      if (def.builtin) {
        delete c.apiVersion;
        delete c.kind;
      }
      return c;
    });
    return {
      kind: `${def.kind}List`,
      apiVersion: groupVersion(def),
      metadata: {
        resourceVersion: String(this.#rv),
        ...(next ? { continue: next, remainingItemCount: matched.length - offset - limit } : {}),
      },
      items,
    };
  }

  #create(def: ResourceDef, namespace: string | undefined, input: JsonObject, dry: boolean): JsonObject {
    const obj = clone(input);
    this.#checkTypeMeta(def, obj);
    const m = meta(obj);
    this.#checkNamespace(def, namespace, m);
    if (typeof m.resourceVersion === 'string' && m.resourceVersion !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    if (typeof m.name !== 'string' || m.name === '') {
      if (typeof m.generateName === 'string' && m.generateName !== '') {
        m.name = `${m.generateName}${(++this.#generated).toString(36).padStart(5, 'x')}`;
      } else {
        throw invalid(def.group, def.kind, '', [
          {
            field: 'metadata.name',
            message: 'Required value: name or generateName is required',
            reason: 'FieldValueRequired',
          },
        ]);
      }
    }
    const name = m.name as string;
    this.#validate(def, obj, true);
    const key = this.#key(def, namespace, name);
    if (this.#objects.has(key)) throw alreadyExists(def.group, def.plural, name);
    if (def.statusSubresource) {
      if (def.kind === 'Pod') obj.status = { phase: 'Pending' };
      else delete obj.status;
    }
    delete m.deletionTimestamp;
    m.uid = dry ? `dry-run-${this.#uid + 1}` : this.#nextUid();
    m.creationTimestamp = rfc3339(this.#now());
    m.generation = 1;
    if (dry) {
      delete m.resourceVersion;
      return obj;
    }
    m.resourceVersion = this.#nextRv();
    this.#objects.set(key, obj);
    this.#ensureNamespace(namespace);
    return clone(obj);
  }

  /** Namespaces exist implicitly: one appears (Active) when the first object lands in it. */
  #ensureNamespace(namespace: string | undefined): void {
    if (namespace === undefined || namespace === '') return;
    const def = findResource('Namespace')!;
    const key = this.#key(def, undefined, namespace);
    if (this.#objects.has(key)) return;
    this.#objects.set(key, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        uid: this.#nextUid(),
        creationTimestamp: rfc3339(this.#now()),
        resourceVersion: this.#nextRv(),
        labels: { 'kubernetes.io/metadata.name': namespace },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  #update(def: ResourceDef, rr: ResourceRequest, input: JsonObject, dry: boolean): JsonObject {
    const name = rr.name!;
    const stored = this.#mustGet(def, rr.namespace, name);
    const obj = clone(input);
    this.#checkTypeMeta(def, obj);
    const m = meta(obj);
    this.#checkNamespace(def, rr.namespace, m);
    if (m.name !== name) {
      throw badRequest(
        `the name of the object (${String(m.name)}) does not match the name on the URL (${name})`,
      );
    }
    const sm = meta(stored);
    if (
      typeof m.resourceVersion === 'string' &&
      m.resourceVersion !== '' &&
      m.resourceVersion !== sm.resourceVersion
    ) {
      throw conflict(def.group, def.plural, name);
    }
    if (typeof m.uid === 'string' && m.uid !== '' && m.uid !== sm.uid) {
      throw new StatusError(
        409,
        `Precondition failed: UID in precondition: ${m.uid}, UID in object meta: ${String(sm.uid)}`,
        {
          reason: 'Conflict',
          details: resourceDetails(def.group, def.plural, name),
        },
      );
    }
    return this.#commit(def, rr, stored, obj, dry);
  }

  async #patch(
    def: ResourceDef,
    rr: ResourceRequest,
    q: URLSearchParams,
    raw: string,
    contentType: string | undefined,
    dry: boolean,
  ): Promise<{ code: number; body: unknown }> {
    const name = rr.name!;
    const accepted = def.builtin
      ? [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic, PATCH_TYPES.apply]
      : [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply];
    if (contentType === undefined || !(accepted as string[]).includes(contentType)) {
      throw new StatusError(
        415,
        `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
      );
    }
    const isApply = contentType === PATCH_TYPES.apply;
    const force = q.get('force');
    if (force !== null && !isApply) throw badRequest('force flag must be unset for non-apply patch requests');
    let patch: unknown;
    try {
      patch = isApply ? parseYaml(raw) : JSON.parse(raw);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    const stored = this.get(`${groupVersion(def)}/${def.kind}`, rr.namespace, name);
    let result: JsonValue;
    try {
      switch (contentType) {
        case PATCH_TYPES.json:
          if (!stored) throw notFound(def.group, def.plural, name);
          result = applyJsonPatch(stored, patch);
          break;
        case PATCH_TYPES.merge:
          if (!stored) throw notFound(def.group, def.plural, name);
          if (!isObject(patch)) throw badRequest('a merge patch must be a JSON object');
          result = applyMergePatch(stored, patch);
          break;
        case PATCH_TYPES.strategic:
          if (!stored) throw notFound(def.group, def.plural, name);
          if (!isObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
          result = applyStrategicMergePatch(stored, patch);
          break;
        default: {
          const manager = q.get('fieldManager');
          if (!manager) throw badRequest('fieldManager is required for apply requests');
          if (!isObject(patch)) throw badRequest('an apply patch must be an object');
          this.#checkTypeMeta(def, patch, true);
          const pm = meta(patch);
          if (pm.name !== name) {
            throw badRequest(
              `the name of the object (${String(pm.name)}) does not match the name on the URL (${name})`,
            );
          }
          this.#checkNamespace(def, rr.namespace, pm);
          const key = this.#key(def, rr.namespace, name);
          if (!stored) {
            if (rr.subresource) throw notFound(def.group, def.plural, name);
            const created = this.#create(def, rr.namespace, patch, dry);
            if (!dry) this.#rememberApplied(key, manager, patch);
            return { code: 201, body: created };
          }
          result = applyServerSide(stored, patch, this.#applied.get(key)?.get(manager));
          if (!dry) this.#rememberApplied(key, manager, patch);
        }
      }
    } catch (err) {
      if (err instanceof PatchError) {
        throw new StatusError(422, err.message, {
          reason: 'Invalid',
          details: resourceDetails(def.group, def.plural, name),
        });
      }
      throw err;
    }
    if (!isObject(result)) throw badRequest('the patched object is not an object');
    const rm = meta(result);
    const sm = meta(stored!);
    if (rm.name !== sm.name || rm.namespace !== sm.namespace) {
      throw invalid(def.group, def.kind, name, [
        { field: 'metadata.name', message: 'Invalid value: field is immutable' },
      ]);
    }
    if (rm.resourceVersion !== sm.resourceVersion) throw conflict(def.group, def.plural, name);
    return { code: 200, body: this.#commit(def, rr, stored!, result, dry) };
  }

  #rememberApplied(key: string, manager: string, applied: JsonObject): void {
    let byManager = this.#applied.get(key);
    if (!byManager) {
      byManager = new Map();
      this.#applied.set(key, byManager);
    }
    byManager.set(manager, clone(applied));
  }

  /** Shared tail of update and patch: status subresource rules, system fields, validation, no-op detection. */
  #commit(
    def: ResourceDef,
    rr: ResourceRequest,
    stored: JsonObject,
    input: JsonObject,
    dry: boolean,
  ): JsonObject {
    let next: JsonObject;
    if (rr.subresource === 'status') {
      next = clone(stored);
      if (input.status === undefined) delete next.status;
      else next.status = input.status;
    } else {
      next = clone(input);
      if (def.statusSubresource) {
        if (stored.status === undefined) delete next.status;
        else next.status = clone(stored.status);
      }
    }
    next.apiVersion = groupVersion(def);
    next.kind = def.kind;
    const nm = meta(next);
    const sm = meta(stored);
    for (const f of [
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'namespace',
      'name',
      'generation',
    ] as const) {
      if (sm[f] === undefined) delete nm[f];
      else nm[f] = sm[f];
    }
    nm.resourceVersion = sm.resourceVersion!;
    this.#validate(def, next, false);
    const specOf = (o: JsonObject) => {
      const { metadata: _m, status: _s, ...rest } = o;
      return rest;
    };
    if (!deepEqual(specOf(next), specOf(stored))) nm.generation = Number(sm.generation ?? 1) + 1;
    if (deepEqual(next, stored)) return clone(stored);
    const key = this.#key(def, rr.namespace, rr.name!);
    const finalizers = nm.finalizers;
    if (nm.deletionTimestamp !== undefined && (!Array.isArray(finalizers) || finalizers.length === 0)) {
      if (!dry) {
        this.#objects.delete(key);
        this.#applied.delete(key);
      }
      return next;
    }
    if (dry) return next;
    nm.resourceVersion = this.#nextRv();
    this.#objects.set(key, next);
    return clone(next);
  }

  #delete(def: ResourceDef, rr: ResourceRequest, q: URLSearchParams, raw: string, dry: boolean): JsonObject {
    const name = rr.name!;
    const stored = this.#mustGet(def, rr.namespace, name);
    let opts: JsonObject = {};
    if (raw.trim() !== '') {
      try {
        const parsed = JSON.parse(raw);
        if (isObject(parsed)) opts = parsed;
      } catch {
        throw badRequest('the body of the request could not be decoded as DeleteOptions');
      }
    }
    const policy = q.get('propagationPolicy') ?? str(opts.propagationPolicy);
    if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw new StatusError(
        422,
        `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
        { reason: 'Invalid', details: { kind: 'DeleteOptions', group: 'meta.k8s.io' } },
      );
    }
    const sm = meta(stored);
    const pre = isObject(opts.preconditions) ? opts.preconditions : {};
    if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== sm.resourceVersion) {
      throw new StatusError(
        409,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(sm.resourceVersion)}`,
        { reason: 'Conflict', details: resourceDetails(def.group, def.plural, name) },
      );
    }
    if (typeof pre.uid === 'string' && pre.uid !== sm.uid) {
      throw new StatusError(
        409,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(sm.uid)}`,
        {
          reason: 'Conflict',
          details: resourceDetails(def.group, def.plural, name),
        },
      );
    }
    if (dry) return stored;
    const key = this.#key(def, rr.namespace, name);
    if (Array.isArray(sm.finalizers) && sm.finalizers.length > 0) {
      if (sm.deletionTimestamp === undefined) {
        sm.deletionTimestamp = rfc3339(this.#now());
        sm.resourceVersion = this.#nextRv();
        this.#objects.set(key, stored);
      }
      return clone(stored);
    }
    this.#objects.delete(key);
    this.#applied.delete(key);
    return stored;
  }

  #accessReview(body: JsonObject): JsonObject {
    const spec = isObject(body.spec) ? body.spec : {};
    const attrs = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
    let allowed = true;
    if (attrs) {
      const verb = str(attrs.verb) ?? '';
      const group = str(attrs.group) ?? '';
      const plural = str(attrs.resource) ?? '';
      const sub = str(attrs.subresource);
      const namespace = str(attrs.namespace) || undefined;
      const name = str(attrs.name) || undefined;
      const resource = sub ? `${plural}/${sub}` : plural;
      allowed = !this.#denies({
        verb,
        group,
        resource,
        ...(namespace !== undefined ? { namespace } : {}),
        ...(name !== undefined ? { name } : {}),
      });
      if (allowed) {
        const def = RESOURCES.find((r) => r.group === group && r.plural === plural);
        if (def) {
          const path = resourcePath(
            def,
            namespace,
            name ?? (verb === 'list' || verb === 'create' ? undefined : 'x'),
            sub,
          );
          const method = METHOD_BY_VERB[verb] ?? 'GET';
          allowed = !this.#faults.some(
            (f) =>
              f.remaining > 0 &&
              f.status === 403 &&
              methodMatches(f.method, method) &&
              pathMatches(f.path, path),
          );
        }
      }
    }
    return {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: { creationTimestamp: null },
      spec,
      status: allowed ? { allowed: true, reason: 'allowed by the fake API server' } : { allowed: false },
    };
  }

  #podLog(rr: ResourceRequest, q: URLSearchParams): string {
    const pod = this.#mustGet(rr.def, rr.namespace, rr.name!);
    return this.#podLogs.read(rr.namespace!, rr.name!, pod, q);
  }

  // ---- helpers ----

  /** The store as the controllers see it: live objects, written with fresh resourceVersions. */
  #controllerStore() {
    return {
      list: (kind: string, namespace?: string) =>
        this.#all(this.#lookup(kind), namespace).map((o) => clone(o)),
      create: (input: JsonObject) => {
        const o = clone(input);
        const def = this.#defOf(o);
        const m = meta(o);
        m.uid = this.#nextUid();
        m.creationTimestamp = rfc3339(this.#now());
        m.generation = 1;
        m.resourceVersion = this.#nextRv();
        this.#objects.set(this.#key(def, str(m.namespace), String(m.name)), o);
        return clone(o);
      },
      update: (input: JsonObject) => {
        const o = clone(input);
        const def = this.#defOf(o);
        const m = meta(o);
        m.resourceVersion = this.#nextRv();
        this.#objects.set(this.#key(def, str(m.namespace), String(m.name)), o);
      },
      remove: (kind: string, namespace: string, name: string) => {
        const key = this.#key(this.#lookup(kind), namespace, name);
        this.#objects.delete(key);
        this.#applied.delete(key);
      },
    };
  }

  #checkTypeMeta(def: ResourceDef, obj: JsonObject, required = false): void {
    const gv = groupVersion(def);
    if (obj.apiVersion === undefined && obj.kind === undefined && !required) {
      obj.apiVersion = gv;
      obj.kind = def.kind;
      return;
    }
    if (obj.kind !== def.kind) {
      throw badRequest(
        `the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`,
      );
    }
    if (obj.apiVersion !== gv) {
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`,
      );
    }
  }

  #checkNamespace(def: ResourceDef, namespace: string | undefined, m: JsonObject): void {
    if (def.namespaced) {
      if (typeof m.namespace === 'string' && m.namespace !== '' && m.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      m.namespace = namespace!;
    } else delete m.namespace;
  }

  #validate(def: ResourceDef, obj: JsonObject, creating: boolean): void {
    const m = meta(obj);
    const name = String(m.name ?? '');
    const causes: { field: string; message: string; reason?: string }[] = [];
    const nameOk =
      def.kind === 'Namespace'
        ? DNS_LABEL.test(name) && name.length <= 63
        : DNS_SUBDOMAIN.test(name) && name.length <= 253;
    if (!nameOk) {
      causes.push({
        field: 'metadata.name',
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      });
    }
    for (const field of ['labels', 'annotations'] as const) {
      const v = m[field];
      if (v === undefined || v === null) continue;
      if (!isObject(v)) {
        causes.push({ field: `metadata.${field}`, message: 'Invalid value: must be a map of strings' });
        continue;
      }
      for (const [k, val] of Object.entries(v)) {
        if (!isQualifiedName(k)) {
          causes.push({
            field: `metadata.${field}`,
            message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
          });
        }
        if (typeof val !== 'string') {
          causes.push({ field: `metadata.${field}.${k}`, message: 'Invalid value: must be a string' });
        } else if (field === 'labels' && !isLabelValue(val)) {
          causes.push({
            field: 'metadata.labels',
            message: `Invalid value: "${val}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
          });
        }
      }
    }
    const spec = isObject(obj.spec) ? obj.spec : undefined;
    if (def.kind === 'NetworkPolicy' && spec) {
      const types = spec.policyTypes;
      if (
        types !== undefined &&
        !(Array.isArray(types) && types.every((t) => t === 'Ingress' || t === 'Egress'))
      ) {
        causes.push({
          field: 'spec.policyTypes',
          message: `Unsupported value: ${JSON.stringify(types)}: supported values: "Ingress", "Egress"`,
          reason: 'FieldValueNotSupported',
        });
      }
      if (spec.podSelector !== undefined && !isObject(spec.podSelector)) {
        causes.push({ field: 'spec.podSelector', message: 'Invalid value: must be a label selector' });
      }
    }
    if (def.kind === 'Pod' && creating) {
      const containers = spec?.containers;
      if (!Array.isArray(containers) || containers.length === 0) {
        causes.push({ field: 'spec.containers', message: 'Required value', reason: 'FieldValueRequired' });
      }
    }
    if (causes.length > 0) throw invalid(def.group, def.kind, name, causes);
  }

  #mustGet(def: ResourceDef, namespace: string | undefined, name: string): JsonObject {
    const o = this.#objects.get(this.#key(def, namespace, name));
    if (!o) throw notFound(def.group, def.plural, name);
    return clone(o);
  }

  #all(def: ResourceDef, namespace: string | undefined): JsonObject[] {
    const prefix = `${groupVersion(def)}|${def.plural}|`;
    const out: JsonObject[] = [];
    for (const [k, o] of this.#objects) {
      if (!k.startsWith(prefix)) continue;
      if (namespace !== undefined && def.namespaced && meta(o).namespace !== namespace) continue;
      out.push(o);
    }
    return out.sort((a, b) => {
      const ka = `${String(meta(a).namespace ?? '')}/${String(meta(a).name)}`;
      const kb = `${String(meta(b).namespace ?? '')}/${String(meta(b).name)}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  }

  #key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return `${groupVersion(def)}|${def.plural}|${def.namespaced ? (namespace ?? '') : ''}|${name}`;
  }

  #defOf(o: JsonObject): ResourceDef {
    const def =
      typeof o.kind === 'string'
        ? findResource(o.kind, typeof o.apiVersion === 'string' ? o.apiVersion : undefined)
        : undefined;
    if (!def) throw new Error(`the fake API server does not know ${String(o.apiVersion)} ${String(o.kind)}`);
    return def;
  }

  #lookup(type: string): ResourceDef {
    const def = findResource(type);
    if (!def) throw new Error(`the fake API server does not know the type "${type}"`);
    return def;
  }

  #nextRv(): string {
    this.#rv += 1;
    return String(this.#rv);
  }

  #nextUid(): string {
    this.#uid += 1;
    return `00000000-0000-4000-8000-${this.#uid.toString(16).padStart(12, '0')}`;
  }
}

const METHOD_BY_VERB: Record<string, string> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
};

/** The REST path of a resource (or collection when `name` is absent). */
export function resourcePath(
  def: ResourceDef,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const parts = [def.group === '' ? '/api/v1' : `/apis/${def.group}/${def.version}`];
  if (def.namespaced && namespace !== undefined) parts.push('namespaces', encodeURIComponent(namespace));
  parts.push(def.plural);
  if (name !== undefined) parts.push(encodeURIComponent(name));
  if (subresource !== undefined) parts.push(subresource);
  return parts.join('/');
}

function methodMatches(want: string | string[] | undefined, method: string): boolean {
  if (want === undefined) return true;
  const list = Array.isArray(want) ? want : [want];
  return list.some((m) => m.toUpperCase() === method);
}

function pathMatches(want: string | RegExp | undefined, path: string): boolean {
  if (want === undefined) return true;
  if (typeof want === 'string')
    return path === want || path.startsWith(want.endsWith('/') ? want : `${want}/`);
  return want.test(path);
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    try {
      return parseYaml(raw);
    } catch {
      return raw;
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  code: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
) {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export async function startFakeKubeApi(opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  let fake: FakeKubeApi | undefined;
  const server = createServer((req, res) => {
    void fake!.handle(req, res);
  });
  fake = new FakeKubeApi(server, opts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return fake;
}
