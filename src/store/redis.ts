import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { CodedError } from '../domain/errors.js';
import { type Incident, isActive } from '../domain/incident.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { Clock } from '../observability/clock.js';
import {
  checkEvent,
  checkExpectedVersion,
  checkIncident,
  checkNewIncident,
  checkNow,
  checkScheduled,
  closedStore,
  conflict,
  corrupt,
  createdAtMs,
  decodeEvent,
  decodeIncident,
  decodeScheduled,
  idTaken,
  lockBusy,
  notFound,
  pollDelay,
  type StoreLog,
  sleep,
  startHeartbeat,
  ttl,
  waitBudget,
  withCounters,
} from './codec.js';
import type {
  DedupeStore,
  IncidentStore,
  LockStore,
  ScheduledItem,
  ScheduleStore,
  Store,
  TimelineStore,
} from './store.js';

// The shared store (ioredis 6). It fails fast and loud: no offline queue, a command timeout, and every
// client error becomes CodedError('store_unavailable') within about commandTimeoutMs, while the client
// keeps reconnecting in the background so the store recovers by itself when Redis returns.
//
// Keys (all under keyPrefix):
//   incident:<id>            hash {data: Incident JSON, version, fingerprint, and the alert counters
//                            count, firstSeen, lastSeen, resolvedAt, seq — recordAlert's, overlaid on reads}
//   thread:<channel>:<ts>    string: id of the incident whose Slack thread that is
//   fingerprint:<fp>         string: id of the active incident holding that fingerprint
//   incidents:all            sorted set id → createdAt ms (list)
//   incidents:active         sorted set id → createdAt ms (list activeOnly, byFingerprint check)
//   timeline:<incidentId>    stream, one entry per event, field `event` = TimelineEvent JSON
//   timeline-ids:<incidentId> set of event ids already appended (idempotent append)
//   dedupe:<key>             SET NX PX
//   lock:<key>               SET NX PX random token; compare-and-delete release
//   schedule:due             sorted set id → dueAt; schedule:data hash id → ScheduledItem JSON
// The scripts touch keys they derive from a prefix argument (fingerprint → incident): fine on a single
// Redis or a replicated primary, not on Redis Cluster.

export interface RedisStoreOptions {
  url: string;
  /** Default `egress-responder:`. */
  keyPrefix?: string;
  /** How long any one call may take before it fails with store_unavailable. Default 2000. */
  commandTimeoutMs?: number;
  /** Accepted for symmetry with the memory store; TTLs here are kept by the Redis server's clock. */
  clock?: Clock;
  /** Where connection trouble is reported (once per outage, and on recovery). */
  log?: StoreLog;
}

// Every read returns an incident as six strings: the document and the counters overlaid on it.
const READ_FN = `
local function read(key)
  local r = redis.call('HMGET', key, 'data', 'count', 'firstSeen', 'lastSeen', 'resolvedAt')
  if not r[1] then return nil end
  return {r[1], r[2] or '', r[3] or '', r[4] or '', r[5] or ''}
end
`;

const CREATE_OR_GET = `${READ_FN}
-- KEYS: fingerprint index, incident hash, all zset, active zset
-- ARGV: incident key prefix, id, json, score, fingerprint, count, firstSeen, lastSeen
local held = redis.call('GET', KEYS[1])
if held and redis.call('ZSCORE', KEYS[4], held) then
  local r = read(ARGV[1] .. held)
  if r then return {'existing', unpack(r)} end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'id_taken'} end
redis.call('HSET', KEYS[2], 'data', ARGV[3], 'version', '0', 'fingerprint', ARGV[5],
  'count', ARGV[6], 'firstSeen', ARGV[7], 'lastSeen', ARGV[8], 'seq', '0')
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
return {'created'}
`;

