// Shared helpers for the Kubernetes rotation actions (k8s.rollout-restart, k8s.revoke-token-secrets,
// certmanager.renew, k8s.job, k8s.delete-quarantined-pods).
import { CodedError } from '../../domain/errors.js';
import { assertNamespaceAllowed } from '../../domain/namespace-policy.js';
import type { Cluster } from '../../k8s/cluster.js';
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
