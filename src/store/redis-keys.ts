// The Redis store's key layout, in one place (docs/redis.md explains it).
//
// Every key is `<prefix>{er}:<name>`. The `{er}` hash tag puts all of one deployment's keys in one
// Redis Cluster slot, because the store's atomic operations cross what would otherwise be many
// slots: recording one alert checks the dedupe claim, reads the fingerprint index and the active
// set, writes the incident, its timeline and the schedule, in one script. Splitting those keys by
// incident would break that promise (an alert recorded by one operation or not at all), so the
// store trades write scaling across shards for atomicity: on a Cluster it gets the Cluster's
// failover and shared operation, and its data lives on one shard (with that shard's replicas).
//
// A prefix that carries its own `{…}` tag still lands every key in one slot: Redis hashes the first
// `{…}` of a key, and the part up to the first `}` is the same for every key of the store.

/** The hash tag every key of the store carries. */
export const HASH_TAG = '{er}';

/** What comes before each key name: `<prefix>{er}:`. */
export function keyBase(prefix: string): string {
  return `${prefix}${HASH_TAG}:`;
}

/** The keys of the incident, timeline, dedupe, lock and schedule parts of the store. */
export function storeKeys(prefix: string) {
  const base = keyBase(prefix);
  return {
    incidentPrefix: `${base}incident:`,
    incident: (id: string) => `${base}incident:${id}`,
    fingerprintPrefix: `${base}fingerprint:`,
    fingerprint: (fp: string) => `${base}fingerprint:${fp}`,
    all: `${base}incidents:all`,
    active: `${base}incidents:active`,
    stream: (incidentId: string) => `${base}timeline:${incidentId}`,
    streamPrefix: `${base}timeline:`,
    eventIds: (incidentId: string) => `${base}timeline-ids:${incidentId}`,
    eventIdsPrefix: `${base}timeline-ids:`,
    thread: (channel: string, ts: string) => `${base}thread:${channel}:${ts}`,
    dedupe: (k: string) => `${base}dedupe:${k}`,
    lock: (k: string) => `${base}lock:${k}`,
    due: `${base}schedule:due`,
    dueData: `${base}schedule:data`,
    hostsPrefix: `${base}hosts:`,
    hosts: (incidentId: string) => `${base}hosts:${incidentId}`,
  };
}

export type StoreKeys = ReturnType<typeof storeKeys>;
