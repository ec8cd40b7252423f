import { MAX_ARTIFACT_BYTES } from '../domain/artifact.js';
import { artifactMetaOf, checkDigest, decodeArtifactMeta } from './artifacts-codec.js';
import type { RedisConnection } from './redis-connection.js';
import type { ArtifactStore } from './store.js';

// The Redis store's artifacts. Keys (under the store's prefix):
//   artifact:<incident>:<name>   hash {meta: ArtifactMeta JSON, bytes: the raw bytes}
//   artifacts:<incident>         list of names in the order they were stored
// A put is one script (exists? else write the hash and push the name), so two replicas storing the
// same name at once keep exactly one, and a reader never sees meta without its bytes.

const PUT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGET', KEYS[1], 'meta') end
redis.call('HSET', KEYS[1], 'meta', ARGV[1], 'bytes', ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[3])
return false
`;

const LIST = `
local names = redis.call('LRANGE', KEYS[1], 0, -1)
local out = {}
for i, name in ipairs(names) do out[i] = redis.call('HGET', ARGV[1] .. name, 'meta') or '' end
return out
`;

export function redisArtifacts(
  conn: Pick<RedisConnection, 'client' | 'cmd'>,
  prefix: string,
  maxBytes = MAX_ARTIFACT_BYTES,
): ArtifactStore {
  const { client, cmd } = conn;
  const itemPrefix = (incidentId: string) => `${prefix}artifact:${incidentId}:`;
  const listKey = (incidentId: string) => `${prefix}artifacts:${incidentId}`;
  return {
    async put(incidentId, artifact) {
      const meta = artifactMetaOf(incidentId, artifact, maxBytes);
      const key = itemPrefix(incidentId) + meta.name;
      const held = await cmd('artifacts.put', () =>
        client.eval(
          PUT,
          2,
          key,
          listKey(incidentId),
          JSON.stringify(meta),
          Buffer.from(artifact.bytes),
          meta.name,
        ),
      );
      if (typeof held === 'string') return { artifact: decodeArtifactMeta(held, key), created: false };
      return { artifact: meta, created: true };
    },
    async get(incidentId, name) {
      const key = itemPrefix(incidentId) + name;
      const [metaJson, bytes] = await cmd('artifacts.get', () => client.hmgetBuffer(key, 'meta', 'bytes'));
      if (!metaJson || !bytes) return undefined;
      const artifact = decodeArtifactMeta(metaJson.toString('utf8'), key);
      return { artifact, bytes: checkDigest(artifact, bytes, key) };
    },
    async list(incidentId) {
      const reply = await cmd('artifacts.list', () =>
        client.eval(LIST, 1, listKey(incidentId), itemPrefix(incidentId)),
      );
      const metas = Array.isArray(reply) ? (reply as unknown[]) : [];
      return metas
        .filter((m): m is string => typeof m === 'string' && m !== '')
        .map((m) => decodeArtifactMeta(m, listKey(incidentId)));
    },
  };
}