const UPDATE = `${READ_FN}
-- KEYS: incident hash, all zset, active zset
-- ARGV: fingerprint key prefix, id, expected version, next version, json, active 1|0, score, fingerprint,
--       thread key ('' = none)
local cur = redis.call('HMGET', KEYS[1], 'version', 'fingerprint')
if not cur[1] then return {'missing'} end
if cur[1] ~= ARGV[3] then return {'conflict', cur[1]} end
redis.call('HSET', KEYS[1], 'data', ARGV[5], 'version', ARGV[4], 'fingerprint', ARGV[8])
if ARGV[9] ~= '' then redis.call('SET', ARGV[9], ARGV[2]) end
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[2])
if ARGV[6] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[2])
else
  redis.call('ZREM', KEYS[3], ARGV[2])
  if cur[2] then
    local fp = ARGV[1] .. cur[2]
    if redis.call('GET', fp) == ARGV[2] then redis.call('DEL', fp) end
  end
end
return {'ok', unpack(read(KEYS[1]))}
`;

const GET = `${READ_FN}
-- KEYS: incident hash
return read(KEYS[1]) or false
`;

const BY_FINGERPRINT = `${READ_FN}
-- KEYS: fingerprint index, active zset; ARGV: incident key prefix
local id = redis.call('GET', KEYS[1])
if not id then return false end
if not redis.call('ZSCORE', KEYS[2], id) then return false end
return read(ARGV[1] .. id) or false
`;

const BY_THREAD = `${READ_FN}
-- KEYS: thread key; ARGV: incident key prefix
local id = redis.call('GET', KEYS[1])
if not id then return false end
return read(ARGV[1] .. id) or false
`;

const LIST = `${READ_FN}
-- KEYS: zset; ARGV: incident key prefix, stop index (-1 = all)
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local r = read(ARGV[1] .. id)
  if r then for _, v in ipairs(r) do out[#out + 1] = v end end
end
return out
`;

// One alert, all or nothing (see AlertRecord in store.ts). Events are passed as JSON text and stored
// verbatim; only the fold/resolve template is decoded (it holds scalars only) to fill in its id,
// incident id, count and summary.
const RECORD_ALERT = `${READ_FN}
-- KEYS: fingerprint index, active zset, all zset, dedupe key, new incident hash, schedule due zset,
--       schedule data hash
-- ARGV: incident key prefix, timeline-ids prefix, stream prefix, claim 1|0, claim ttl ms,
--       state firing|resolved, new id, new json, new score, count, firstSeen, lastSeen,
--       template json, resolvedAt, number of opened events N, N × (event id, json),
--       number of schedule items M, M × (id, score, json)
local function active_id()
  local held = redis.call('GET', KEYS[1])
  if held and redis.call('ZSCORE', KEYS[2], held) then return held end
  return nil
end
local function append(incident, id, json)
  if redis.call('SADD', ARGV[2] .. incident, id) == 1 then
    redis.call('XADD', ARGV[3] .. incident, '*', 'event', json)
  end
end
local function claim()
  if ARGV[4] == '1' then redis.call('SET', KEYS[4], '1', 'PX', tonumber(ARGV[5])) end
end
local function fill(incident, seq, count, lastSeen)
  local ev = cjson.decode(ARGV[13])
  ev.id = incident .. ':alert:' .. seq
  ev.incidentId = incident
  if count then
    ev.summary = string.gsub(string.gsub(ev.summary, '{count}', count), '{lastSeen}', lastSeen)
    ev.details.count = tonumber(count)
  end
  return ev.id, cjson.encode(ev)
end

local id = active_id()
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then
  if id then
    local r = read(ARGV[1] .. id)
    if r then return {'duplicate', unpack(r)} end
  end
  return {'duplicate'}
end
if ARGV[6] == 'resolved' then
  claim()
  if not id then return {'ignored'} end
  local key = ARGV[1] .. id
  local seq = redis.call('HINCRBY', key, 'seq', 1)
  redis.call('HSET', key, 'resolvedAt', ARGV[14])
  local eid, json = fill(id, seq)
  append(id, eid, json)
  return {'resolved', json, unpack(read(key))}
end
if not id then
  if redis.call('EXISTS', KEYS[5]) == 1 then return {'id_taken'} end
  local new = ARGV[7]
  local doc = cjson.decode(ARGV[8])
  redis.call('HSET', KEYS[5], 'data', ARGV[8], 'version', '0', 'fingerprint', doc.fingerprint,
    'count', tostring(doc.count), 'firstSeen', doc.firstSeen, 'lastSeen', doc.lastSeen, 'seq', '0')
  redis.call('SET', KEYS[1], new)
  redis.call('ZADD', KEYS[3], ARGV[9], new)
  redis.call('ZADD', KEYS[2], ARGV[9], new)
  local n = tonumber(ARGV[15])
  local at = 16
  for i = 1, n do
    append(new, ARGV[at], ARGV[at + 1])
    at = at + 2
  end
  local m = tonumber(ARGV[at])
  at = at + 1
  for i = 1, m do
    redis.call('ZADD', KEYS[6], ARGV[at + 1], ARGV[at])
    redis.call('HSET', KEYS[7], ARGV[at], ARGV[at + 2])
    at = at + 3
  end
  claim()
  return {'opened'}
end
local key = ARGV[1] .. id
local cur = redis.call('HMGET', key, 'count', 'firstSeen', 'lastSeen')
local count = tostring(tonumber(cur[1]) + tonumber(ARGV[10]))
local first = cur[2]
if ARGV[11] < first then first = ARGV[11] end
local last = cur[3]
if ARGV[12] > last then last = ARGV[12] end
redis.call('HSET', key, 'count', count, 'firstSeen', first, 'lastSeen', last)
redis.call('HDEL', key, 'resolvedAt')
local seq = redis.call('HINCRBY', key, 'seq', 1)
local eid, json = fill(id, seq, count, last)
append(id, eid, json)
claim()
return {'folded', json, unpack(read(key))}
`;

