/**
 * # k8s.collect-evidence: keep what the quarantined pods are, before anyone deletes them
 *
 * For each pod of this incident's quarantine (label `<label_key>=<label_value>` and the annotation
 * `egress-responder.io/incident=<incident>`): one `<pod>.evidence.json` bundle (the pod's spec and
 * status, its owner chain, node, image digests, the NetworkPolicies and served CNI/mesh policies
 * selecting it, its Events) and one log file per container and per previous container instance
 * (`<pod>.<container>.log`, `<pod>.<container>.previous.log`: the last `tail_lines` lines). Each is
 * an artifact: stored with the incident, written to the evidence directory when configured, its
 * name, size and sha256 in the timeline, and uploaded to the thread by the Slack presenter.
 *
 * Read-only (not destructive): it runs in every mode, drills included. A part that cannot be read
 * is named in the bundle's `problems` and in the summary; the rest is still kept.
 *
 * ```yaml
 * - uses: k8s.collect-evidence
 *   with: { tail_lines: 500 }
 * ```
 */
import { z } from 'zod';
import { safeArtifactName } from '../../../domain/artifact.js';
import type { Pod } from '../../../k8s/types.js';
import { type ActionContext, defineAction, type StoredArtifact } from '../../define.js';
import { allowedNamespace, NO_CLUSTER_NOTE, plural, requireCluster } from '../../rotate/k8s-common.js';
import { ANNOTATION_INCIDENT } from '../contain/common.js';
import {
  containerLog,
  containersOf,
  eventsOf,
  imagesOf,
  meshPoliciesOn,
  ownerChain,
  policiesOn,
  type Read,
  withoutSecretValues,
} from './read.js';

const ID = 'k8s.collect-evidence';

export const CollectEvidenceParams = z.strictObject({
  label_key: z.string().min(1).max(316).default('quarantine'),
  label_value: z.string().max(63).default('true'),
  /** Lines kept from the end of each container's log (and of its previous instance's). */
  tail_lines: z.number().int().min(1).max(100_000).default(500),
  max_pods: z.number().int().min(1).max(100).default(20),
});

const ArtifactRecord = z.strictObject({
  name: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  path: z.string().optional(),
  not_written: z.string().optional(),
  truncated: z.string().optional(),
  /** False when the incident already had it: the first collection is kept (evidence is never overwritten). */
  created: z.boolean(),
});

export const CollectEvidencePlan = z.strictObject({
  namespace: z.string(),
  selector: z.string(),
  read: z.boolean(),
  pods: z.array(z.strictObject({ name: z.string(), uid: z.string() })),
});

export const CollectEvidenceOutcome = z.strictObject({
  namespace: z.string(),
  dry_run: z.boolean(),
  pods: z.array(
    z.strictObject({
      name: z.string(),
      uid: z.string(),
      artifacts: z.array(ArtifactRecord),
      problems: z.array(z.string()),
    }),
  ),
  /** Planned, but gone (or replaced) when collection reached them. */
  gone: z.array(z.string()),
});
type PodOutcome = z.output<typeof CollectEvidenceOutcome>['pods'][number];

async function incidentPods(
  ctx: ActionContext,
  namespace: string,
  selector: string,
  max: number,
): Promise<Pod[]> {
  const cluster = requireCluster(ctx, ID);
  const pods = await cluster.listPods(namespace, { labelSelector: selector, signal: ctx.signal });
  return pods
    .filter((p) => p.metadata.annotations?.[ANNOTATION_INCIDENT] === ctx.incident.id)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))
    .slice(0, max);
}

const encoder = new TextEncoder();

