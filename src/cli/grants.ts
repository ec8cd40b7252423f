import { userInfo } from 'node:os';
import { Breakglass } from '../breakglass/service.js';
import { type Config, loadConfig } from '../config/load.js';
import { allowAll } from '../domain/access.js';
import type { Grant } from '../domain/grant.js';
import { Journal } from '../journal/journal.js';
import { createClusterIfConfigured } from '../main.js';
import { systemClock } from '../observability/clock.js';
import { silentLogger } from '../observability/logger.js';
import type { Store } from '../store/store.js';
import type { Io } from './io.js';
import { withSharedStore } from './shared-store.js';

// `egress-responder grants list|revoke` against the Redis that `serve` uses (REDIS_URL or the config's redis: block) and the
// cluster in KUBECONFIG: what is granted right now, and a way to end a grant from a terminal when
// Slack is not at hand. The CLI acts as `cli:<os user>` with every role, as the other commands do.

export type GrantsArgs =
  | { action: 'list'; all: boolean; format: 'text' | 'json'; config?: string | undefined }
  | { action: 'revoke'; id: string; reason: string; config?: string | undefined };

const withStore = <T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> =>
  withSharedStore(config, 'Grants', fn);

/** `2h 05m left`, `expired 3m ago`, `request open 25m` … for the ENDS column. */
function timeLeft(g: Grant, now: number): string {
  const fmt = (ms: number) => {
    const m = Math.round(Math.abs(ms) / 60_000);
    return m >= 60 ? `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m` : `${m}m`;
  };
  if (g.status === 'pending') return `request expires in ${fmt(Date.parse(g.requestExpiresAt) - now)}`;
  if (g.expiresAt && (g.status === 'active' || g.status === 'approved')) {
    const left = Date.parse(g.expiresAt) - now;
    return left > 0 ? `${fmt(left)} left (${g.expiresAt})` : `expiry passed ${fmt(left)} ago`;
  }
  return g.ended ? `ended ${g.ended.at}` : '-';
}

const what = (g: Grant): string =>
  g.spec.kind === 'access-elevation'
    ? `${g.spec.clusterRole} → ${g.spec.subjects.map((s) => s.name).join(',')}`
    : `${g.spec.source.kind === 'quarantined' ? 'quarantined pods' : 'selected pods'} → ${
        g.spec.destination.kind === 'cidr'
          ? g.spec.destination.cidr
          : g.spec.destination.kind === 'fqdn'
            ? g.spec.destination.fqdn
            : `pods in ${g.spec.destination.namespace}`
      }`;

function table(grants: readonly Grant[], now: number): string[] {
  const rows = [
    ['ID', 'STATUS', 'KIND', 'INCIDENT', 'NAMESPACE', 'WHAT', 'REQUESTER', 'ENDS'],
    ...grants.map((g) => [
      g.id,
      g.drill ? `${g.status} (drill)` : g.status,
      g.spec.kind,
      g.incidentId,
      g.spec.namespace,
      what(g),
      g.requester,
      timeLeft(g, now),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '),
  );
}

export async function grantsCommand(args: GrantsArgs, io: Io): Promise<number> {
  const config = await loadConfig(io.env, args.config);
  if (args.action === 'list') {
    return withStore(config, async (store) => {
      const grants = await store.grants.list(args.all ? {} : { live: true });
      if (args.format === 'json') io.out(JSON.stringify(grants, null, 2));
      else if (grants.length === 0)
        io.out(
          args.all ? 'no break-glass grants' : 'no live break-glass grants (--all lists ended ones too)',
        );
      else for (const line of table(grants, systemClock.now())) io.out(line);
      return 0;
    });
  }
  const log = silentLogger();
  const cluster = await createClusterIfConfigured(config, log);
  return withStore(config, async (store) => {
    const breakglass = new Breakglass({
      store,
      journal: new Journal({ store, clock: systemClock, log }),
      clock: systemClock,
      log,
      ...(cluster ? { cluster } : {}),
      config: config.breakglass,
      namespaces: config.namespaces,
      access: allowAll,
    });
    const g = await breakglass.revoke(args.id, `cli:${userInfo().username}`, args.reason);
    if (g.removal?.removedAt || !g.approvedAt) {
      io.out(
        `revoked ${g.id}${g.approvedAt ? `: removed ${g.objects.map((o) => `${o.kind} ${o.namespace}/${o.name}`).join(', ')}` : ' (it was never applied)'}`,
      );
      return 0;
    }
    io.err(
      `revoked ${g.id}, but its objects are not removed yet: ${g.removal?.lastError ?? 'unknown error'}. The bot retries until they are gone${cluster ? '' : ' (this process has no cluster: KUBECONFIG is unset)'}.`,
    );
    return 1;
  });
}
