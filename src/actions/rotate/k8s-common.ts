// Shared helpers for the Kubernetes rotation actions (k8s.rollout-restart, k8s.revoke-token-secrets,
// certmanager.renew, k8s.job, k8s.delete-quarantined-pods).
import { z } from 'zod';
import { CodedError } from '../../domain/errors.js';
import { assertNamespaceAllowed } from '../../domain/namespace-policy.js';
import type { Cluster } from '../../k8s/cluster.js';
import type { KubeObject, ObjectRef } from '../../k8s/types.js';
import type { ActionContext } from '../define.js';

/** The alert's source workload: where every rotation action acts. */
export function sourceOf(ctx: ActionContext): { namespace: string; service: string; identity?: string } {
  const { source } = ctx.incident.alert;
  return {
    namespace: source.namespace,
    service: source.service,
    ...(source.identity ? { identity: source.identity } : {}),
  };
}

/** The source namespace, refused unless the namespace policy allows it. Call first in every plan. */
export function allowedNamespace(ctx: ActionContext): string {
  const { namespace } = sourceOf(ctx);
  assertNamespaceAllowed(ctx.namespaces, namespace);
  return namespace;
}

/** The cluster, or a clear error (the engine skips needsCluster actions without one before apply). */
export function requireCluster(ctx: ActionContext, actionId: string): Cluster {
  if (!ctx.cluster) throw new CodedError('cluster_unavailable', `${actionId}: no cluster configured`);
  return ctx.cluster;
}

export const NO_CLUSTER_NOTE = 'no cluster configured: nothing was read';

export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw abortError(signal);
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): CodedError {
  return new CodedError('action_failed', 'stopped: the step ran out of time or was cancelled', {
    cause: signal.reason,
  });
}

/**
 * Probe until it says done or `waitMs` (wall clock) has passed, sleeping `pollMs` between probes.
 * Always probes at least once; the last probe's value is returned either way.
 */
export async function pollUntil<T>(
  opts: { waitMs: number; pollMs: number; signal: AbortSignal },
  probe: () => Promise<{ done: boolean; value: T }>,
): Promise<{ done: boolean; value: T; waitedMs: number }> {
  const start = Date.now();
  for (;;) {
    const r = await probe();
    const waited = Date.now() - start;
    if (r.done) return { ...r, waitedMs: waited };
    if (waited >= opts.waitMs) return { ...r, waitedMs: waited };
    await sleep(Math.min(opts.pollMs, Math.max(1, opts.waitMs - waited)), opts.signal);
  }
}

/** `90s`, `2m`, `1m30s`: short human text for a duration in ms. */
export function shortDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  return rest === 0 ? `${m}m` : `${m}m${rest}s`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

// ---------------------------------------------------------------- what a plan listed, and drift

/**
 * One object a plan listed, as it was when planned. Apply acts only on these, with the
 * resourceVersion as a precondition: an object changed since the plan fails as a conflict instead of
 * being acted on.
 */
export const ObjectVersion = z.strictObject({
  name: z.string().min(1),
  uid: z.string(),
  resource_version: z.string(),
});
export type ObjectVersion = z.output<typeof ObjectVersion>;

export function versionOf(obj: KubeObject): ObjectVersion {
  return {
    name: obj.metadata.name ?? '',
    uid: obj.metadata.uid ?? '',
    resource_version: obj.metadata.resourceVersion ?? '',
  };
}

/** Delete preconditions: the very object the plan listed, unchanged since. */
export function preconditionsOf(v: ObjectVersion): { uid?: string; resourceVersion?: string } {
  return {
    ...(v.uid ? { uid: v.uid } : {}),
    ...(v.resource_version ? { resourceVersion: v.resource_version } : {}),
  };
}

export function isConflict(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'k8s_conflict';
}

/** The plan's namespace, refused unless the namespace policy (as it is now) still allows it. */
export function plannedNamespace(ctx: ActionContext, namespace: string): string {
  assertNamespaceAllowed(ctx.namespaces, namespace);
  return namespace;
}

/**
 * `when apply attempt 2 began`: how a summary dates what an earlier attempt (interrupted by a restart,
 * or failed and retried) already did. Only for ctx.attempt > 1.
 */
export function laterAttempt(ctx: Pick<ActionContext, 'attempt'>): string {
  return `when apply attempt ${ctx.attempt} began`;
}

export const NOT_READ_DRIFT = 'the preview was made without a cluster: nothing was read';
export const NOT_READ_REASON =
  'the plan was made without a cluster (nothing was listed): plan the step again';

/**
 * What differs between the objects a plan listed and those there now, one phrase each:
 * `<label> <name> gone`, `… replaced since the preview (new uid)`, `… changed since the preview`
 * (with `detail` when it can say how), `… new since the preview`. `whyMissing` may say better than
 * `gone` why a listed object is not among `now` (it may still exist but no longer match).
 */
