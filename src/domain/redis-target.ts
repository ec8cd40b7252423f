import { CodedError, type FieldIssue } from './errors.js';

// Which Redis the store talks to, read from one URL (REDIS_URL):
//   redis://[user:pass@]host:port[/db]            one server (rediss:// for TLS)
//   redis+sentinel://[user:pass@]host:port,host:port/master[/db][?sentinelUsername=…&sentinelPassword=…]
//   redis+cluster://[user:pass@]host:port,host:port    seed nodes of a Redis Cluster
// (rediss+sentinel:// and rediss+cluster:// for TLS). One URL, so one secret, picks the topology;
// the credentials in it are for the data nodes, a Sentinel's own are query parameters.
// Parsed here (pure) so the config check and the store agree; errors never echo the password.
// The config file's redis: block (config/redis.ts) names the same targets field by field and ends
// in the same RedisTarget, so the store never knows which of the two it came from.

export interface HostPort {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | (Credentials & {
      kind: 'sentinel';
      sentinels: HostPort[];
      name: string;
      db: number;
      sentinelUsername?: string;
      sentinelPassword?: string;
    })
  | (Credentials & { kind: 'cluster'; nodes: HostPort[] });

const MAX_URL = 4096;
/** The most Sentinels or Cluster seeds one target lists (URL or config file). */
export const MAX_NODES = 32;
/** A host as the config file writes it: a name, IPv4 or IPv6 address (two colons at least), no port. */
export const REDIS_HOST = /^(?:[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9.-]+)$/;
const SCHEMES: Record<string, { kind: RedisTarget['kind']; tls: boolean; defaultPort: number }> = {
  redis: { kind: 'single', tls: false, defaultPort: 6379 },
  rediss: { kind: 'single', tls: true, defaultPort: 6379 },
  'redis+sentinel': { kind: 'sentinel', tls: false, defaultPort: 26379 },
  'rediss+sentinel': { kind: 'sentinel', tls: true, defaultPort: 26379 },
  'redis+cluster': { kind: 'cluster', tls: false, defaultPort: 6379 },
  'rediss+cluster': { kind: 'cluster', tls: true, defaultPort: 6379 },
};
const SENTINEL_QUERY = ['sentinelUsername', 'sentinelPassword'] as const;
export const MASTER_NAME = /^(?!\.+$)[A-Za-z0-9._-]{1,64}$/;

/** The URL with its passwords masked: what an error message may show. */
export function redactRedisUrl(url: string): string {
  const clipped = url.length > 200 ? `${url.slice(0, 200)}…` : url;
  return clipped
    .replace(/^([^:/]*:\/\/)[^@/]*@/, (_, scheme: string) => `${scheme}***@`)
    .replace(/([?&]sentinelPassword=)[^&]*/g, '$1***');
}

function invalid(url: string, message: string): CodedError {
  const issue: FieldIssue = { path: 'REDIS_URL', message, value: redactRedisUrl(url) };
  return new CodedError('config_invalid', 'invalid REDIS_URL', { issues: [issue] });
}

function decode(url: string, part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid(url, `the ${what} is not valid percent-encoding`);
  }
}

function hostPort(url: string, text: string, defaultPort: number): HostPort {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw invalid(url, `expected host:port, got ${JSON.stringify(text.slice(0, 80))}`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) throw invalid(url, `port ${m[2]} is out of range (1-65535)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function database(url: string, text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,5}$/.test(text)) throw invalid(url, `expected a database number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parse REDIS_URL; throws CodedError('config_invalid') naming what is wrong. */
export function parseRedisTarget(url: string): RedisTarget {
  if (url.length > MAX_URL) throw invalid(url, `longer than ${MAX_URL} characters`);
  const m = /^([a-z+]+):\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(url);
  const scheme = m ? SCHEMES[m[1]!] : undefined;
  if (!m || !scheme || !Object.hasOwn(SCHEMES, m[1]!)) {
    throw invalid(url, `expected a URL starting with one of ${Object.keys(SCHEMES).join('://, ')}://`);
  }
  const [, , authority = '', path = '', query] = m;
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hosts = (at >= 0 ? authority.slice(at + 1) : authority).split(',');
  if (hosts.length > MAX_NODES) throw invalid(url, `more than ${MAX_NODES} hosts`);
  if (scheme.kind === 'single' && hosts.length > 1) {
    throw invalid(url, 'one host only: list several with redis+sentinel:// or redis+cluster://');
  }
  const nodes = hosts.map((h) => hostPort(url, h, scheme.defaultPort));
  const segments = path.split('/').filter((s) => s !== '');
  if (scheme.kind === 'single') {
    if (segments.length > 1) throw invalid(url, 'expected at most a database number as the path');
    database(url, segments[0]);
    if (query) throw invalid(url, 'query parameters are not supported for a single server');
    if (!URL.canParse(url)) throw invalid(url, 'not a valid URL');
    return { kind: 'single', url };
  }
  const creds: Credentials = { tls: scheme.tls };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = decode(url, colon >= 0 ? userinfo.slice(0, colon) : userinfo, 'user name');
    if (user) creds.username = user;
    if (colon >= 0) creds.password = decode(url, userinfo.slice(colon + 1), 'password');
  }
  if (scheme.kind === 'cluster') {
    if (segments.length > 0) throw invalid(url, 'a Redis Cluster has no database or master name in the path');
    if (query) throw invalid(url, 'query parameters are not supported for redis+cluster://');
    return { kind: 'cluster', nodes, ...creds };
  }
  const name = segments[0];
  if (name === undefined) throw invalid(url, 'expected the master name as the path: /mymaster');
  if (!MASTER_NAME.test(decode(url, name, 'master name'))) {
    throw invalid(url, 'the master name may hold letters, digits, dot, dash and underscore (1-64)');
  }
  if (segments.length > 2) throw invalid(url, 'expected /master or /master/db as the path');
  const out: RedisTarget = {
    kind: 'sentinel',
    sentinels: nodes,
    name: decode(url, name, 'master name'),
    db: database(url, segments[1]),
    ...creds,
  };
  for (const pair of query ? query.split('&') : []) {
    const eq = pair.indexOf('=');
    const k = eq >= 0 ? pair.slice(0, eq) : pair;
    const field = SENTINEL_QUERY.find((q) => q === k);
    if (!field)
      throw invalid(
        url,
        `unknown query parameter ${JSON.stringify(k.slice(0, 40))}; expected ${SENTINEL_QUERY.join(' or ')}`,
      );
    out[field] = decode(url, eq >= 0 ? pair.slice(eq + 1) : '', field);
  }
  return out;
}
