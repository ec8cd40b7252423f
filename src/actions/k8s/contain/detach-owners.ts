// What k8s.detach-quarantined needs to know about a quarantined pod's controller: which one it is,
// which of the pod's labels its selector relies on (removing those makes the controller release the
// pod), and what the controller does next. Also the egress check after detaching: a removed label can
// make a NotIn / DoesNotExist allow-policy start selecting the pod.
import { z } from 'zod';
import type { KubeObject, LabelSelector, ObjectRef, Pod } from '../../../k8s/types.js';
import type { ActionContext } from '../../define.js';
import { analyzeEgress, type EgressLeak, type NetworkPolicy, type PodInfo } from '../netpol.js';
import { requireCluster } from './common.js';

export const ANNOTATION_DETACHED_LABELS = 'egress-responder.io/detached-labels';
export const ANNOTATION_DETACHED_FROM = 'egress-responder.io/detached-from';

/** The controllers whose selectors we know how to read; anything else is left alone and said so. */
const KNOWN: Record<string, string> = {
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
};

export const ControllerJson = z.strictObject({ kind: z.string(), name: z.string(), uid: z.string() });
export type ControllerJson = z.output<typeof ControllerJson>;

export interface PodController {
  ref: ControllerJson;
  /** Undefined when the kind is not one we know, or the owner is gone. */
  object?: KubeObject;
}

export function controllerOf(pod: Pod): ControllerJson | undefined {
  const ref = pod.metadata.ownerReferences?.find((o) => o.controller === true);
  return ref ? { kind: ref.kind, name: ref.name, uid: ref.uid } : undefined;
}

export const describeController = (c: ControllerJson) => `${c.kind}/${c.name}`;

/** The pod's controller and, for the kinds we know, the object itself (read once per owner). */
export async function readController(
  ctx: ActionContext,
  pod: Pod,
  cache: Map<string, Promise<KubeObject | undefined>>,
): Promise<PodController | undefined> {
  const ref = controllerOf(pod);
  if (!ref) return undefined;
  const apiVersion = KNOWN[ref.kind];
  if (!apiVersion) return { ref };
  const objRef: ObjectRef = {
    apiVersion,
    kind: ref.kind,
    namespace: pod.metadata.namespace ?? '',
    name: ref.name,
  };
  const key = `${ref.kind}/${ref.name}/${ref.uid}`;
  if (!cache.has(key)) cache.set(key, requireCluster(ctx).get(objRef, { signal: ctx.signal }));
  const object = await cache.get(key);
  return object && object.metadata.uid === ref.uid ? { ref, object } : { ref };
}

function selectorOf(obj: KubeObject): LabelSelector {
  const spec = obj.spec as { selector?: LabelSelector } | undefined;
  return spec?.selector ?? {};
}

/**
 * The pod's labels its controller's selector relies on: every matchLabels key, and every In / Exists
 * expression's key (dropping any of them makes the selector stop matching). NotIn and DoesNotExist
 * keys are not among them: removing a label never makes such a requirement fail.
 */
export function selectedLabels(obj: KubeObject, labels: Record<string, string>): Record<string, string> {
  const sel = selectorOf(obj);
  const keys = [
    ...Object.keys(sel.matchLabels ?? {}),
    ...(sel.matchExpressions ?? [])
      .filter((r) => r.operator === 'In' || r.operator === 'Exists')
      .map((r) => r.key),
  ];
  return Object.fromEntries(
    [...new Set(keys)].filter((k) => Object.hasOwn(labels, k)).map((k) => [k, labels[k]!]),
  );
}

/** What the controller does once it has released the pod, in words for the preview. */
export function afterRelease(kind: string, podName: string): string {
  switch (kind) {
    case 'ReplicaSet':
      return 'creates a replacement pod';
    case 'DaemonSet':
      return 'creates a replacement pod on the same node';
    case 'Job':
      return 'may start another pod to finish the Job';
    case 'StatefulSet':
      return `cannot create its replacement: the name ${podName} stays taken by the kept pod, so the StatefulSet runs one replica short until the pod is deleted`;
    default:
      return 'does whatever it does with a released pod';
  }
}

/** Whether the controller makes a replacement at once (the preview counts them). */
export const replaces = (kind: string) => kind === 'ReplicaSet' || kind === 'DaemonSet';

/** The JSON Pointer of a label or annotation key (`/` and `~` escaped, RFC 6901). */
export function pointer(field: 'labels' | 'annotations', key: string): string {
  return `/metadata/${field}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** One allow-policy that selects a pod only because labels were removed, and what it lets out. */
export type NewlySelecting = { pod: string; policy: string; removed: string[]; leaks: EgressLeak[] };

/**
 * The policies that let a detached pod out and did not select it before: `before` is the pod with the
 * removed labels put back. The rest of its egress (deny policy, other allow-policies) is unchanged by
 * the detach and is judged by k8s.deny-egress's own verification.
 */
export function newlySelecting(
  pods: readonly { after: PodInfo; removed: Record<string, string> }[],
  policies: readonly NetworkPolicy[],
): NewlySelecting[] {
  const out: NewlySelecting[] = [];
  for (const { after, removed } of pods) {
    const before: PodInfo = { ...after, labels: { ...after.labels, ...removed } };
    const was = new Set(analyzeEgress([before], policies).isolatedBy);
    const now = analyzeEgress([after], policies);
    for (const policy of now.isolatedBy.filter((p) => !was.has(p))) {
      const leaks = now.leaks.filter((l) => l.policy === policy);
      if (leaks.length > 0) out.push({ pod: after.name, policy, removed: Object.keys(removed), leaks });
    }
  }
  return out;
}

/** `np-x selects pod-a, pod-b since their labels app were removed, and allows TCP/443 to …`. */
export function describeNewlySelecting(found: readonly NewlySelecting[]): string[] {
  const byPolicy = new Map<string, NewlySelecting[]>();
  for (const f of found) byPolicy.set(f.policy, [...(byPolicy.get(f.policy) ?? []), f]);
  return [...byPolicy].map(([policy, items]) => {
    const keys = [...new Set(items.flatMap((i) => i.removed))].join(', ');
    const rules = items[0]!.leaks.map((l) => `${l.ports.join(', ')} to ${l.peers.join(', ')}`).join('; ');
    return `NetworkPolicy ${policy} selects ${items.map((i) => i.pod).join(', ')} since label(s) ${keys} were removed, and allows ${rules}`;
  });
}
