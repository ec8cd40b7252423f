// What became of a Job: its phase read from status (succeeded, failed, still running, gone) and the
// last lines of its newest pod's log. Reads only; knows nothing of playbooks.
import type { Cluster } from '../../k8s/cluster.js';
import type { KubeObject } from '../../k8s/types.js';
import { num, record } from './k8s-common.js';

export interface JobState {
  phase: 'running' | 'succeeded' | 'failed' | 'missing';
  succeeded: number;
  failed: number;
  active: number;
  why?: string;
}

export function jobState(job: KubeObject | undefined): JobState {
  if (!job) return { phase: 'missing', succeeded: 0, failed: 0, active: 0 };
  const status = record(job.status);
  const succeeded = num(status.succeeded) ?? 0;
  const failed = num(status.failed) ?? 0;
  const active = num(status.active) ?? 0;
  const backoffLimit = num(record(job.spec).backoffLimit) ?? 6;
  const conditions = Array.isArray(status.conditions) ? (status.conditions as unknown[]).map(record) : [];
  const failedCond = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  const base = { succeeded, failed, active };
  if (succeeded >= 1) return { phase: 'succeeded', ...base };
  if (failedCond) {
    const why = [failedCond.reason, failedCond.message].filter((s) => typeof s === 'string').join(': ');
    return { phase: 'failed', ...base, ...(why ? { why } : {}) };
  }
  if (failed >= backoffLimit + 1) {
    return { phase: 'failed', ...base, why: `${failed} failed pods, backoffLimit ${backoffLimit}` };
  }
  return { phase: 'running', ...base };
}

/** The last `n` lines of the Job's newest pod's log; an error in words, never thrown (the log is a courtesy). */
export async function lastLogLines(
  cluster: Cluster,
  namespace: string,
  job: string,
  n: number,
  signal: AbortSignal,
): Promise<{ lines: string[]; pod?: string; error?: string }> {
  try {
    const pods = await cluster.listPods(namespace, { labelSelector: `job-name=${job}`, signal });
    const latest = pods.sort((a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
    )[0];
    const pod = latest?.metadata.name;
    if (!pod) return { lines: [], error: 'no pod of the Job found' };
    const text = await cluster.podLogs(namespace, pod, { tailLines: n, signal });
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return { lines: lines.slice(-n), pod };
  } catch (err) {
    return { lines: [], error: `log unavailable: ${err instanceof Error ? err.message : String(err)}` };
  }
}
