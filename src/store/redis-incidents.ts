import { CodedError } from '../domain/errors.js';
import { type Incident, isActive } from '../domain/incident.js';
import {
  checkEvent,
  checkExpectedVersion,
  checkIncident,
  checkNewIncident,
  checkOpening,
  conflict,
  corrupt,
  createdAtMs,
  DISTINCT_HOSTS_CAP,
  decodeEvent,
  decodeHosts,
  idTaken,
  notFound,
  ttl,
  withCounters,
} from './codec.js';
import { asStrings, type RedisConnection, unexpected } from './redis-connection.js';
import { type Arg, READ_WIDTH } from './redis-scripts.js';
import type { AlertOpening, IncidentStore } from './store.js';
import { ValidatedDocuments } from './validated-documents.js';

/** The Redis keys the incident scripts are given (see redis.ts for the layout). */
export interface IncidentKeys {
  incidentPrefix: string;
  incident(id: string): string;
  fingerprintPrefix: string;
  fingerprint(fp: string): string;
  all: string;
  active: string;
  streamPrefix: string;
  eventIdsPrefix: string;
  thread(channel: string, ts: string): string;
  dedupe(k: string): string;
  due: string;
  dueData: string;
  /** Set of an incident's distinct FQDN hosts (while it is active). */
  hostsPrefix: string;
  hosts(id: string): string;
}

export interface IncidentOptions {
  distinctHostsCap?: number;
  /** Replicas that must confirm a recorded alert before recordAlert answers (0: none). */
  waitReplicas?: number;
  waitTimeoutMs?: number;
}

/** An alert the master recorded but too few replicas confirmed: its sender must not take it as kept. */
function unconfirmed(acked: number, wanted: number, ms: number): CodedError {
  return new CodedError(
    'store_unavailable',
    'the incident store (Redis) did not confirm the alert on its replicas in time; try again shortly',
    {
      details: {
        op: 'incidents.recordAlert',
        reason: `WAIT: ${acked} of ${wanted} replicas within ${ms} ms`,
        sent: true,
      },
    },
  );
}

