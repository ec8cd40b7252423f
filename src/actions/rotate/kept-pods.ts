// Which quarantined pods a restart of the workload would delete: those its controller (the
// Deployment's ReplicaSets, the StatefulSet, the DaemonSet) still owns and still selects. A pod whose
// labels no longer match is released by the controller before it scales anything down, so it survives
// even while its ownerReference is still there; k8s.detach-quarantined makes every kept pod one of those.
import { z } from 'zod';
import { CodedError } from '../../domain/errors.js';
import type { KubeObject, Pod } from '../../k8s/types.js';
import type { ActionContext } from '../define.js';
import { type LabelSelector, selectorMatches } from '../k8s/netpol.js';
import { requireCluster } from './k8s-common.js';

const ID = 'k8s.rollout-restart';
export const DETACH_ACTION = 'k8s.detach-quarantined';

const selectorOf = (o: KubeObject) => (o.spec as { selector?: LabelSelector } | undefined)?.selector ?? {};
const controllerRef = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller === true);

/** Pods a dry-run detach of this incident would have released (in a drill nothing was relabelled). */
function detachedInDryRun(ctx: ActionContext): Set<string> {
  const Detached = z.object({ data: z.object({ detached: z.array(z.string()) }) });
  return new Set(
    ctx.incident.steps
      .flatMap((s) => s.actions)
      .filter((a) => a.uses === DETACH_ACTION && a.dryRun)
      .flatMap((a) => Detached.safeParse(a.outcome).data?.data.detached ?? []),
  );
}

/** `pod-a (ReplicaSet/web-5d8f)` for each quarantined pod a restart of `workload` would delete. */
export async function podsARestartWouldDelete(
  ctx: ActionContext,
  workload: KubeObject,
  quarantine: { key: string; value: string },
): Promise<string[]> {
  const cluster = requireCluster(ctx, ID);
  const namespace = workload.metadata.namespace ?? '';
  const pods = await cluster.listPods(namespace, {
    labelSelector: `${quarantine.key}=${quarantine.value}`,
    signal: ctx.signal,
  });
  const skip = ctx.dryRun ? detachedInDryRun(ctx) : new Set<string>();
  const replicaSets = new Map<string, Promise<KubeObject | undefined>>();
  const atRisk: string[] = [];
  for (const pod of pods.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    const name = pod.metadata.name ?? '';
    const ref = controllerRef(pod);
    if (!ref || skip.has(name)) continue;
    const owner = await ownerWithin(ctx, workload, pod, ref, replicaSets);
    if (owner && selectorMatches(selectorOf(owner), pod.metadata.labels ?? {}))
      atRisk.push(`${name} (${ref.kind}/${ref.name})`);
  }
  return atRisk;
}

/** The pod's controller when it is the workload or one of its ReplicaSets; undefined otherwise. */
async function ownerWithin(
  ctx: ActionContext,
  workload: KubeObject,
  pod: Pod,
  ref: NonNullable<ReturnType<typeof controllerRef>>,
  replicaSets: Map<string, Promise<KubeObject | undefined>>,
): Promise<KubeObject | undefined> {
  if (ref.uid === workload.metadata.uid) return workload;
  if (workload.kind !== 'Deployment' || ref.kind !== 'ReplicaSet') return undefined;
  if (!replicaSets.has(ref.uid)) {
    replicaSets.set(
      ref.uid,
      requireCluster(ctx, ID).get(
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          namespace: pod.metadata.namespace ?? '',
          name: ref.name,
        },
        { signal: ctx.signal },
      ),
    );
  }
  const rs = await replicaSets.get(ref.uid);
  if (!rs || rs.metadata.uid !== ref.uid) return undefined;
  return controllerRef(rs)?.uid === workload.metadata.uid ? rs : undefined;
}

/** The refusal: a restart now would delete the evidence. */
export function evidenceAtRisk(what: string, pods: string[]): CodedError {
  return new CodedError(
    'action_failed',
    `${ID}: not restarting ${what}: the quarantined pod(s) ${pods.join(', ')} are still owned and selected by its controller, so the restart would delete them and the evidence with them. Run ${DETACH_ACTION} first (in the containment step, after k8s.deny-egress), then restart`,
    { details: { quarantined_pods_at_risk: pods, run_first: DETACH_ACTION } },
  );
}
