import type { StoreLog } from './codec.js';
import type { RedisConnection } from './redis-connection.js';
import { keyBase } from './redis-keys.js';

// Releases before the `{er}` hash tag kept keys as `<prefix><name>`; this one keeps them as
// `<prefix>{er}:<name>` (redis-keys.ts). On start the store renames what an earlier release left
// (RENAMENX: a key already in the new layout is never overwritten; the old one stays and is logged).
// Only the store's own key names move, so another deployment whose prefix begins with this one's
// (`egress-responder:staging:…`) is left alone. Earlier releases ran on one server or a Sentinel
// master only (their scripts spanned slots), so a Cluster has nothing to migrate.

const OLD_NAMES = [
  'incident:',
  'thread:',
  'fingerprint:',
  'incidents:all',
  'incidents:active',
  'timeline:',
  'timeline-ids:',
  'hosts:',
  'dedupe:',
  'lock:',
  'schedule:due',
  'schedule:data',
  'artifact:',
  'artifacts:',
  'grant:',
  'grants:all',
  'grants:live',
  'grants:incident:',
];

// Another replica starting at the same time may have moved the key a moment ago: -1, not an error.
const RENAME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('RENAMENX', KEYS[1], KEYS[2])
`;

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Rename the old layout's keys under `prefix`; returns how many moved. */
export async function migrateKeyLayout(
  conn: Pick<RedisConnection, 'client' | 'cmd'>,
  prefix: string,
  log?: StoreLog,
): Promise<number> {
  const { client, cmd } = conn;
  const base = keyBase(prefix);
  let moved = 0;
  let kept = 0;
  let cursor = '0';
  do {
    const [next, keys] = await cmd('migrate.scan', () =>
      client.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000),
    );
    cursor = next;
    for (const old of keys) {
      const name = old.slice(prefix.length);
      if (!OLD_NAMES.some((n) => name.startsWith(n))) continue;
      const reply = await cmd('migrate.rename', () => client.eval(RENAME, 2, old, base + name));
      if (reply === 1) moved++;
      else if (reply === 0) kept++;
    }
  } while (cursor !== '0');
  if (moved > 0 || kept > 0) {
    log?.warn(
      { moved, kept, prefix },
      kept > 0
        ? 'redis store: moved keys to the hash-tagged layout; some old keys were kept because the new key exists'
        : 'redis store: moved keys to the hash-tagged layout',
    );
  }
  return moved;
}
