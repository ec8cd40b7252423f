import { z } from 'zod';
import { asCodedError } from '../../../domain/errors.js';
import { fixFor } from '../../../domain/fixes.js';
import type { ActionContext } from '../../define.js';
import {
  ANNOTATION_INCIDENT,
  ANNOTATION_QUARANTINED_AT,
  errorCode,
  errorMessage,
  requireCluster,
} from './common.js';
import { retryOnConflict } from './conflict.js';
import { type PodRead, readPod } from './kube-read.js';

// One pod of a quarantine: label it (apply) or put its label back (revert), each write preceded by a
// read that checks the pod is still the one the responder confirmed (for apply, the list of the
// selection made just before its writes, or shared with the plan's a moment before: see
// actions/shared-reads.ts; or a read of that pod). The label write carries that read's
// resourceVersion, so a pod changed since is a 409, answered by reading again and trying again
// (conflict.ts), and each pod's result is known and recorded.

export const PodResult = z.strictObject({
  name: z.string(),
  /** The pod of the plan (revert leaves a replacement of the same name alone). */
  uid: z.string().optional(),
  previous: z.string().nullable(),
  previousAnnotations: z.record(z.string(), z.string().nullable()),
  /**
   * labelled now; already ours when planned; before-restart: labelled by an apply that was
   * interrupted; gone or replaced; changed: no longer as previewed, so left alone; conflict-gave-up:
   * every write answered 409; failed: another error.
   */
  result: z.enum(['labelled', 'already', 'before-restart', 'gone', 'changed', 'conflict-gave-up', 'failed']),
  /** Writes tried, when more than one was needed (each 409 re-read the pod and tried again). */
  attempts: z.number().int().min(1).optional(),
  error: z.string().optional(),
  /** What would make the write succeed (domain/fixes.ts), when the error has a known fix. */
  fix: z.string().optional(),
});
export type PodResult = z.output<typeof PodResult>;

/** Results that leave the pod without our label: verification counts them as not contained. */
export const NOT_LABELLED: ReadonlySet<PodResult['result']> = new Set([
  'gone',
  'changed',
  'conflict-gave-up',
  'failed',
]);

/** A pod of the confirmed plan. */
export interface PlannedPod {
  name: string;
  uid: string;
  previous: string | null;
  already: boolean;
}

export interface LabelRequest {
  namespace: string;
  labelKey: string;
  labelValue: string;
  /** When it was applied (the quarantined-at annotation). */
  at: string;
  /** Whether the pod is still in the selection people confirmed; the sentence when it is not. */
  stillSelected(pod: PodRead): string | undefined;
}

export const isOurs = (pod: PodRead, incidentId: string) =>
  pod.metadata.annotations?.[ANNOTATION_INCIDENT] === incidentId;

const labelOf = (labels: Record<string, string> | undefined, key: string) =>
  labels && Object.hasOwn(labels, key) ? labels[key]! : null;
const shown = (v: string | null) => (v === null ? 'absent' : JSON.stringify(v));

type Done = Omit<PodResult, 'name' | 'uid' | 'previous' | 'attempts'>;

/**
 * What this pod needs now, from a fresh read: nothing (gone, changed, already ours), or the label.
 * `retried`: a write of this apply already answered 409, so a pod found labelled by us was labelled now.
 */
function judge(
  ctx: ActionContext,
  req: LabelRequest,
  entry: PlannedPod,
  pod: PodRead | undefined,
  retried: boolean,
) {
  if (!pod || (entry.uid && pod.metadata.uid && pod.metadata.uid !== entry.uid))
    return { done: { previousAnnotations: {}, result: 'gone', error: 'not the pod of the plan any more' } };
  const annotations = pod.metadata.annotations ?? {};
  const mine = isOurs(pod, ctx.incident.id);
  // A resumed apply finds our own annotations: the values before us are the ones the plan saw.
  const previousAnnotations = {
    [ANNOTATION_INCIDENT]: mine ? null : (annotations[ANNOTATION_INCIDENT] ?? null),
    [ANNOTATION_QUARANTINED_AT]: mine ? null : (annotations[ANNOTATION_QUARANTINED_AT] ?? null),
  };
  const current = labelOf(pod.metadata.labels, req.labelKey);
  if (mine && current === req.labelValue) {
    const result = retried ? 'labelled' : entry.already || ctx.attempt <= 1 ? 'already' : 'before-restart';
    return { done: { previousAnnotations, result } };
  }
  // Changed in a way that matters: labelling it would act on a pod nobody confirmed, or a release
  // would put back a value that is no longer the one before us.
  const moved = req.stillSelected(pod);
  const relabelled =
    current !== entry.previous
      ? `label ${req.labelKey} is ${shown(current)} now, ${shown(entry.previous)} in the preview`
      : undefined;
  const why = moved ?? relabelled;
  if (why) return { done: { previousAnnotations, result: 'changed', error: `${why}: left alone` } };
  return { patch: previousAnnotations };
}

