import { asNetpol, podInfo } from '../actions/k8s/contain/common.js';
import { analyzeEgress, type NetworkPolicy, type PodInfo } from '../actions/k8s/netpol.js';
import { CodedError } from '../domain/errors.js';
import type { Cluster } from '../k8s/cluster.js';
import { formatLabels } from './render.js';

// The cluster's half of checking an egress exception, before it is stored and again just before it
// is applied: the source pods exist, and every one of them is already egress-isolated. NetworkPolicies
// are additive, so an allow policy on a pod nothing isolates yet would make it isolated — and cut all
// its other egress at once. A break-glass exception must open one path, never close the rest.

export interface SourceScene {
  namespace: string;
  selector: Record<string, string>;
  pods: PodInfo[];
  /** Every NetworkPolicy of the namespace, as the analysis reads them. */
  policies: NetworkPolicy[];
}

export async function readSource(
  cluster: Cluster,
  namespace: string,
  selector: Record<string, string>,
  signal?: AbortSignal,
): Promise<SourceScene> {
  const opts = signal ? { signal } : {};
  const [pods, policies] = await Promise.all([
    cluster.listPods(namespace, { labelSelector: formatLabels(selector), ...opts }),
    cluster.listNetworkPolicies(namespace, opts),
  ]);
  return {
    namespace,
    selector,
    // A pod already being deleted has no egress left to open.
    pods: pods.filter((p) => !p.metadata.deletionTimestamp).map(podInfo),
    policies: policies.map((p) => asNetpol(p, namespace)),
  };
}

/** Refuses (request_refused, saying why) unless pods match and every one is egress-isolated. */
export function assertIsolated(scene: SourceScene, without?: string): void {
  const where = `${formatLabels(scene.selector)} in ${scene.namespace}`;
  if (scene.pods.length === 0) {
    throw new CodedError(
      'request_refused',
      `no running pods match ${where}: there is nothing to open a path for`,
    );
  }
  // The grant's own policy (on a re-check before apply after a restart) does not count as isolation.
  const policies = without ? scene.policies.filter((p) => p.metadata.name !== without) : scene.policies;
  const analysis = analyzeEgress(scene.pods, policies);
  const open = Object.entries(analysis.perPod)
    .filter(([, pod]) => pod.verdict === 'unrestricted')
    .map(([name]) => name);
  if (open.length > 0) {
    throw new CodedError(
      'request_refused',
      `refused: ${open.join(', ')} (${where}) ${open.length === 1 ? 'is' : 'are'} not egress-isolated (no egress NetworkPolicy selects ${open.length === 1 ? 'it' : 'them'}). An allow policy on non-isolated pods would isolate them and cut all their other egress. Contain them first (quarantine), or choose pods that are already isolated.`,
      { details: { pods: open } },
    );
  }
}
