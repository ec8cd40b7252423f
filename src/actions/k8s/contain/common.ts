import { z } from 'zod';
import type { LoadedContract } from '../../../domain/contract.js';
import { CodedError } from '../../../domain/errors.js';
import type { Cluster } from '../../../k8s/cluster.js';
import type { KubeObject, Pod } from '../../../k8s/types.js';
import type { ActionContext } from '../../define.js';
import type { NetworkPolicy, PodInfo } from '../netpol.js';
import { type PodRead, readNetworkPolicy, readPod } from './kube-read.js';

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

// Label selectors are built from structured labels, never by pasting alert text into a selector
// string: the playbook's template says which label keys select the workload (`app={service}`), the
// alert only fills in values, and every value must be a valid label value.

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const PLACEHOLDER = /\{(service|namespace)\}/g;

/** The `key=value` terms of a selector template, or why it is not one (for the params schema). */
export function parseSelectorTemplate(template: string): Array<[string, string]> | string {
  const terms = template.split(',').map((t) => t.trim());
  const out: Array<[string, string]> = [];
  for (const term of terms) {
    const m = /^([^=!\s]+)\s*==?\s*([^=\s]*)$/.exec(term);
    if (!m) return `"${term}" is not a key=value term (only equality terms select a workload)`;
    const [, key = '', value = ''] = m;
    if (!LABEL_KEY.test(key)) return `"${key}" is not a Kubernetes label key`;
    if (!LABEL_VALUE.test(value.replace(PLACEHOLDER, 'x')))
      return `"${value}" is not a label value or a {service}/{namespace} template`;
    out.push([key, value]);
  }
  return out;
}

/** A selector template as a params field: checked when the playbook loads. */
export const SelectorTemplate = z
  .string()
  .min(1)
  .refine((t) => typeof parseSelectorTemplate(t) !== 'string', {
    error: (issue) =>
      `expected key=value terms such as app={service}: ${String(parseSelectorTemplate(String(issue.input)))}`,
  });

/** `app={service}` → `{ app: 'payments-api' }`; refuses a value that is not a label value. */
export function selectorLabels(template: string, ctx: ActionContext): Record<string, string> {
  const terms = parseSelectorTemplate(template);
  if (typeof terms === 'string')
    throw new CodedError('action_params_invalid', `selector ${template}: ${terms}`);
  const s = sourceOf(ctx);
  const labels = new Map<string, string>();
  for (const [key, value] of terms) {
    const filled = value.replace(PLACEHOLDER, (_, name: string) =>
      name === 'service' ? s.service : s.namespace,
    );
    if (!LABEL_VALUE.test(filled)) {
      throw new CodedError(
        'action_failed',
        `cannot select the source pods: ${key}=${JSON.stringify(filled)} is not a valid label value (from the alert's source ${s.service}.${s.namespace})`,
      );
    }
    labels.set(key, filled);
  }
  return Object.fromEntries(labels);
}

/** Structured labels → the API's selector string (keys and values already valid, so nothing to escape). */
export function formatSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
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

/**
 * An object of a confirmed plan as it is sent: the same spec people saw, with the audit annotations
 * of who approved and who applied it set now (they are not known when the plan is made).
 */
export function stampedForApply<T extends { metadata: { annotations?: Record<string, string> } }>(
  obj: T,
  ctx: ActionContext,
): T {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      annotations: {
        ...obj.metadata.annotations,
        [ANNOTATION_APPROVED_BY]: approvedBy(ctx),
        [ANNOTATION_APPLIED_BY]: ctx.actor,
      },
    },
  };
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

/** The analysis's view of a pod (nulls read as absent: see kube-read.ts). */
export function podInfo(pod: Pod | PodRead): PodInfo {
  const read = readPod(pod);
  return {
    name: read.metadata.name ?? '',
    namespace: read.metadata.namespace ?? '',
    labels: { ...(read.metadata.labels ?? {}) },
  };
}

/** A NetworkPolicy as the pure analysis reads it (the API's JSON, with name and namespace required). */
export function asNetpol(obj: KubeObject, namespace: string): NetworkPolicy {
  return readNetworkPolicy(obj, namespace);
}

export { toJson } from '../../../domain/json.js';

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
