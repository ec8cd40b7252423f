// What evidence collection reads of one pod, each part on its own: a part that cannot be read
// (forbidden, gone, not served) is recorded as a problem in words and the rest is still collected,
// since partial evidence beats none. Reads only.
import { createHash } from 'node:crypto';
import type { Json } from '../../../domain/json.js';
import type { Cluster } from '../../../k8s/cluster.js';
import type { KubeObject, Pod } from '../../../k8s/types.js';
import { selectorMatches } from '../netpol.js';

type OwnerRef = NonNullable<KubeObject['metadata']['ownerReferences']>[number];
type Sel = Parameters<typeof selectorMatches>[0];
const rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const json = (v: unknown): Json => JSON.parse(JSON.stringify(v ?? null)) as Json;

export interface Read {
  cluster: Cluster;
  signal: AbortSignal;
  problems: string[];
}

async function attempt<T>(r: Read, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    r.problems.push(`${what}: ${message(err)}`);
    return undefined;
  }
}

/** Pod → ReplicaSet → Deployment …: every owner through ownerReferences (the controller first), up to 5 levels. */
export async function ownerChain(r: Read, pod: Pod): Promise<Json[]> {
  const chain: Json[] = [];
  const namespace = pod.metadata.namespace;
  let current: KubeObject | undefined = pod;
  for (let depth = 0; current && depth < 5; depth++) {
    const refs: OwnerRef[] = current.metadata.ownerReferences ?? [];
    const ref: OwnerRef | undefined = refs.find((o) => o.controller) ?? refs[0];
    if (!ref) break;
    const owner: KubeObject | undefined = await attempt(r, `owner ${ref.kind}/${ref.name}`, () =>
      r.cluster.get(
        { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, ...(namespace ? { namespace } : {}) },
        { signal: r.signal },
      ),
    );
    const found: boolean = owner !== undefined && owner.metadata.uid === ref.uid;
    chain.push(
      json({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        name: ref.name,
        uid: ref.uid,
        controller: ref.controller === true,
        found,
        ...(owner && !found
          ? { note: 'an object of that name exists with another uid (the owner was replaced)' }
          : {}),
        ...(found && owner
          ? { labels: owner.metadata.labels ?? {}, generation: owner.metadata.generation ?? null }
          : {}),
      }),
    );
    current = found ? owner : undefined;
  }
  return chain;
}

/** Each container's image and the digest the node actually ran (status.containerStatuses[].imageID). */
export function imagesOf(pod: Pod): Json[] {
  const status = rec(pod.status);
  const statuses = [
    ...((status.initContainerStatuses as unknown[]) ?? []),
    ...((status.containerStatuses as unknown[]) ?? []),
    ...((status.ephemeralContainerStatuses as unknown[]) ?? []),
  ].map(rec);
  return statuses.map((s) =>
    json({
      container: s.name,
      image: s.image,
      imageID: s.imageID ?? null,
      restartCount: s.restartCount ?? 0,
      state: s.state ?? null,
      lastState: s.lastState ?? null,
    }),
  );
}

/** The NetworkPolicies selecting the pod (same namespace, podSelector matches its labels), whole. */
export async function policiesOn(r: Read, pod: Pod): Promise<Json> {
  const ns = pod.metadata.namespace ?? '';
  const labels = pod.metadata.labels ?? {};
  const all = await attempt(r, 'NetworkPolicies', () =>
    r.cluster.listNetworkPolicies(ns, { signal: r.signal }),
  );
  const selecting = (all ?? []).filter((p) => selectorMatches(p.spec?.podSelector as Sel, labels));
  return json(selecting);
}

const MESH = [
  {
    label: 'CiliumNetworkPolicies',
    group: 'cilium.io',
    version: 'v2',
    resource: 'ciliumnetworkpolicies',
    kind: 'CiliumNetworkPolicy',
    selector: (o: KubeObject) => rec(o.spec).endpointSelector as Sel,
  },
  {
    label: 'Istio AuthorizationPolicies',
    group: 'security.istio.io',
    version: 'v1',
    resource: 'authorizationpolicies',
    kind: 'AuthorizationPolicy',
    // No selector: the policy applies to every workload of its namespace.
    selector: (o: KubeObject) => rec(o.spec).selector as Sel,
  },
] as const;

