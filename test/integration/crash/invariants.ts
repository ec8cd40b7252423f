import type { Incident } from '../../../src/domain/incident.js';
import type { TimelineEvent } from '../../../src/domain/timeline.js';
import type { ScheduledItem } from '../../../src/store/store.js';
import { ALLOW, ALLOW_SPEC } from '../../builders/additive-trap.js';
import type { JsonObject } from '../../fakes/kube-api/index.js';
import type { KubeWrite } from './fakes.js';
import { type Ledger, type Plan, RECORDED } from './scenario.js';

// What must hold after a run, however the first process died: read from the sender's ledger, the
// store, and the fake cluster's log of writes. Each check returns a line per violation.

export interface Observed {
  plan: Plan;
  ledger: Ledger;
  incidents: Incident[];
  timelines: Map<string, TimelineEvent[]>;
  schedule: ScheduledItem[];
  writes: KubeWrite[];
  cluster: {
    namespace: string;
    pods: { name: string; object: JsonObject | undefined }[];
    deny: JsonObject | undefined;
    allow: JsonObject | undefined;
  }[];
}

export const DENY = 'quarantine-deny-egress';
const INCIDENT_ANNOTATION = 'egress-responder.io/incident';

/**
 * The timeline of one contained incident, as a run with no crash writes it (kind, step, action):
 * each exactly once. Folds are counted against the ledger; `engine.resumed` (an apply was
 * interrupted) and the Slack thread's `slack.posted` (at most one) may come on top.
 */