export async function versionDrift(
  label: string,
  planned: readonly ObjectVersion[],
  now: readonly KubeObject[],
  opts: {
    detail?: (name: string, obj: KubeObject) => string | undefined;
    whyMissing?: (v: ObjectVersion) => Promise<string | undefined>;
  } = {},
): Promise<string[]> {
  const current = new Map(now.map((o) => [o.metadata.name ?? '', o]));
  const out: string[] = [];
  for (const v of planned) {
    const obj = current.get(v.name);
    if (!obj) {
      out.push((await opts.whyMissing?.(v)) ?? `${label} ${v.name} gone`);
      continue;
    }
    const cur = versionOf(obj);
    if (v.uid !== '' && cur.uid !== v.uid)
      out.push(`${label} ${v.name} replaced since the preview (new uid)`);
    else if (cur.resource_version !== v.resource_version) {
      const how = opts.detail?.(v.name, obj);
      out.push(`${label} ${v.name} changed since the preview${how ? ` (${how})` : ''}`);
    }
  }
  const listed = new Set(planned.map((v) => v.name));
  for (const name of [...current.keys()].sort()) {
    if (name !== '' && !listed.has(name)) out.push(`${label} ${name} new since the preview`);
  }
  return out;
}

export interface DeleteResult {
  /** Deleted now (or, in dry-run, accepted for deletion). */
  deleted: string[];
  /** Not there any more, or already being deleted (same uid, deletionTimestamp set). */
  gone: string[];
  /** Replaced or changed since the plan: not deleted. */
  conflicts: string[];
}

/**
 * Delete exactly the listed objects, each only if it is still the version the plan listed. `lookup`
 * reads one object by name (to tell apart, after a 409, an object being deleted from one that changed).
 */
export async function deleteListed(
  ctx: ActionContext,
  cluster: Cluster,
  label: string,
  refOf: (name: string) => ObjectRef,
  items: readonly ObjectVersion[],
  lookup: (name: string) => Promise<KubeObject | undefined>,
): Promise<DeleteResult> {
  const result: DeleteResult = { deleted: [], gone: [], conflicts: [] };
  for (const item of items) {
    try {
      const existed = await cluster.delete(refOf(item.name), {
        dryRun: ctx.dryRun,
        signal: ctx.signal,
        preconditions: preconditionsOf(item),
      });
      (existed ? result.deleted : result.gone).push(item.name);
    } catch (err) {
      if (!isConflict(err)) throw withProgress(err, label, result);
      const now = await lookup(item.name);
      if (!now) result.gone.push(item.name);
      else if (item.uid !== '' && now.metadata.uid !== item.uid) {
        result.conflicts.push(`${label} ${item.name} replaced since the plan (new uid)`);
      } else if (typeof now.metadata.deletionTimestamp === 'string') result.gone.push(item.name);
      else {
        result.conflicts.push(
          `${label} ${item.name} changed since the plan (resourceVersion ${item.resource_version} → ${now.metadata.resourceVersion ?? '?'})`,
        );
      }
    }
  }
  return result;
}

/** An error part-way through a list of deletions says what was already deleted. */
function withProgress(err: unknown, label: string, done: DeleteResult): unknown {
  if (done.deleted.length === 0 || !(err instanceof CodedError)) return err;
  return new CodedError(
    err.code,
    `${err.message} (deleted before this error: ${label} ${done.deleted.join(', ')})`,
    {
      cause: err,
      details: { ...err.details, deleted: done.deleted },
    },
  );
}

/** `, ` between names; `(none)` for none. */
export function names(list: readonly string[]): string {
  return list.length === 0 ? '(none)' : list.join(', ');
}

/**
 * What deleting listed objects means for the caller: a conflict (an object changed since the plan)
 * fails the action naming what was and was not done; otherwise the note on objects already gone
 * (after a resume: gone before this attempt began).
 */
export function settleDeletes(
  ctx: Pick<ActionContext, 'attempt'>,
  id: string,
  namespace: string,
  what: string,
  result: DeleteResult,
): { resumed: boolean; goneNote: string } {
  if (result.conflicts.length > 0) {
    throw new CodedError(
      'k8s_conflict',
      `${id}: ${result.conflicts.join('; ')}: not deleted. Deleted: ${names(result.deleted)}; nothing the plan did not list was touched. Plan the step again to see the ${what} as they are now`,
      {
        details: {
          namespace,
          deleted: result.deleted,
          already_gone: result.gone,
          conflicts: result.conflicts,
        },
      },
    );
  }
  const resumed = ctx.attempt > 1;
  const goneNote =
    result.gone.length === 0
      ? ''
      : resumed
        ? `already gone ${laterAttempt(ctx)} (deleted before it): ${names(result.gone)}`
        : `already gone: ${names(result.gone)}`;
  return { resumed, goneNote };
}