/** The end of a log that fits the cap, cut at a line, with a marker saying what was cut. */
export function fitLog(text: string, maxBytes: number): { bytes: Uint8Array; truncated?: string } {
  const whole = encoder.encode(text);
  if (whole.byteLength <= maxBytes) return { bytes: whole };
  const marker = (cut: number) =>
    `[egress-responder: log truncated: the first ${cut} of ${whole.byteLength} bytes were cut to stay under the ${maxBytes}-byte cap]\n`;
  const room = maxBytes - encoder.encode(marker(whole.byteLength)).byteLength;
  let start = whole.byteLength - Math.max(0, room);
  const nl = whole.indexOf(0x0a, start);
  start = nl >= 0 && nl < whole.byteLength - 1 ? nl + 1 : start;
  while (start < whole.byteLength && (whole[start]! & 0xc0) === 0x80) start++; // never half a character
  const head = encoder.encode(marker(start));
  const out = new Uint8Array(head.byteLength + whole.byteLength - start);
  out.set(head, 0);
  out.set(whole.subarray(start), head.byteLength);
  return { bytes: out, truncated: `first ${start} of ${whole.byteLength} bytes cut (cap ${maxBytes})` };
}

const record = (a: StoredArtifact) => ({
  name: a.name,
  size: a.size,
  sha256: a.sha256,
  created: a.created,
  ...(a.path ? { path: a.path } : {}),
  ...(a.notWritten ? { not_written: a.notWritten } : {}),
  ...(a.truncated ? { truncated: a.truncated } : {}),
});

async function collectPod(ctx: ActionContext, pod: Pod, tailLines: number): Promise<PodOutcome> {
  const port = ctx.artifacts!;
  const name = pod.metadata.name ?? '';
  const r: Read = { cluster: requireCluster(ctx, ID), signal: ctx.signal, problems: [] };
  const artifacts: StoredArtifact[] = [];
  const logs: unknown[] = [];
  for (const container of containersOf(pod)) {
    for (const previous of [false, true]) {
      const got = await containerLog(r, pod, container, previous, tailLines);
      const entry = { container, previous };
      if ('text' in got) {
        const fitted = fitLog(got.text, port.maxBytes);
        const stored = await port.put({
          name: safeArtifactName(name, container, ...(previous ? ['previous'] : []), 'log'),
          contentType: 'text/plain; charset=utf-8',
          bytes: fitted.bytes,
          ...(fitted.truncated ? { truncated: fitted.truncated } : {}),
        });
        artifacts.push(stored);
        logs.push({ ...entry, artifact: stored.name, sha256: stored.sha256, size: stored.size });
      } else if ('none' in got) {
        logs.push({ ...entry, none: got.none });
      } else {
        r.problems.push(`log of ${container}${previous ? ' (previous)' : ''}: ${got.error}`);
        logs.push({ ...entry, error: got.error });
      }
    }
  }
  const kept = withoutSecretValues(pod);
  const bundle = {
    incident: ctx.incident.id,
    collectedAt: new Date(ctx.clock.now()).toISOString(),
    collectedBy: ctx.actor,
    cluster: r.cluster.name,
    pod: kept.pod,
    /** Fields whose values were replaced by their sha256 (they may hold secrets). */
    redacted: kept.redacted,
    owners: await ownerChain(r, pod),
    node: {
      name: pod.spec?.nodeName ?? null,
      hostIP: pod.status?.hostIP ?? null,
      podIPs: pod.status?.podIPs ?? [],
    },
    images: imagesOf(pod),
    networkPolicies: await policiesOn(r, pod),
    meshPolicies: await meshPoliciesOn(r, pod),
    events: await eventsOf(r, pod),
    logs,
    problems: r.problems,
  };
  let text = JSON.stringify(bundle, null, 2);
  let truncated: string | undefined;
  if (encoder.encode(text).byteLength > port.maxBytes) {
    // Over the cap: the events and policies go first (they can be read again while the pod lives).
    truncated = 'events and policy objects left out to fit the cap';
    text = JSON.stringify(
      { ...bundle, events: [], networkPolicies: [], meshPolicies: {}, truncated },
      null,
      2,
    );
  }
  const stored = await port.put({
    name: safeArtifactName(name, 'evidence', 'json'),
    contentType: 'application/json',
    bytes: encoder.encode(text),
    ...(truncated ? { truncated } : {}),
  });
  artifacts.unshift(stored);
  return { name, uid: pod.metadata.uid ?? '', artifacts: artifacts.map(record), problems: r.problems };
}