const SCHEDULE_LEASE = `
-- KEYS: due zset, data hash; ARGV: now, lease until, limit
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[2], id)
  if data then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    out[#out + 1] = data
  end
end
return out
`;

const EXTEND = `
-- KEYS: lock; ARGV: token, ttl ms
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

const APPEND = `
-- KEYS: event id set, stream; ARGV: event id, json
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'event', ARGV[2])
return 1
`;

const SCHEDULE_PUT = `
-- KEYS: due zset, data hash; ARGV: id, score, json
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
`;

const SCHEDULE_DUE = `
-- KEYS: due zset, data hash; ARGV: now, limit ('' = none)
local ids
if ARGV[2] == '' then
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
else
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
end
-- The score is the truth about when an item is due (a lease moves it); return it with the data.
local out = {}
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[2], id)
  if data then
    out[#out + 1] = data
    out[#out + 1] = redis.call('ZSCORE', KEYS[1], id)
  end
end
return out
`;

const SCHEDULE_REMOVE = `
-- KEYS: due zset, data hash; ARGV: id
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

const UNLOCK = `
-- KEYS: lock; ARGV: token
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Arg = string | number;
interface Scripts {
  erCreateOrGet(...args: Arg[]): Promise<unknown>;
  erGet(...args: Arg[]): Promise<unknown>;
  erByThread(...args: Arg[]): Promise<unknown>;
  erRecordAlert(...args: Arg[]): Promise<unknown>;
  erScheduleLease(...args: Arg[]): Promise<unknown>;
  erExtend(...args: Arg[]): Promise<unknown>;
  erUpdate(...args: Arg[]): Promise<unknown>;
  erByFingerprint(...args: Arg[]): Promise<unknown>;
  erList(...args: Arg[]): Promise<unknown>;
  erAppend(...args: Arg[]): Promise<unknown>;
  erSchedulePut(...args: Arg[]): Promise<unknown>;
  erScheduleDue(...args: Arg[]): Promise<unknown>;
  erScheduleRemove(...args: Arg[]): Promise<unknown>;
  erUnlock(...args: Arg[]): Promise<unknown>;
}
type ScriptedRedis = Redis & Scripts;

const scripts: Record<keyof Scripts, { lua: string; numberOfKeys: number }> = {
  erCreateOrGet: { lua: CREATE_OR_GET, numberOfKeys: 4 },
  erGet: { lua: GET, numberOfKeys: 1 },
  erByThread: { lua: BY_THREAD, numberOfKeys: 1 },
  erRecordAlert: { lua: RECORD_ALERT, numberOfKeys: 7 },
  erScheduleLease: { lua: SCHEDULE_LEASE, numberOfKeys: 2 },
  erExtend: { lua: EXTEND, numberOfKeys: 1 },
  erUpdate: { lua: UPDATE, numberOfKeys: 3 },
  erByFingerprint: { lua: BY_FINGERPRINT, numberOfKeys: 2 },
  erList: { lua: LIST, numberOfKeys: 1 },
  erAppend: { lua: APPEND, numberOfKeys: 2 },
  erSchedulePut: { lua: SCHEDULE_PUT, numberOfKeys: 2 },
  erScheduleDue: { lua: SCHEDULE_DUE, numberOfKeys: 2 },
  erScheduleRemove: { lua: SCHEDULE_REMOVE, numberOfKeys: 2 },
  erUnlock: { lua: UNLOCK, numberOfKeys: 1 },
};

/** Reconnect quickly at first, then every second or so (with jitter), forever. */
function retryDelay(times: number): number {
  return Math.min(times * 200, 1000) + Math.floor(Math.random() * 100);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * `sent`: whether the command left this process. A command never sent certainly did not run; one
 * sent without an answer may have (intake tells its senders which).
 */
function unavailable(op: string, err: unknown, sent: boolean): CodedError {
  if (err instanceof CodedError) return err;
  return new CodedError(
    'store_unavailable',
    'the incident store (Redis) is not answering; try again shortly',
    {
      cause: err,
      details: { op, reason: errorMessage(err), sent },
    },
  );
}

function unexpected(op: string, reply: unknown): CodedError {
  return new CodedError('internal', `unexpected reply from Redis to ${op}`, {
    userSafe: false,
    details: { op, reply },
  });
}

function asStrings(op: string, reply: unknown): string[] {
  if (!Array.isArray(reply) || !reply.every((x) => typeof x === 'string')) throw unexpected(op, reply);
  return reply;
}

/**
 * ioredis parks the commands that were on a connection when it dropped (`prevCommandQueue`) and, with
 * autoResendUnfulfilledCommands off, discards them on reconnect without settling them: each keeps its
 * commandTimeout timer alive. Reject them now (the callers already have their answer from `cmd`). This
 * reaches into ioredis internals, so it does nothing unless the shape is the expected one.
 */
function settleUnfulfilled(client: Redis, err: Error): void {
  const internals = client as unknown as {
    prevCommandQueue?: {
      length: number;
      shift(): { command?: { reject?: (e: Error) => void } } | undefined;
    } | null;
  };
  const queue = internals.prevCommandQueue;
  if (!queue || typeof queue.shift !== 'function' || typeof queue.length !== 'number') return;
  internals.prevCommandQueue = null;
  for (let item = queue.shift(); item; item = queue.shift()) item.command?.reject?.(err);
}

export function createRedisStore(opts: RedisStoreOptions): Store {
  const prefix = opts.keyPrefix ?? 'egress-responder:';
  const timeoutMs = opts.commandTimeoutMs ?? 2000;
  const log = opts.log;

  const client = new Redis(opts.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    // A command whose connection dropped may or may not have run: report it, never replay it.
    autoResendUnfulfilledCommands: false,
    retryStrategy: retryDelay,
    // Grace for a socket to close after disconnect(); ioredis arms it even for a socket already closed.
    disconnectTimeout: Math.min(timeoutMs, 500),
    connectionName: 'egress-responder',
  }) as ScriptedRedis;
  for (const [name, def] of Object.entries(scripts)) client.defineCommand(name, def);

  let closed = false;
  let troubled = false;
  client.on('error', (err: unknown) => {
    if (troubled || closed) return;
    troubled = true;
    log?.warn({ err: errorMessage(err) }, 'redis store: connection trouble; reconnecting in the background');
  });
  client.on('ready', () => {
    if (!troubled) return;
    troubled = false;
    log?.warn({}, 'redis store: connection restored');
  });

  // Commands in flight when the connection drops fail at once instead of waiting for their timeout.
  const inflight = new Set<(err: Error) => void>();
  client.on('close', () => {
    const lost = new Error('connection to Redis lost while the command was in flight');
    const waiting = [...inflight];
    inflight.clear();
    for (const reject of waiting) reject(lost);
    settleUnfulfilled(client, lost);
  });

  // One shared promise for the connection attempt under way, however many calls wait for it.
  let attempt: Promise<void> | undefined;
  function connectionAttempt(): Promise<void> {
    if (!attempt) {
      const current = new Promise<void>((resolve, reject) => {
        const done = (err?: Error): void => {
          client.off('ready', onReady);
          client.off('close', onClose);
          attempt = undefined;
          if (err) reject(err);
          else resolve();
        };
        const onReady = (): void => done();
        const onClose = (): void => done(new Error('connection attempt failed'));
        client.on('ready', onReady);
        client.on('close', onClose);
      });
      current.catch(() => {});
      attempt = current;
    }
    return attempt;
  }

  /**
   * One Redis call: answered, or CodedError('store_unavailable') within about commandTimeoutMs. While the
   * client is between reconnection attempts it fails at once; while an attempt is under way it waits for
   * it, and that wait counts against the same budget as the command.
   */
  async function cmd<T>(op: string, run: () => Promise<T>): Promise<T> {
    if (closed) throw closedStore('redis');
    const status = client.status;
    const connecting = status === 'wait' || status === 'connecting' || status === 'connect';
    if (status !== 'ready' && !connecting) throw unavailable(op, new Error(`connection is ${status}`), false);
    let onLost: (err: Error) => void = () => {};
    const lost = new Promise<never>((_, reject) => {
      onLost = reject;
    });
    const budget = connecting
      ? setTimeout(() => onLost(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      : undefined;
    let pending: Promise<T> | undefined;
    try {
      if (connecting) await Promise.race([connectionAttempt(), lost]);
      inflight.add(onLost);
      pending = run();
      return await Promise.race([pending, lost]);
    } catch (err) {
      pending?.catch(() => {}); // it settles later (timeout); nobody is waiting for it any more
      throw unavailable(op, err, pending !== undefined);
    } finally {
      clearTimeout(budget);
      inflight.delete(onLost);
    }
  }

  const key = {
    incidentPrefix: `${prefix}incident:`,
    incident: (id: string) => `${prefix}incident:${id}`,
    fingerprintPrefix: `${prefix}fingerprint:`,
    fingerprint: (fp: string) => `${prefix}fingerprint:${fp}`,
    all: `${prefix}incidents:all`,
    active: `${prefix}incidents:active`,
    stream: (incidentId: string) => `${prefix}timeline:${incidentId}`,
    streamPrefix: `${prefix}timeline:`,
    eventIds: (incidentId: string) => `${prefix}timeline-ids:${incidentId}`,
    eventIdsPrefix: `${prefix}timeline-ids:`,
    thread: (channel: string, ts: string) => `${prefix}thread:${channel}:${ts}`,
    dedupe: (k: string) => `${prefix}dedupe:${k}`,
    lock: (k: string) => `${prefix}lock:${k}`,
    due: `${prefix}schedule:due`,
    dueData: `${prefix}schedule:data`,
  };

  /** Five strings from READ_FN (document and counters) → the incident as stored. */
  const fromRead = (parts: string[], where: string): Incident => {
    const [data, count, firstSeen, lastSeen, resolvedAt] = parts;
    if (data === undefined) throw corrupt(where, new Error('no document'));
    const doc = decodeIncident(data, where);
    if (!count || !firstSeen || !lastSeen) return doc; // written before counters existed: the document's own
    return withCounters(doc, {
      count: Number(count),
      firstSeen,
      lastSeen,
      ...(resolvedAt ? { resolvedAt } : {}),
    });
  };
  const optionalRead = (op: string, reply: unknown, where: string): Incident | undefined => {
    if (reply === null || reply === undefined) return undefined;
    return fromRead(asStrings(op, reply), where);
  };

  const incidents: IncidentStore = {
    async get(id) {
      const reply = await cmd('incidents.get', () => client.erGet(key.incident(id)));
      return optionalRead('get', reply, key.incident(id));
    },
    async createOrGetByFingerprint(incident) {
      const fresh = checkNewIncident(incident);
      const reply = await cmd('incidents.createOrGetByFingerprint', () =>
        client.erCreateOrGet(
          key.fingerprint(fresh.fingerprint),
          key.incident(fresh.id),
          key.all,
          key.active,
          key.incidentPrefix,
          fresh.id,
          JSON.stringify(fresh),
          createdAtMs(fresh),
          fresh.fingerprint,
          String(fresh.count),
          fresh.firstSeen,
          fresh.lastSeen,
        ),
      );
      const [outcome, ...rest] = asStrings('createOrGetByFingerprint', reply);
      if (outcome === 'created') return { created: true, incident: fresh };
      if (outcome === 'id_taken') throw idTaken(fresh.id);
      if (outcome === 'existing') {
        return { created: false, incident: fromRead(rest, key.fingerprint(fresh.fingerprint)) };
      }
      throw unexpected('createOrGetByFingerprint', reply);
    },
    async byFingerprint(fingerprint) {
      const reply = await cmd('incidents.byFingerprint', () =>
        client.erByFingerprint(key.fingerprint(fingerprint), key.active, key.incidentPrefix),
      );
      return optionalRead('byFingerprint', reply, key.fingerprint(fingerprint));
    },
    async byThread(channel, ts) {
      const reply = await cmd('incidents.byThread', () =>
        client.erByThread(key.thread(channel, ts), key.incidentPrefix),
      );
      return optionalRead('byThread', reply, key.thread(channel, ts));
    },
    async update(next, expectedVersion) {
      checkExpectedVersion(expectedVersion);
      const stored: Incident = { ...checkIncident(next), version: expectedVersion + 1 };
      const reply = await cmd('incidents.update', () =>
        client.erUpdate(
          key.incident(stored.id),
          key.all,
          key.active,
          key.fingerprintPrefix,
          stored.id,
          String(expectedVersion),
          String(stored.version),
          JSON.stringify(stored),
          isActive(stored) ? '1' : '0',
          createdAtMs(stored),
          stored.fingerprint,
          stored.slack ? key.thread(stored.slack.channel, stored.slack.ts) : '',
        ),
      );
      const [outcome, ...rest] = asStrings('update', reply);
      if (outcome === 'ok') return fromRead(rest, key.incident(stored.id));
      if (outcome === 'missing') throw notFound(stored.id);
      if (outcome === 'conflict' && rest[0] !== undefined)
        throw conflict(stored.id, expectedVersion, rest[0]);
      throw unexpected('update', reply);
    },
    async list(listOpts = {}) {
      const limit = listOpts.limit;
      if (limit !== undefined && limit <= 0) return [];
      const stop = limit === undefined || !Number.isFinite(limit) ? -1 : Math.floor(limit) - 1;
      const zset = listOpts.activeOnly ? key.active : key.all;
      const reply = asStrings(
        'list',
        await cmd('incidents.list', () => client.erList(zset, key.incidentPrefix, stop)),
      );
      const out: Incident[] = [];
      for (let i = 0; i + 5 <= reply.length; i += 5)
        out.push(fromRead(reply.slice(i, i + 5), `${zset} (list)`));
      return out;
    },
    async recordAlert(record) {
      const claimMs = record.claim ? ttl('claim.ttlMs', record.claim.ttlMs) : 0;
      const where = key.fingerprint(record.fingerprint);
      let args: Arg[];
      let newKey = key.incident('-');
      if (record.state === 'firing') {
        const fresh = checkNewIncident(record.open.incident);
        if (fresh.fingerprint !== record.fingerprint) {
          throw new CodedError('internal', 'recordAlert: the new incident has another fingerprint', {
            userSafe: false,
          });
        }
        newKey = key.incident(fresh.id);
        const events = record.open.events.map(checkEvent);
        const items = record.open.schedule.map(checkScheduled);
        args = [
          'firing',
          fresh.id,
          JSON.stringify(fresh),
          createdAtMs(fresh),
          String(record.fold.count),
          record.fold.firstSeen,
          record.fold.lastSeen,
          JSON.stringify(checkEvent(record.fold.event)),
          '',
          events.length,
          ...events.flatMap((e) => [e.id, JSON.stringify(e)]),
          items.length,
          ...items.flatMap((i) => [i.id, String(i.dueAt), JSON.stringify(i)]),
        ];
      } else {
        args = [
          'resolved',
          '',
          '',
          0,
          '0',
          '',
          '',
          JSON.stringify(checkEvent(record.resolved.event)),
          record.resolved.at,
          0,
          0,
        ];
      }
      const reply = await cmd('incidents.recordAlert', () =>
        client.erRecordAlert(
          where,
          key.active,
          key.all,
          key.dedupe(record.claim?.key ?? '-'),
          newKey,
          key.due,
          key.dueData,
          key.incidentPrefix,
          key.eventIdsPrefix,
          key.streamPrefix,
          record.claim ? '1' : '0',
          String(claimMs),
          ...args,
        ),
      );
      const [outcome, ...rest] = asStrings('recordAlert', reply);
      switch (outcome) {
        case 'duplicate':
          return { outcome, incident: rest.length > 0 ? fromRead(rest, where) : undefined };
        case 'ignored':
          return { outcome };
        case 'id_taken':
          throw idTaken(record.state === 'firing' ? record.open.incident.id : '-');
        case 'opened': {
          if (record.state !== 'firing') break;
          return {
            outcome,
            incident: checkNewIncident(record.open.incident),
            events: record.open.events.map(checkEvent),
          };
        }
        case 'folded':
        case 'resolved': {
          const [json, ...doc] = rest;
          if (json === undefined) break;
          return { outcome, incident: fromRead(doc, where), events: [decodeEvent(json, where)] };
        }
      }
      throw unexpected('recordAlert', reply);
    },
  };

  const timeline: TimelineStore = {
    async append(event) {
      const checked: TimelineEvent = checkEvent(event);
      const added = await cmd('timeline.append', () =>
        client.erAppend(
          key.eventIds(checked.incidentId),
          key.stream(checked.incidentId),
          checked.id,
          JSON.stringify(checked),
        ),
      );
      return added === 1;
    },
    async read(incidentId) {
      const stream = key.stream(incidentId);
      const entries = await cmd('timeline.read', () => client.xrange(stream, '-', '+'));
      return entries.map(([entryId, fields]) => {
        const at = fields.indexOf('event');
        const json = at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
        if (json === undefined) throw corrupt(`${stream} entry ${entryId}`, new Error('no `event` field'));
        return decodeEvent(json, `${stream} entry ${entryId}`);
      });
    },
  };

  const dedupe: DedupeStore = {
    async claim(k, ttlMs) {
      const ms = ttl('ttlMs', ttlMs);
      const reply = await cmd('dedupe.claim', () => client.set(key.dedupe(k), '1', 'PX', ms, 'NX'));
      return reply === 'OK';
    },
    async release(k) {
      await cmd('dedupe.release', () => client.del(key.dedupe(k)));
    },
  };

  const locks: LockStore = {
    async withLock(k, lockOpts, fn) {
      const ttlMs = ttl('ttlMs', lockOpts.ttlMs);
      const waitMs = waitBudget(lockOpts.waitMs);
      const lockKey = key.lock(k);
      const token = randomUUID();
      const started = performance.now();
      for (;;) {
        const reply = await cmd('locks.acquire', () => client.set(lockKey, token, 'PX', ttlMs, 'NX'));
        if (reply === 'OK') break;
        const waited = performance.now() - started;
        if (waited >= waitMs) throw lockBusy(k, Math.round(waited));
        await sleep(pollDelay(waitMs - waited));
      }
      const lost = new AbortController();
      const heartbeat = startHeartbeat(
        ttlMs,
        async () => (await cmd('locks.extend', () => client.erExtend(lockKey, token, String(ttlMs)))) === 1,
        lost,
        k,
      );
      try {
        return await fn({ signal: lost.signal });
      } finally {
        heartbeat.stop();
        // Compare-and-delete: if fn outlived the TTL, the lock may be someone else's by now.
        await cmd('locks.release', () => client.erUnlock(lockKey, token)).then(
          (released) => {
            if (released !== 1) {
              log?.warn(
                { key: k, ttlMs },
                'redis store: lock expired before its holder finished (ttl too short?)',
              );
            }
          },
          (err: unknown) => {
            // The result of fn matters more; the lock expires by itself after ttlMs.
            log?.warn(
              { key: k, err: errorMessage(err) },
              'redis store: could not release a lock; it will expire',
            );
          },
        );
      }
    },
  };

  const schedule: ScheduleStore = {
    async put(item) {
      const checked: ScheduledItem = checkScheduled(item);
      await cmd('schedule.put', () =>
        client.erSchedulePut(
          key.due,
          key.dueData,
          checked.id,
          String(checked.dueAt),
          JSON.stringify(checked),
        ),
      );
    },
    async due(now, limit) {
      checkNow(now);
      if (limit !== undefined && limit <= 0) return [];
      const max = limit === undefined || !Number.isFinite(limit) ? '' : String(Math.floor(limit));
      const upTo = now === Number.POSITIVE_INFINITY ? '+inf' : String(now);
      const reply = asStrings(
        'schedule.due',
        await cmd('schedule.due', () => client.erScheduleDue(key.due, key.dueData, upTo, max)),
      );
      const out: ScheduledItem[] = [];
      for (let i = 0; i + 2 <= reply.length; i += 2) {
        out.push({ ...decodeScheduled(reply[i]!, key.dueData), dueAt: Number(reply[i + 1]) });
      }
      return out;
    },
    async lease(now, leaseMs, limit) {
      checkNow(now);
      const ms = ttl('leaseMs', leaseMs);
      if (limit <= 0) return [];
      const reply = await cmd('schedule.lease', () =>
        client.erScheduleLease(
          key.due,
          key.dueData,
          String(now),
          String(now + ms),
          String(Math.floor(limit)),
        ),
      );
      return asStrings('schedule.lease', reply).map((data) => ({
        ...decodeScheduled(data, key.dueData),
        dueAt: now + ms,
      }));
    },
    async remove(id) {
      await cmd('schedule.remove', () => client.erScheduleRemove(key.due, key.dueData, id));
    },
  };

  return {
    kind: 'redis',
    incidents,
    timeline,
    dedupe,
    locks,
    schedule,
    async ping() {
      await cmd('ping', () => client.ping());
    },
    async close() {
      if (closed) return;
      closed = true;
      if (client.status === 'end') return;
      if (client.status === 'ready') {
        try {
          await client.quit();
          return;
        } catch {
          // not answering: drop the connection instead
        }
      }
      client.disconnect(); // also stops the background reconnection
    },
  };
}