/** Incidents in Redis: documents with their alert counters beside them, all changes by script. */
export function redisIncidents(
  conn: Pick<RedisConnection, 'client' | 'cmd'>,
  key: IncidentKeys,
  opts: IncidentOptions = {},
): IncidentStore {
  const { client, cmd } = conn;
  const waitReplicas = opts.waitReplicas ?? 0;
  const waitMs = opts.waitTimeoutMs ?? 500;
  /**
   * The script, then WAIT on the same connection (a pipeline: on a Cluster both go to the node that
   * owns the `{er}` slot), so WAIT counts the replicas that hold this very write.
   */
  async function recordScript(args: Arg[]): Promise<unknown> {
    if (waitReplicas === 0) return client.erRecordAlert(...args);
    const pipe = client.pipeline() as unknown as {
      erRecordAlert(...a: Arg[]): typeof pipe;
      wait(n: number, ms: number): typeof pipe;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    const results =
      (await pipe
        .erRecordAlert(...args)
        .wait(waitReplicas, waitMs)
        .exec()) ?? [];
    const [script, wait] = results;
    if (!script || !wait) throw unexpected('recordAlert', results);
    if (script[0]) throw script[0];
    if (wait[0]) throw wait[0];
    if (typeof wait[1] !== 'number') throw unexpected('recordAlert (WAIT)', wait[1]);
    if (wait[1] < waitReplicas) throw unconfirmed(wait[1], waitReplicas, waitMs);
    return script[1];
  }
  const hostsCap = String(opts.distinctHostsCap ?? DISTINCT_HOSTS_CAP);
  const documents = new ValidatedDocuments();
  /** READ_WIDTH strings from READ_FN (document and counters) → the incident as stored. */
  const fromRead = (parts: string[], where: string): Incident => {
    const [data, count, firstSeen, lastSeen, resolvedAt, hosts] = parts;
    if (data === undefined) throw corrupt(where, new Error('no document'));
    const doc = documents.decode(data, where);
    if (!count || !firstSeen || !lastSeen) return doc; // written before counters existed: the document's own
    return withCounters(doc, {
      count: Number(count),
      firstSeen,
      lastSeen,
      ...(resolvedAt ? { resolvedAt } : {}),
      ...(hosts ? { hosts: decodeHosts(hosts, `${where} (hosts)`) } : {}),
    });
  };
  const optionalRead = (op: string, reply: unknown, where: string): Incident | undefined => {
    if (reply === null || reply === undefined) return undefined;
    return fromRead(asStrings(op, reply), where);
  };

  return {
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
          key.hosts(fresh.id),
          key.incidentPrefix,
          fresh.id,
          JSON.stringify(fresh),
          createdAtMs(fresh),
          fresh.fingerprint,
          String(fresh.count),
          fresh.firstSeen,
          fresh.lastSeen,
          fresh.hosts ? JSON.stringify(fresh.hosts) : '',
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
          key.hosts(stored.id),
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
      for (let i = 0; i + READ_WIDTH <= reply.length; i += READ_WIDTH)
        out.push(fromRead(reply.slice(i, i + READ_WIDTH), `${zset} (list)`));
      return out;
    },
    async recordAlert(record) {
      const claimMs = record.claim ? ttl('claim.ttlMs', record.claim.ttlMs) : 0;
      const where = key.fingerprint(record.fingerprint);
      const send = (newKey: string, args: Arg[]) =>
        cmd('incidents.recordAlert', () =>
          recordScript([
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
          ]),
        );
      let reply: unknown;
      let opening: AlertOpening | undefined;
      if (record.state === 'firing') {
        const fold = record.fold;
        const firing = (id: string, json: string, score: number, hostsJson: string, tail: Arg[]): Arg[] => [
          'firing',
          id,
          json,
          score,
          String(fold.count),
          fold.firstSeen,
          fold.lastSeen,
          JSON.stringify(checkEvent(fold.event)),
          '',
          key.hostsPrefix,
          fold.host ?? '',
          hostsCap,
          hostsJson,
          ...tail,
        ];
        // Most alerts fold into an incident already open: send the fold alone first, and the new
        // incident (its document, events and schedule: most of the bytes and the checks) only when
        // the script says none is active. One round trip per fold, two per opening.
        reply = await send(key.incident('-'), firing('', '', 0, '', [0, 0]));
        if (asStrings('recordAlert', reply)[0] === 'absent') {
          opening = checkOpening(record);
          const { incident: fresh, events, schedule: items } = opening;
          reply = await send(
            key.incident(fresh.id),
            firing(
              fresh.id,
              JSON.stringify(fresh),
              createdAtMs(fresh),
              fresh.hosts ? JSON.stringify(fresh.hosts) : '',
              [
                events.length,
                ...events.flatMap((e) => [e.id, JSON.stringify(e)]),
                items.length,
                ...items.flatMap((i) => [i.id, String(i.dueAt), JSON.stringify(i)]),
              ],
            ),
          );
        }
      } else {
        reply = await send(key.incident('-'), [
          'resolved',
          '',
          '',
          0,
          '0',
          '',
          '',
          JSON.stringify(checkEvent(record.resolved.event)),
          record.resolved.at,
          key.hostsPrefix,
          '',
          hostsCap,
          '',
          0,
          0,
        ]);
      }
      const [outcome, ...rest] = asStrings('recordAlert', reply);
      switch (outcome) {
        case 'duplicate':
          return { outcome, incident: rest.length > 0 ? fromRead(rest, where) : undefined };
        case 'ignored':
          return { outcome };
        case 'id_taken':
          throw idTaken(opening?.incident.id ?? '-');
        case 'opened': {
          if (!opening) break;
          return { outcome, incident: opening.incident, events: opening.events };
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
}
