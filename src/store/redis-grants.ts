import {
  checkGrantUpdate,
  checkNewGrant,
  decodeGrant,
  grantConflict,
  grantNotFound,
  isLiveGrant,
} from './grants-codec.js';
import type { RedisConnection } from './redis-connection.js';
import type { GrantStore } from './store.js';

// The Redis store's grants. Keys (under the store's prefix):
//   grant:<id>            the grant JSON (with its version)
//   grants:all            sorted set id → requestedAt ms (every grant ever: the audit)
//   grants:live           sorted set of the pending, approved and active ones (what the reconciler reads)
//   grants:incident:<id>  sorted set of one incident's grants
// Create and update are one script each, so the record and its indexes never disagree and two
// approvers racing for one version leave exactly one winner.

const CREATE = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
if ARGV[4] == '1' then redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3]) end
return false
`;

const UPDATE = `
local held = redis.call('GET', KEYS[1])
if not held then return {'missing'} end
local version = cjson.decode(held).version
if tostring(version) ~= ARGV[1] then return {'conflict', tostring(version)} end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] == '1' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5]) else redis.call('ZREM', KEYS[2], ARGV[5]) end
return {'ok'}
`;

const LIST = `
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]))
local out = {}
for i, id in ipairs(ids) do out[i] = redis.call('GET', ARGV[1] .. id) or '' end
return out
`;

export function redisGrants(conn: Pick<RedisConnection, 'client' | 'cmd'>, prefix: string): GrantStore {
  const { client, cmd } = conn;
  const key = {
    grant: (id: string) => `${prefix}grant:${id}`,
    grantPrefix: `${prefix}grant:`,
    all: `${prefix}grants:all`,
    live: `${prefix}grants:live`,
    incident: (id: string) => `${prefix}grants:incident:${id}`,
  };
  return {
    async get(id) {
      const json = await cmd('grants.get', () => client.get(key.grant(id)));
      return json ? decodeGrant(json) : undefined;
    },
    async create(grant) {
      const checked = checkNewGrant(grant);
      const held = await cmd('grants.create', () =>
        client.eval(
          CREATE,
          4,
          key.grant(checked.id),
          key.all,
          key.live,
          key.incident(checked.incidentId),
          JSON.stringify(checked),
          Date.parse(checked.requestedAt),
          checked.id,
          isLiveGrant(checked) ? '1' : '0',
        ),
      );
      if (typeof held === 'string') return { created: false, grant: decodeGrant(held) };
      return { created: true, grant: checked };
    },
    async update(next, expectedVersion) {
      const checked = checkGrantUpdate(next, expectedVersion);
      const reply = (await cmd('grants.update', () =>
        client.eval(
          UPDATE,
          2,
          key.grant(checked.id),
          key.live,
          String(expectedVersion),
          JSON.stringify(checked),
          isLiveGrant(checked) ? '1' : '0',
          Date.parse(checked.requestedAt),
          checked.id,
        ),
      )) as string[];
      if (reply[0] === 'missing') throw grantNotFound(checked.id);
      if (reply[0] === 'conflict') throw grantConflict(checked.id, expectedVersion, reply[1] ?? '?');
      return checked;
    },
    async list(opts = {}) {
      if (opts.limit !== undefined && opts.limit <= 0) return [];
      const limit =
        opts.limit === undefined || !Number.isFinite(opts.limit) ? undefined : Math.floor(opts.limit);
      // With both filters, read the incident's (smaller) set whole and keep the live ones.
      const both = Boolean(opts.incidentId && opts.live);
      const zset = opts.incidentId ? key.incident(opts.incidentId) : opts.live ? key.live : key.all;
      const stop = limit === undefined || both ? -1 : limit - 1;
      const reply = (await cmd('grants.list', () =>
        client.eval(LIST, 1, zset, key.grantPrefix, stop),
      )) as string[];
      const grants = reply
        .filter((json) => json !== '')
        .map(decodeGrant)
        .filter((g) => !opts.live || isLiveGrant(g));
      return limit === undefined ? grants : grants.slice(0, limit);
    },
  };
}
