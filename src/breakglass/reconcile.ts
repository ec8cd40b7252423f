import { CodedError } from '../domain/errors.js';
import {
  endedGrantStatuses,
  GRANT_ANNOTATIONS,
  GRANT_LABEL,
  type Grant,
  liveGrantStatuses,
} from '../domain/grant.js';
import type { KubeObject } from '../k8s/types.js';
import type { GrantEvents } from './events.js';
import { errorText, refText } from './kube.js';
import { type Lifecycle, removalPending } from './lifecycle.js';
import { CNP_API, NETPOL_API, ROLEBINDING_API } from './render.js';
import { type BreakglassDeps, RECONCILE_LOCK, RECONCILE_LOCK_KEY } from './settings.js';

// The expiry you can rely on does not rest on one timer. Every replica runs this at start-up and every
// breakglass.reconcileEvery, under one lock so exactly one acts at a time:
//  (a) from the store: every live grant, and every ended one whose removal is not recorded, is settled
//      (a request past its window expires, an apply a dead replica left half-done is finished or
//      expired, a grant past its expiry expires, an ended grant's objects are removed);
//  (b) from the cluster: every object labelled with a grant id is checked against its record. An ended
//      grant's object is deleted again (it reappeared); an object with no record is deleted once the
//      expiry it carries has passed (a lost store cannot keep it alive), and left until then.

export interface ReconcileReport {
  /** Another replica held the reconcile lock: this one did nothing. */
  skipped: boolean;
  /** Grants whose record changed in this pass. */
  settled: string[];
  /** Objects deleted from the cluster by the cluster pass (reappeared, or orphans past their expiry). */
  deleted: string[];
  /** Orphans (no record) whose expiry is still ahead: removed by a later pass. */
  left: string[];
  errors: string[];
}

const KINDS = [NETPOL_API, ROLEBINDING_API] as const;
const GLOB = /[*?[\]]/;

export async function reconcile(
  d: BreakglassDeps,
  life: Lifecycle,
  events: GrantEvents,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { skipped: false, settled: [], deleted: [], left: [], errors: [] };
  try {
    await d.store.locks.withLock(RECONCILE_LOCK_KEY, RECONCILE_LOCK, async () => {
      // One read of every record: the live index plus the ended grants still owing a removal (the
      // audit keeps every grant, so this is a scan of grants, which are few).
      const all = await d.store.grants.list();
      await fromStore(all, life, report);
      if (d.cluster) await fromCluster(d, all, life, events, report);
    });
  } catch (err) {
    if (err instanceof CodedError && err.code === 'lock_busy') return { ...report, skipped: true };
    throw err;
  }
  if (report.errors.length > 0)
    d.log.warn({ errors: report.errors }, 'break-glass reconcile: some work failed; retried next pass');
  return report;
}

async function fromStore(all: readonly Grant[], life: Lifecycle, report: ReconcileReport): Promise<void> {
  for (const g of all.filter((x) => liveGrantStatuses.includes(x.status) || removalPending(x))) {
    try {
      const changed = await life.locked(g.id, async () => {
        const fresh = await life.load(g.id);
        return (await life.settle(fresh)).version !== fresh.version;
      });
      if (changed) report.settled.push(g.id);
    } catch (err) {
      report.errors.push(`${g.id}: ${errorText(err)}`);
    }
  }
}

/** Cluster-wide by label; where the bot may not list cluster-wide, namespace by namespace. */
async function labelled(
  d: BreakglassDeps,
  all: readonly Grant[],
  report: ReconcileReport,
): Promise<KubeObject[]> {
  const cluster = d.cluster!;
  const kinds: { apiVersion: string; kind: string }[] = [...KINDS];
  if (await cluster.serves('cilium.io', 'v2', 'ciliumnetworkpolicies')) kinds.push(CNP_API);
  const namespaces = [
    ...new Set([...all.map((g) => g.spec.namespace), ...d.namespaces.allow.filter((n) => !GLOB.test(n))]),
  ].sort();
  const out: KubeObject[] = [];
  for (const k of kinds) {
    try {
      out.push(...(await cluster.list(k.apiVersion, k.kind, undefined, { labelSelector: GRANT_LABEL })));
      continue;
    } catch (err) {
      if (!(err instanceof CodedError && err.code === 'k8s_forbidden')) {
        report.errors.push(`listing ${k.kind}: ${errorText(err)}`);
        continue;
      }
    }
    for (const ns of namespaces) {
      try {
        out.push(...(await cluster.list(k.apiVersion, k.kind, ns, { labelSelector: GRANT_LABEL })));
      } catch (err) {
        report.errors.push(`listing ${k.kind} in ${ns}: ${errorText(err)}`);
      }
    }
  }
  return out;
}

async function fromCluster(
  d: BreakglassDeps,
  all: readonly Grant[],
  life: Lifecycle,
  events: GrantEvents,
  report: ReconcileReport,
): Promise<void> {
  const now = d.clock.now();
  for (const obj of await labelled(d, all, report)) {
    const m = obj.metadata;
    const id = m.labels?.[GRANT_LABEL] ?? '';
    const ref = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      namespace: m.namespace ?? '',
      name: m.name ?? '',
    };
    const what = refText(ref);
    try {
      await life.locked(id, async () => {
        const g = await d.store.grants.get(id);
        // Live: the store pass owns it. Ended but still owing its removal: the store pass just tried.
        if (g && (!endedGrantStatuses.includes(g.status) || removalPending(g))) return;
        if (g) {
          await d.cluster!.delete(ref, { dryRun: false });
          report.deleted.push(what);
          await events.record(
            g,
            'grant.removed',
            `reappeared:${m.uid ?? m.resourceVersion ?? 'x'}:${ref.kind}`,
            `${what} reappeared in the cluster after the grant ended (${g.status}): deleted again`,
          );
          return;
        }
        const expiry = Date.parse(m.annotations?.[GRANT_ANNOTATIONS.expiresAt] ?? '');
        if (Number.isFinite(expiry) && expiry > now) {
          report.left.push(what);
          d.log.info(
            { object: what, grant: id, expiresAt: new Date(expiry).toISOString() },
            'break-glass object with no record: left until its expiry',
          );
          return;
        }
        // No record, and its expiry passed (or it carries none we can trust): it must not stay.
        await d.cluster!.delete(ref, { dryRun: false });
        report.deleted.push(what);
        const incidentId = m.annotations?.[GRANT_ANNOTATIONS.incident];
        if (incidentId && (await events.incident(incidentId))) {
          await events.record(
            { id, incidentId, drill: false },
            'grant.removed',
            `orphan:${m.uid ?? 'x'}:${ref.kind}`,
            `${what} had no record in the store and its expiry ${Number.isFinite(expiry) ? new Date(expiry).toISOString() : '(none readable)'} passed: deleted`,
          );
        }
      });
    } catch (err) {
      report.errors.push(`${what}: ${errorText(err)}`);
    }
  }
}