/**
 * CNI and mesh policies in force on the pod, where their APIs are served: those of its namespace
 * whose selector matches its labels. Policies of the mesh's root namespace and cluster-wide CNI
 * policies are not looked at (said in `notes`).
 */
export async function meshPoliciesOn(r: Read, pod: Pod): Promise<Json> {
  const ns = pod.metadata.namespace ?? '';
  const labels = pod.metadata.labels ?? {};
  const out: Record<string, Json> = {};
  for (const m of MESH) {
    const served = await attempt(r, `discovery of ${m.label}`, () =>
      r.cluster.serves(m.group, m.version, m.resource, { signal: r.signal }),
    );
    if (!served) {
      out[m.kind] = served === false ? 'not served' : 'unknown';
      continue;
    }
    const items = await attempt(r, m.label, () =>
      r.cluster.list(`${m.group}/${m.version}`, m.kind, ns, { signal: r.signal }),
    );
    out[m.kind] = json((items ?? []).filter((o) => selectorMatches(m.selector(o), labels)));
  }
  out.notes = 'namespace policies only: mesh root-namespace and cluster-wide policies are not included';
  return out;
}

/** The Events whose involvedObject is this pod (by uid too: a pod of the same name later is another). */
export async function eventsOf(r: Read, pod: Pod): Promise<Json[]> {
  const m = pod.metadata;
  const selector = [
    'involvedObject.kind=Pod',
    `involvedObject.name=${m.name}`,
    ...(m.uid ? [`involvedObject.uid=${m.uid}`] : []),
  ].join(',');
  const events = await attempt(r, 'Events', () =>
    r.cluster.list('v1', 'Event', m.namespace, { fieldSelector: selector, signal: r.signal }),
  );
  const when = (e: KubeObject) =>
    String(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '');
  return (events ?? []).sort((a, b) => when(a).localeCompare(when(b))).map(json);
}

/** Containers whose logs exist: init, regular and ephemeral, by name. */
export function containersOf(pod: Pod): string[] {
  const spec = rec(pod.spec);
  const names = (list: unknown) =>
    (Array.isArray(list) ? list : [])
      .map((c) => rec(c).name)
      .filter((n): n is string => typeof n === 'string');
  return [...names(spec.initContainers), ...names(spec.containers), ...names(spec.ephemeralContainers)];
}

export type LogRead = { text: string } | { none: string } | { error: string };

/** A container's last lines, or its previous instance's; "no previous instance" is normal, not an error. */
export async function containerLog(
  r: Read,
  pod: Pod,
  container: string,
  previous: boolean,
  tailLines: number,
): Promise<LogRead> {
  try {
    const text = await r.cluster.podLogs(pod.metadata.namespace ?? '', pod.metadata.name ?? '', {
      container,
      previous,
      tailLines,
      signal: r.signal,
    });
    return { text };
  } catch (err) {
    const why = message(err);
    if (previous && /previous terminated container .* not found/i.test(why)) {
      return { none: 'no previous instance (the container has not restarted)' };
    }
    return { error: why };
  }
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The pod as the bundle keeps it: every literal env value (often a password or a key put straight
 * into the spec) and the last-applied annotation (which repeats them) replaced by their sha256. The
 * bundle is uploaded to Slack and written to disk; a digest still lets forensics check a suspected
 * value without anyone reading it there. References (`valueFrom`) stay: they name, not hold.
 */
export function withoutSecretValues(pod: Pod): { pod: Json; redacted: string[] } {
  const copy = rec(json(pod));
  const redacted: string[] = [];
  const spec = rec(copy.spec);
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of Array.isArray(spec[list]) ? (spec[list] as unknown[]) : []) {
      const container = rec(c);
      for (const e of Array.isArray(container.env) ? (container.env as unknown[]) : []) {
        const env = rec(e);
        if (typeof env.value !== 'string') continue;
        env.value = `[redacted: sha256 ${digest(env.value)}]`;
        redacted.push(`${String(container.name)}.env.${String(env.name)}`);
      }
    }
  }
  const annotations = rec(rec(copy.metadata).annotations);
  if (typeof annotations[LAST_APPLIED] === 'string') {
    annotations[LAST_APPLIED] = `[redacted: sha256 ${digest(annotations[LAST_APPLIED] as string)}]`;
    redacted.push(`metadata.annotations.${LAST_APPLIED}`);
  }
  return { pod: copy as Json, redacted };
}
