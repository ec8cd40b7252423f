import type { Redis } from 'ioredis';
import { HOST_SAMPLE_SIZE } from '../domain/incident.js';

// The Lua scripts behind the Redis store: each one an atomic step on keys the caller names (or,
// for scripts reached through an index, derives from a key prefix: fine on one Redis or a
// replicated primary, not on Redis Cluster). Their keys and arguments are listed at the top of each.

// Every read returns an incident as six strings: the document and the counters overlaid on it
// (count, firstSeen, lastSeen, resolvedAt, hosts JSON).
export const READ_WIDTH = 6;
const READ_FN = `
local function read(key)
  local r = redis.call('HMGET', key, 'data', 'count', 'firstSeen', 'lastSeen', 'resolvedAt', 'hosts')
  if not r[1] then return nil end
  return {r[1], r[2] or '', r[3] or '', r[4] or '', r[5] or '', r[6] or ''}
end
-- A new incident's distinct hosts: the hash field, and its sample seeds the set of hosts seen.
local function seed_hosts(key, set, json)
  if json == '' then return end
  redis.call('HSET', key, 'hosts', json)
  for _, h in ipairs(cjson.decode(json).sample) do redis.call('SADD', set, h) end
end
`;

const CREATE_OR_GET = `${READ_FN}
-- KEYS: fingerprint index, incident hash, all zset, active zset, hosts set
-- ARGV: incident key prefix, id, json, score, fingerprint, count, firstSeen, lastSeen, hosts json ('' = none)
local held = redis.call('GET', KEYS[1])
if held and redis.call('ZSCORE', KEYS[4], held) then
  local r = read(ARGV[1] .. held)
  if r then return {'existing', unpack(r)} end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'id_taken'} end
redis.call('HSET', KEYS[2], 'data', ARGV[3], 'version', '0', 'fingerprint', ARGV[5],
  'count', ARGV[6], 'firstSeen', ARGV[7], 'lastSeen', ARGV[8], 'seq', '0')
seed_hosts(KEYS[2], KEYS[5], ARGV[9])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
return {'created'}
`;

const UPDATE = `${READ_FN}
-- KEYS: incident hash, all zset, active zset
-- ARGV: fingerprint key prefix, id, expected version, next version, json, active 1|0, score, fingerprint,
--       thread key ('' = none), hosts set (dropped when no longer active: nothing folds in any more)
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
  redis.call('DEL', ARGV[10])
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
--       state firing|resolved, new id, new json ('' = fold only: answer 'absent' if none is active),
--       new score, count, firstSeen, lastSeen,
--       template json, resolvedAt, hosts set prefix, fold host ('' = none), distinct hosts cap,
--       new incident's hosts json ('' = none), number of opened events N, N × (event id, json),
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
  -- Sent without a new incident (most alerts fold): nothing written, nothing claimed; ask for it.
  if ARGV[8] == '' then return {'absent'} end
  if redis.call('EXISTS', KEYS[5]) == 1 then return {'id_taken'} end
  local new = ARGV[7]
  local doc = cjson.decode(ARGV[8])
  redis.call('HSET', KEYS[5], 'data', ARGV[8], 'version', '0', 'fingerprint', doc.fingerprint,
    'count', tostring(doc.count), 'firstSeen', doc.firstSeen, 'lastSeen', doc.lastSeen, 'seq', '0')
  seed_hosts(KEYS[5], ARGV[15] .. new, ARGV[18])
  redis.call('SET', KEYS[1], new)
  redis.call('ZADD', KEYS[3], ARGV[9], new)
  redis.call('ZADD', KEYS[2], ARGV[9], new)
  local n = tonumber(ARGV[19])
  local at = 20
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
-- The distinct hosts (foldHost in codec.ts): exact while the set holds fewer than the cap.
local hosts = redis.call('HGET', key, 'hosts')
if hosts and ARGV[16] ~= '' then
  local set = ARGV[15] .. id
  if redis.call('SISMEMBER', set, ARGV[16]) == 0 then
    local h = cjson.decode(hosts)
    if redis.call('SCARD', set) < tonumber(ARGV[17]) then
      redis.call('SADD', set, ARGV[16])
      h.count = h.count + 1
      if #h.sample < ${HOST_SAMPLE_SIZE} then h.sample[#h.sample + 1] = ARGV[16] end
      redis.call('HSET', key, 'hosts', cjson.encode(h))
    elseif not h.capped then
      h.capped = true
      redis.call('HSET', key, 'hosts', cjson.encode(h))
    end
  end
end
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

export type Arg = string | number;
export interface Scripts {
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
export type ScriptedRedis = Redis & Scripts;

export const scripts: Record<keyof Scripts, { lua: string; numberOfKeys: number }> = {
  erCreateOrGet: { lua: CREATE_OR_GET, numberOfKeys: 5 },
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
