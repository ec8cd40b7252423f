// k8s.detach-quarantined's verification: the pods are released by their controllers (polled: the
// controllers act asynchronously), still quarantined, and no NetworkPolicy lets them out because a
// label was removed (analyzeEgress, as containment verifies). In a dry run nothing changed: the pods are
// judged as the detach would leave them.
import { toJson } from '../../../domain/json.js';
import type { Pod } from '../../../k8s/types.js';
import type { ActionContext, Verification } from '../../define.js';
import { analyzeEgress, verificationLine } from '../netpol.js';
import { asNetpol, podInfo, requireCluster } from './common.js';
import { controllerOf, describeController, describeNewlySelecting, newlySelecting } from './detach-owners.js';

/** What verify reads of the outcome. */
export interface DetachedData {
  namespace: string;
  labelKey: string;
  labelValue: string;
  pods: { name: string; result: string; removed: Record<string, string> }[];
}

export async function verifyDetach(
  ctx: ActionContext,
  data: DetachedData,
  params: { wait: number; poll: number },
): Promise<Verification> {
  const mine = data.pods.filter((p) => p.result === 'detached' || p.result === 'already');
  const policies = (
    await requireCluster(ctx).listNetworkPolicies(data.namespace, { signal: ctx.signal })
  ).map((p) => asNetpol(p, data.namespace));
  if (ctx.dryRun) {
    // Nothing changed: judge the pods as the detach would leave them.
    const pods = await readPods(
      ctx,
      data.namespace,
      mine.map((p) => p.name),
    );
    const views = mine.flatMap((p) => {
      const pod = pods.get(p.name);
      if (!pod) return [];
      const info = podInfo(pod);
      const labels = { ...info.labels, [data.labelKey]: data.labelValue };
      for (const k of Object.keys(p.removed)) delete labels[k];
      return [{ after: { ...info, labels }, removed: p.removed }];
    });
    // Only what the detach itself would change is judged: the live policies do not hold what this
    // step's containment only dry-ran (no deny policy, no remedy), so a full egress verdict here would
    // read "all egress is allowed" right after the containment's own dry-run verdict.
    const opened = describeNewlySelecting(newlySelecting(views, policies));
    return {
      ok: opened.length === 0,
      line: `Detach (dry-run): ${views.length} pod(s) would be released by their controllers, still ${data.labelKey}=${data.labelValue}; ${
        opened.length > 0
          ? `but ${opened.join('; ')}`
          : 'no NetworkPolicy would start selecting them because of the removed labels'
      } (their egress is the containment's verification above)`,
      data: toJson({ opened }),
    };
  }
  const poll = await pollReleased(
    ctx,
    params,
    data.namespace,
    mine.map((p) => p.name),
  );
  const problems: string[] = [];
  const views = [];
  for (const p of mine) {
    const pod = poll.get(p.name);
    if (!pod) {
      problems.push(`pod ${p.name} is gone`);
      continue;
    }
    const owner = controllerOf(pod);
    if (owner) problems.push(`pod ${p.name} is still controlled by ${describeController(owner)}`);
    if (pod.metadata.labels?.[data.labelKey] !== data.labelValue)
      problems.push(`pod ${p.name} is no longer labelled ${data.labelKey}=${data.labelValue}`);
    views.push({ after: podInfo(pod), removed: p.removed });
  }
  const opened = describeNewlySelecting(newlySelecting(views, policies));
  problems.push(...opened);
  const analysis = analyzeEgress(
    views.map((v) => v.after),
    policies,
  );
  const line =
    problems.length === 0
      ? `Detach: ${views.length} quarantined pod(s) released by their controllers (${views.map((v) => v.after.name).join(', ') || 'none'}), still ${data.labelKey}=${data.labelValue}; ${verificationLine(analysis)}`
      : `Detach verification failed — ${problems.join('; ')}`;
  return { ok: problems.length === 0, line, data: toJson({ problems, analysis }) };
}

async function readPods(ctx: ActionContext, namespace: string, names: string[]): Promise<Map<string, Pod>> {
  const out = new Map<string, Pod>();
  for (const name of names) {
    const pod = await requireCluster(ctx).getPod(namespace, name, { signal: ctx.signal });
    if (pod) out.set(name, pod);
  }
  return out;
}

/** The pods, once none has a controller (or `wait` is over): the controllers release them asynchronously. */
async function pollReleased(
  ctx: ActionContext,
  params: { wait: number; poll: number },
  namespace: string,
  names: string[],
): Promise<Map<string, Pod>> {
  const start = Date.now();
  for (;;) {
    const pods = await readPods(ctx, namespace, names);
    const held = [...pods.values()].some((p) => controllerOf(p) !== undefined);
    if (!held || ctx.signal.aborted || Date.now() - start >= params.wait) return pods;
    await new Promise((resolve) => setTimeout(resolve, Math.min(params.poll, params.wait)));
  }
}