export const collectEvidence = defineAction({
  id: ID,
  description:
    "Collect evidence from the incident's quarantined pods: a JSON bundle per pod (spec, status, owners, node, image digests, policies in force, events) and each container's last log lines (and its previous instance's), stored as artifacts with their sha256 and uploaded to the thread",
  params: CollectEvidenceParams,
  planData: CollectEvidencePlan,
  outcomeData: CollectEvidenceOutcome,
  rbac: [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
    { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    { apiGroups: [''], resources: ['events'], verbs: ['list'] },
    {
      apiGroups: ['apps'],
      resources: ['replicasets', 'deployments', 'statefulsets', 'daemonsets'],
      verbs: ['get'],
    },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list'] },
    { apiGroups: ['cilium.io'], resources: ['ciliumnetworkpolicies'], verbs: ['list'] },
    { apiGroups: ['security.istio.io'], resources: ['authorizationpolicies'], verbs: ['list'] },
  ],
  destructive: false,
  needsCluster: true,
  example: { tail_lines: 500 },

  async plan(ctx, params) {
    const namespace = allowedNamespace(ctx);
    const selector = `${params.label_key}=${params.label_value}`;
    if (!ctx.cluster) {
      return {
        summary: `collect evidence from the pods labelled ${selector} in ${namespace} (${NO_CLUSTER_NOTE})`,
        changes: false,
        data: { namespace, selector, read: false, pods: [] },
      };
    }
    const pods = (await incidentPods(ctx, namespace, selector, params.max_pods)).map((p) => ({
      name: p.metadata.name ?? '',
      uid: p.metadata.uid ?? '',
    }));
    return {
      summary: `collect evidence from ${plural(pods.length, "of this incident's quarantined pod")} in ${namespace}`,
      changes: false,
      data: { namespace, selector, read: true, pods },
    };
  },

  async apply(ctx, plan, params) {
    const { namespace, selector } = plan.data;
    const base = { namespace, dry_run: ctx.dryRun, pods: [], gone: [] };
    if (!ctx.artifacts) {
      return {
        status: 'skipped',
        summary: 'no evidence collected',
        reason: 'no artifact store given',
        data: base,
      };
    }
    // Read again at apply: a pod quarantined since the plan is evidence too, one gone is said.
    const now = await incidentPods(ctx, namespace, selector, params.max_pods);
    const gone = plan.data.pods
      .filter((p) => !now.some((q) => q.metadata.name === p.name && q.metadata.uid === p.uid))
      .map((p) => p.name);
    if (now.length === 0) {
      return {
        status: 'skipped',
        summary: 'no evidence collected',
        reason: `no pods labelled ${selector} and annotated with ${ctx.incident.id} in ${namespace}`,
        data: { ...base, gone },
      };
    }
    const pods: PodOutcome[] = [];
    for (const pod of now) pods.push(await collectPod(ctx, pod, params.tail_lines));
    const files = pods.flatMap((p) => p.artifacts);
    const bytes = files.reduce((n, a) => n + a.size, 0);
    const problems = pods.flatMap((p) => p.problems.map((x) => `${p.name}: ${x}`));
    const written = files.filter((a) => a.path).length;
    return {
      status: 'applied',
      summary: [
        `stored ${plural(files.length, 'artifact')} (${bytes} bytes) from ${plural(pods.length, 'pod')} in ${namespace}`,
        ...(written > 0 ? [`${written} written to the evidence directory`] : []),
        ...(gone.length > 0 ? [`gone since the plan: ${gone.join(', ')}`] : []),
        ...(problems.length > 0
          ? [
              `not read: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3})` : ''}`,
            ]
          : []),
      ].join('; '),
      data: { namespace, dry_run: ctx.dryRun, pods, gone },
    };
  },
});