export const ONCE: readonly (readonly [string, string?, string?])[] = [
  ['alert.received'],
  ['incident.opened'],
  ['step.started', 'contain'],
  ['action.planned', 'contain', 'k8s.quarantine'],
  ['action.applied', 'contain', 'k8s.quarantine'],
  ['action.planned', 'contain', 'k8s.deny-egress'],
  ['action.applied', 'contain', 'k8s.deny-egress'],
  ['action.verified', 'contain', 'k8s.deny-egress'],
  // The scenario's pods have no controller: nothing to detach, said once.
  ['action.planned', 'contain', 'k8s.detach-quarantined'],
  ['action.skipped', 'contain', 'k8s.detach-quarantined'],
  ['action.planned', 'contain', 'k8s.l7-deny'],
  ['action.skipped', 'contain', 'k8s.l7-deny'],
  ['action.applied', 'contain', 'note.add'],
  ['step.completed', 'contain'],
  ['status.changed', 'contain'],
  ['step.started', 'triage'],
  ['action.applied', 'triage', 'triage.source-identity'],
  ['action.applied', 'triage', 'triage.destination'],
  ['action.applied', 'triage', 'triage.contract-verdict'],
  ['action.applied', 'triage', 'triage.contract-attestation'],
  ['step.waiting', 'triage'],
];
const signature = (e: TimelineEvent) => {
  const d = e.details as Record<string, unknown>;
  return [
    e.kind,
    typeof d.step === 'string' ? d.step : undefined,
    typeof d.action === 'string' ? d.action : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(' ');
};
/** On top of ONCE, per signature: a note where an apply was interrupted; the thread and step messages. */
const MAY_ADD: Record<string, number> = { 'engine.resumed': Number.POSITIVE_INFINITY, 'slack.posted': 1 };

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const labelsOf = (o: JsonObject | undefined) =>
  ((o?.metadata as JsonObject | undefined)?.labels ?? {}) as Record<string, string>;
const annotationsOf = (o: JsonObject | undefined) =>
  ((o?.metadata as JsonObject | undefined)?.annotations ?? {}) as Record<string, string>;

/** Every check; an empty list means the run kept every promise. */
export function checkRun(o: Observed): string[] {
  const out: string[] = [];
  const byAnomaly = checkLedger(o, out);
  checkStore(o, byAnomaly, out);
  checkCluster(o, byAnomaly, out);
  return out;
}

/** The sender's view: every alert acknowledged in the end, each anomaly in exactly one incident. */
function checkLedger(o: Observed, out: string[]): Map<number, string> {
  for (const e of o.ledger.entries) {
    if (e.http !== undefined && e.http !== 202 && e.http !== 503)
      out.push(`request ${e.request.n}${e.resend ? ' (resent)' : ''} answered HTTP ${e.http}`);
  }
  for (const a of o.ledger.unacknowledged())
    out.push(`alert ${a.requestId} was never acknowledged as recorded, even after resending`);
  const byAnomaly = new Map<number, string>();
  const inPlay = o.ledger.inPlay();
  for (const anomaly of o.plan.anomalies.filter((a) => inPlay.has(a.index))) {
    const answers = o.ledger.recorded().filter((a) => a.anomaly === anomaly.index);
    const ids = new Set(answers.map((a) => a.incident));
    if (ids.size !== 1 || ids.has(null)) {
      out.push(
        `anomaly ${anomaly.index} (${anomaly.namespace}) went to ${ids.size} incident(s): ${[...ids].join(', ')}`,
      );
    }
    const id = [...ids].find((x) => x !== null);
    if (id) byAnomaly.set(anomaly.index, id);
  }
  return byAnomaly;
}

function checkStore(o: Observed, byAnomaly: Map<number, string>, out: string[]): void {
  const stored = new Set(o.incidents.map((i) => i.id));
  const acked = new Set(byAnomaly.values());
  for (const id of stored)
    if (!acked.has(id)) out.push(`incident ${id} is in the store but no alert was acknowledged into it`);
  for (const [anomaly, id] of byAnomaly) {
    const inc = o.incidents.find((i) => i.id === id);
    if (!inc) {
      out.push(`incident ${id} (anomaly ${anomaly}) was acknowledged but is not in the store`);
      continue;
    }
    const where = `incident ${id} (${o.plan.anomalies[anomaly]!.namespace})`;
    // Counts: one per request id recorded (a retry is a duplicate, not a second alert).
    const recordedIds = new Set(
      o.ledger
        .recorded()
        .filter((a) => a.anomaly === anomaly && (RECORDED as readonly string[]).includes(a.status))
        .map((a) => a.requestId),
    );
    if (inc.count !== recordedIds.size)
      out.push(
        `${where}: count ${inc.count}, but ${recordedIds.size} distinct alerts were acknowledged into it`,
      );

    // Timeline: nothing lost, nothing twice.
    const events = o.timelines.get(id) ?? [];
    const ids = events.map((e) => e.id);
    const dupIds = ids.filter((x, i) => ids.indexOf(x) !== i);
    if (dupIds.length > 0)
      out.push(`${where}: timeline event ids recorded twice: ${[...new Set(dupIds)].join(', ')}`);
    const folds = events.filter((e) => e.kind === 'alert.folded');
    if (folds.length !== recordedIds.size - 1)
      out.push(`${where}: ${folds.length} fold events for ${recordedIds.size - 1} acknowledged repeats`);
    const received = events.find((e) => e.kind === 'alert.received');
    const firstRequest = isObj(received?.details.alert) ? received.details.alert.requestId : undefined;
    const told = [firstRequest, ...folds.map((e) => e.details.requestId)].map(String);
    const toldSet = new Set(told);
    if (told.length !== toldSet.size)
      out.push(`${where}: a request id is in the timeline twice: ${told.join(', ')}`);
    const missing = [...recordedIds].filter((r) => !toldSet.has(r));
    const extra = [...toldSet].filter((r) => !recordedIds.has(r));
    if (missing.length > 0)
      out.push(`${where}: acknowledged alerts missing from the timeline: ${missing.join(', ')}`);
    if (extra.length > 0)
      out.push(`${where}: timeline has alerts nobody was told were recorded: ${extra.join(', ')}`);
    const counts = new Map<string, number>();
    for (const e of events)
      if (e.kind !== 'alert.folded') counts.set(signature(e), (counts.get(signature(e)) ?? 0) + 1);
    for (const sig of ONCE) {
      const key = sig.join(' ');
      const n = counts.get(key) ?? 0;
      if (n !== 1) out.push(`${where}: ${n === 0 ? 'lost' : `${n} ×`} "${key}"`);
      counts.delete(key);
    }
    for (const [key, n] of counts) {
      const allowed = MAY_ADD[key.split(' ')[0]!] ?? 0;
      if (n > allowed) out.push(`${where}: unexpected ${n} × "${key}"`);
    }
    const status = events.find((e) => e.kind === 'status.changed');
    if (status && (status.details.from !== 'open' || status.details.to !== 'contained'))
      out.push(
        `${where}: status changed ${String(status.details.from)} → ${String(status.details.to)}, not open → contained`,
      );

    // State: what a run with no crash reaches.
    if (inc.status !== 'contained') out.push(`${where}: status ${inc.status}, not contained`);
    const steps = Object.fromEntries(inc.steps.map((s) => [s.id, s.status]));
    if (steps.contain !== 'completed' || steps.triage !== 'awaiting_input')
      out.push(`${where}: steps ${JSON.stringify(steps)}; expected contain completed, triage awaiting_input`);
    const contain = inc.steps.find((s) => s.id === 'contain');
    const action = (key: string) => contain?.actions.find((a) => a.key === key);
    const quarantine = action('k8s.quarantine');
    const deny = action('k8s.deny-egress');
    if (quarantine?.status !== 'applied')
      out.push(`${where}: k8s.quarantine is ${quarantine?.status}, not applied`);
    if (deny?.status !== 'verified') out.push(`${where}: k8s.deny-egress is ${deny?.status}, not verified`);
    if (
      deny &&
      !String((deny.verification as { line?: string } | undefined)?.line).startsWith(
        'Verification: contained',
      )
    )
      out.push(
        `${where}: verification says ${JSON.stringify((deny.verification as { line?: string })?.line)}`,
      );
    // What release would undo must be what was there before us, as with no crash.
    const q = (quarantine?.outcome as { data?: { pods?: unknown[] } } | undefined)?.data;
    for (const p of (q?.pods ?? []) as {
      name: string;
      previous: unknown;
      previousAnnotations: Record<string, unknown>;
      result: string;
    }[]) {
      if (p.previous !== null || Object.values(p.previousAnnotations ?? {}).some((v) => v !== null))
        out.push(
          `${where}: quarantine recorded pod ${p.name}'s state before us as ${JSON.stringify({ label: p.previous, annotations: p.previousAnnotations })}, but it had none`,
        );
      if (!['labelled', 'before-restart'].includes(p.result))
        out.push(`${where}: quarantine result for ${p.name} is ${p.result}`);
    }
    const d = (
      deny?.outcome as
        | { data?: { created?: boolean; remedied?: { name: string; original: JsonObject; ok: boolean }[] } }
        | undefined
    )?.data;
    if (d && d.created !== true)
      out.push(
        `${where}: deny-egress recorded created=${String(d.created)} for the policy it created (release would leave it in place)`,
      );
    const remedied = d?.remedied?.find((x) => x.name === ALLOW);
    if (d && !remedied?.ok)
      out.push(`${where}: the allow-policy is not recorded as isolated: ${JSON.stringify(d.remedied)}`);
    if (remedied && JSON.stringify(remedied.original.spec) !== JSON.stringify(ALLOW_SPEC))
      out.push(
        `${where}: the allow-policy's recorded original is not the one seeded (release would restore ${JSON.stringify((remedied.original.spec as JsonObject | undefined)?.podSelector)})`,
      );
  }
  const queued = o.schedule.filter((s) => s.id.startsWith('advance:'));
  if (queued.length > 0) out.push(`runs still queued after settling: ${queued.map((q) => q.id).join(', ')}`);
}

/** The cluster: each change made exactly once, and the end state of a contained incident. */
function checkCluster(o: Observed, byAnomaly: Map<number, string>, out: string[]): void {
  const applied = o.writes.filter((w) => !w.dryRun && w.changed);
  const namespaces = new Set(o.plan.anomalies.map((a) => a.namespace));
  for (const w of applied) {
    if (!w.namespace || !namespaces.has(w.namespace)) out.push(`unexpected change: ${w.method} ${w.path}`);
  }
  const inPlay = o.ledger.inPlay();
  for (const a of o.plan.anomalies) {
    if (!inPlay.has(a.index)) {
      // No alert of it was ever sent: its namespace stays as seeded.
      const touched = applied.filter((w) => w.namespace === a.namespace);
      if (touched.length > 0)
        out.push(
          `cluster ${a.namespace}: changed though no alert for it was sent: ${touched.map((w) => `${w.method} ${w.path}`).join(', ')}`,
        );
      continue;
    }
    const id = byAnomaly.get(a.index);
    const c = o.cluster.find((x) => x.namespace === a.namespace)!;
    const where = `cluster ${a.namespace}`;
    const podPath = (name: string) => `/api/v1/namespaces/${a.namespace}/pods/${name}`;
    for (const { name, object } of c.pods) {
      const labels = applied.filter(
        (w) =>
          w.method === 'PATCH' &&
          w.path === podPath(name) &&
          isObj(w.body) &&
          isObj(w.body.metadata) &&
          isObj(w.body.metadata.labels) &&
          w.body.metadata.labels.quarantine === 'true',
      );
      if (labels.length !== 1)
        out.push(
          `${where}: pod ${name} was labelled by ${labels.length} changing PATCH(es) (seq ${labels.map((w) => w.seq).join(', ')})`,
        );
      const others = applied.filter((w) => w.path === podPath(name) && !labels.includes(w));
      if (others.length > 0)
        out.push(
          `${where}: pod ${name} changed by other writes: ${others.map((w) => `${w.method} #${w.seq}`).join(', ')}`,
        );
      if (labelsOf(object).quarantine !== 'true')
        out.push(`${where}: pod ${name} is not labelled quarantine=true`);
      if (id && annotationsOf(object)[INCIDENT_ANNOTATION] !== id)
        out.push(
          `${where}: pod ${name} is annotated for ${annotationsOf(object)[INCIDENT_ANNOTATION]}, not ${id}`,
        );
    }
    const denyPath = `/apis/networking.k8s.io/v1/namespaces/${a.namespace}/networkpolicies/${DENY}`;
    const denyWrites = o.writes.filter(
      (w) => !w.dryRun && (w.path === denyPath || (w.name === DENY && w.namespace === a.namespace)),
    );
    const created = denyWrites.filter((w) => w.status === 201);
    const denyChanged = denyWrites.filter((w) => w.changed);
    if (created.length !== 1) out.push(`${where}: ${DENY} was created ${created.length} times`);
    if (denyChanged.length !== 1)
      out.push(
        `${where}: ${DENY} was changed by ${denyChanged.length} writes (seq ${denyChanged.map((w) => w.seq).join(', ')})`,
      );
    const denyUid = (c.deny?.metadata as JsonObject | undefined)?.uid;
    if (!c.deny) out.push(`${where}: ${DENY} is not there`);
    else if (created[0] && denyUid !== created[0].uid)
      out.push(`${where}: ${DENY} has uid ${String(denyUid)}, not ${created[0].uid} it was created with`);
    const allowPath = `/apis/networking.k8s.io/v1/namespaces/${a.namespace}/networkpolicies/${ALLOW}`;
    const allowChanged = applied.filter((w) => w.path === allowPath);
    if (allowChanged.length !== 1)
      out.push(
        `${where}: the allow-policy was changed by ${allowChanged.length} writes (seq ${allowChanged.map((w) => w.seq).join(', ')})`,
      );
    const selector = ((c.allow?.spec as JsonObject | undefined)?.podSelector ?? {}) as JsonObject;
    const exprs = (selector.matchExpressions ?? []) as JsonObject[];
    if (!exprs.some((e) => e.key === 'quarantine' && e.operator === 'DoesNotExist'))
      out.push(`${where}: the allow-policy is not isolated: podSelector ${JSON.stringify(selector)}`);
  }
}
