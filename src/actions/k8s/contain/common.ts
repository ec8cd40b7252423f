import type { LoadedContract } from '../../../domain/contract.js';
import { CodedError } from '../../../domain/errors.js';
import type { Cluster } from '../../../k8s/cluster.js';
import type { KubeObject, Pod } from '../../../k8s/types.js';
import type { ActionContext, Json } from '../../define.js';
import type { NetworkPolicy, PodInfo } from '../netpol.js';

// Shared by the containment actions: where the source workload lives, which contract describes it,
// who approved, and the small plumbing (bounded concurrency, conversions to the pure analysis types).

export const FIELD_MANAGER = 'egress-responder';
export const ANNOTATION_INCIDENT = 'egress-responder.io/incident';
export const ANNOTATION_QUARANTINED_AT = 'egress-responder.io/quarantined-at';
export const ANNOTATION_CONTRACT = 'egress-responder.io/contract';
export const ANNOTATION_SPEC_SHA256 = 'egress-responder.io/spec-sha256';
export const ANNOTATION_APPROVED_BY = 'egress-responder.io/approved-by';
export const ANNOTATION_APPLIED_BY = 'egress-responder.io/applied-by';
export const DEFAULT_SELECTOR = 'app={service}';
export const DEFAULT_QUARANTINE_KEY = 'quarantine';
export const DEFAULT_QUARANTINE_VALUE = 'true';

/** What containment does not cover: said in the thread next to the verification. */
export const containmentGaps: string[] = [
  'Established connections may survive the NetworkPolicy on some CNIs: policies are enforced on new connections, so a long-lived connection opened before containment can keep flowing until it closes or the pod is deleted.',
  'A pod kept for forensics still holds a valid service-account token until the pod is deleted: rotate the credentials (see the rotation step) rather than relying on containment.',
];

export function sourceOf(ctx: ActionContext): { service: string; namespace: string; identity?: string } {
  const s = ctx.incident.alert.source;
  return { service: s.service, namespace: s.namespace, ...(s.identity ? { identity: s.identity } : {}) };
}

/** `app={service}` → `app=payments-api`; `{namespace}` too. */
export function renderSelector(template: string, ctx: ActionContext): string {
  const s = sourceOf(ctx);
  return template.replaceAll('{service}', s.service).replaceAll('{namespace}', s.namespace);
}

/** The keys of a label selector's equality terms (`app=x,tier==web` → app, tier): the workload labels. */
export function equalityKeys(selector: string): string[] {
  return selector
    .split(',')
    .map((t) => t.trim())
    .filter((t) => /^[^!=\s]+\s*==?\s*[^=\s]*$/.test(t))
    .map((t) => t.split('=')[0]!.trim());
}

export function contractFor(ctx: ActionContext): LoadedContract | undefined {
  const s = sourceOf(ctx);
  return ctx.contracts.find(
    (c) =>
      c.contract.service === s.service &&
      (c.contract.namespace === undefined || c.contract.namespace === s.namespace),
  );
}

/** The source's service account: the contract's `k8s_service_account`, else the identity's `…/sa/<name>`. */
export function serviceAccountOf(ctx: ActionContext): string {
  const fromContract = contractFor(ctx)?.contract.identity?.k8s_service_account;
  if (fromContract) return fromContract;
  const identity = sourceOf(ctx).identity;
  const m = identity ? /\/sa\/([^/]+)$/.exec(identity) : null;
  if (m?.[1]) return m[1];
  throw new CodedError(
    'action_failed',
    `No service account known for ${sourceOf(ctx).service}: no contract names k8s_service_account and the alert identity (${identity ?? 'none'}) has no /sa/<name> suffix.`,
  );
}

/** Who approved the step: the confirming responder, else the approvers, else `n/a`. */
export function approvedBy(ctx: ActionContext): string {
  const step = ctx.incident.steps.find((s) => s.id === ctx.stepId);
  if (step?.confirmedBy) return step.confirmedBy.by;
  const approvers = (step?.approvals ?? []).filter((a) => a.decision === 'approve').map((a) => a.by);
  return approvers.length > 0 ? approvers.join(', ') : 'n/a';
}

export function requireCluster(ctx: ActionContext): Cluster {
  if (!ctx.cluster) throw new CodedError('cluster_unavailable', 'No Kubernetes cluster is configured.');
  return ctx.cluster;
}

export function podInfo(pod: Pod): PodInfo {
  return {
    name: pod.metadata.name ?? '',
    namespace: pod.metadata.namespace ?? '',
    labels: { ...(pod.metadata.labels ?? {}) },
  };
}

/** A NetworkPolicy as the pure analysis reads it (the API's JSON, with name and namespace required). */
export function asNetpol(obj: KubeObject, namespace: string): NetworkPolicy {
  return {
    ...(obj as unknown as NetworkPolicy),
    metadata: {
      ...(obj.metadata as NetworkPolicy['metadata']),
      name: obj.metadata.name ?? '',
      namespace: obj.metadata.namespace ?? namespace,
    },
  };
}

export function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function errorCode(err: unknown): string | undefined {
  return err instanceof CodedError ? err.code : undefined;
}

/** Map with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