/**
 * Labels and annotates one pod of the plan; never throws (the result says what happened). `listed`: the
 * pod as the apply's own list of the selection found it just now (one read for all the pods instead of
 * one each); absent from that list (gone, or moved out of the selection), or after a 409, it is read.
 */
export async function labelPod(
  ctx: ActionContext,
  req: LabelRequest,
  entry: PlannedPod,
  listed?: PodRead,
): Promise<PodResult> {
  const cluster = requireCluster(ctx);
  const tried = await retryOnConflict(async (attempt): Promise<Done> => {
    const raw =
      attempt === 1 && listed
        ? undefined
        : await cluster.getPod(req.namespace, entry.name, { signal: ctx.signal });
    const pod = attempt === 1 && listed ? listed : raw === undefined ? undefined : readPod(raw);
    const next = judge(ctx, req, entry, pod, attempt > 1);
    if ('done' in next) return next.done as Done;
    await cluster.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace: req.namespace, name: entry.name },
      {
        metadata: {
          labels: { [req.labelKey]: req.labelValue },
          annotations: { [ANNOTATION_INCIDENT]: ctx.incident.id, [ANNOTATION_QUARANTINED_AT]: req.at },
          // Written only onto the pod as judged: changed since that read, it is a 409 that reads again.
          ...(pod?.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
        },
      },
      'merge',
      { dryRun: ctx.dryRun, signal: ctx.signal },
    );
    return { previousAnnotations: next.patch, result: 'labelled' };
  });
  const base = {
    name: entry.name,
    ...(entry.uid ? { uid: entry.uid } : {}),
    previous: entry.previous,
    ...(tried.attempts > 1 ? { attempts: tried.attempts } : {}),
  };
  if (tried.ok) return { ...base, ...tried.value };
  const coded = asCodedError(tried.error);
  const fix = fixFor(coded.code, coded.details);
  return {
    ...base,
    ...(fix ? { fix } : {}),
    previousAnnotations: {},
    result: tried.conflict ? 'conflict-gave-up' : 'failed',
    error: tried.conflict
      ? `${tried.attempts} writes answered 409 Conflict (the pod kept changing): ${errorMessage(tried.error)}`
      : errorMessage(tried.error),
  };
}

/**
 * Puts back the label and annotations from before us; `restored`, `gone` (or replaced by another pod
 * of the same name, left alone) — a conflict or any other error is thrown after the bounded tries.
 */
export async function restorePod(
  ctx: ActionContext,
  req: { namespace: string; labelKey: string },
  pod: PodResult,
): Promise<'restored' | 'gone'> {
  const cluster = requireCluster(ctx);
  const tried = await retryOnConflict(async () => {
    const raw = await cluster.getPod(req.namespace, pod.name, { signal: ctx.signal });
    const now = raw === undefined ? undefined : readPod(raw);
    if (!now || (pod.uid && now.metadata.uid && now.metadata.uid !== pod.uid)) return 'gone' as const;
    await cluster.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace: req.namespace, name: pod.name },
      { metadata: { labels: { [req.labelKey]: pod.previous }, annotations: pod.previousAnnotations } },
      'merge',
      { dryRun: ctx.dryRun, signal: ctx.signal },
    );
    return 'restored' as const;
  });
  if (tried.ok) return tried.value;
  if (errorCode(tried.error) === 'k8s_not_found') return 'gone';
  throw tried.error;
}
