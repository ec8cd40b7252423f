import { z } from 'zod';
import { CodedError } from '../../../domain/errors.js';
import type { Cluster } from '../../../k8s/cluster.js';
import { type OwnerReference, type PodRead, readMeta } from './kube-read.js';

// Blast radius of a quarantine: which workloads the selected pods belong to. A selector built from
// an alert can match more than the workload that misbehaved (two Deployments sharing `app=`, a whole
// namespace), or nothing; the plan names the owners and refuses such a selection unless the
// responder widens it on purpose (`max_pods`, `allow_multiple_owners`).

/** One workload of the selection; kind and name null for pods with no controller. */
export const Owner = z.strictObject({
  kind: z.string().nullable(),
  name: z.string().nullable(),
  pods: z.array(z.string()),
});
export type Owner = z.output<typeof Owner>;

/** `Deployment/payments-api`, or `no controller` for bare pods. */
export const ownerLabel = (o: Pick<Owner, 'kind' | 'name'>): string =>
  o.kind === null ? 'no controller' : `${o.kind}/${o.name}`;

const podCount = (n: number) => `${n} pod${n === 1 ? '' : 's'}`;

/** `Deployment/a (2 pods), Deployment/b (1 pod)` */
export const describeOwners = (owners: readonly Owner[]): string =>
  owners.map((o) => `${ownerLabel(o)} (${podCount(o.pods.length)})`).join(', ');

/** The pod's controller: the reference marked controller, else its only owner (as owner-workload.ts). */
function controllerOf(refs: readonly OwnerReference[] | undefined): OwnerReference | undefined {
  return refs?.find((r) => r.controller) ?? (refs?.length === 1 ? refs[0] : undefined);
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

/** Controllers whose own controller is the workload people name: ReplicaSet → Deployment, Job → CronJob. */
const INTERMEDIATE: Record<string, string> = { 'apps/ReplicaSet': 'ReplicaSet', 'batch/Job': 'Job' };

/**
 * The workloads of `pods`, in order of first appearance. One read per ReplicaSet or Job (not per
 * pod); one that is gone, or has no controller, is itself the workload.
 */
export async function ownersOf(
  cluster: Pick<Cluster, 'get'>,
  namespace: string,
  pods: readonly PodRead[],
  signal?: AbortSignal,
): Promise<Owner[]> {
  const parents = new Map<string, Promise<OwnerReference | undefined>>();
  const parentOf = (ref: OwnerReference) => {
    const key = `${ref.apiVersion}/${ref.kind}/${ref.name}`;
    if (!parents.has(key)) {
      const read = cluster
        .get({ apiVersion: ref.apiVersion, kind: ref.kind, namespace, name: ref.name }, { signal })
        .then((obj) => (obj ? controllerOf(readMeta(obj, ref.kind).metadata.ownerReferences) : undefined));
      parents.set(key, read);
    }
    return parents.get(key)!;
  };
  const owners = new Map<string, Owner>();
  for (const pod of pods) {
    let ref = controllerOf(pod.metadata.ownerReferences);
    if (ref && Object.hasOwn(INTERMEDIATE, `${groupOf(ref.apiVersion)}/${ref.kind}`))
      ref = (await parentOf(ref)) ?? ref;
    const owner = { kind: ref?.kind ?? null, name: ref?.name ?? null };
    const key = ownerLabel(owner);
    const entry = owners.get(key) ?? { ...owner, pods: [] };
    entry.pods.push(pod.metadata.name ?? '');
    owners.set(key, entry);
  }
  return [...owners.values()];
}

export interface Selection {
  /** `app=payments-api`, `serviceAccountName=payments-api` */
  describe: string;
  namespace: string;
  owners: Owner[];
  maxPods: number;
  allowMultipleOwners: boolean;
}

const total = (s: Selection) => s.owners.reduce((n, o) => n + o.pods.length, 0);
const NARROW = 'narrow the selector (the step\'s `with: { selector: "app={service},tier=…" }`)';

/** Each way a selection is refused at plan time, and the sentence that says what was selected and how to widen. */
const LIMITS: Array<{ refuses(s: Selection): boolean; error(s: Selection): CodedError }> = [
  {
    refuses: (s) => total(s) === 0,
    error: (s) =>
      new CodedError(
        'k8s_not_found',
        `no pods matched ${s.describe} in ${s.namespace}: nothing to quarantine. Check the alert's source, or choose the pods with the step's \`with: { selector: … }\` or \`by: service-account\``,
        {
          details: {
            fix: `point the step at the pods: \`with: { selector: … }\` or \`by: service-account\``,
          },
        },
      ),
  },
  {
    refuses: (s) => s.owners.length > 1 && !s.allowMultipleOwners,
    error: (s) =>
      new CodedError(
        'request_refused',
        `refusing to quarantine ${s.describe} in ${s.namespace}: it selects pods of ${s.owners.length} workloads: ${describeOwners(s.owners)}. To quarantine one, ${NARROW}; to quarantine them all, widen with \`allow_multiple_owners: true\``,
      ),
  },
  {
    refuses: (s) => total(s) > s.maxPods,
    error: (s) =>
      new CodedError(
        'request_refused',
        `refusing to quarantine ${s.describe} in ${s.namespace}: it selects ${total(s)} pods (${describeOwners(s.owners)}), more than max_pods ${s.maxPods}. To quarantine them all, widen with \`max_pods: ${total(s)}\`; else ${NARROW}`,
      ),
  },
];

/** Throws the first limit the selection breaks. */
export function assertBlastRadius(s: Selection): void {
  const broken = LIMITS.find((l) => l.refuses(s));
  if (broken) throw broken.error(s);
}

/** Workloads with pods now that the confirmed plan did not show, in words. */
export function ownerDrift(planned: readonly Owner[], now: readonly Owner[]): string[] {
  const known = new Set(planned.map(ownerLabel));
  return now
    .filter((o) => !known.has(ownerLabel(o)))
    .map(
      (o) =>
        `pods of ${ownerLabel(o)} selected since the preview (${o.pods.join(', ')}): another workload in the blast radius`,
    );
}
