// A hand-built ActionContext for calling the rotation actions directly (plan → drift → apply) against
// the fake Kubernetes API, without the engine: what the engine would hand them, no more.
import type { ActionContext } from '../../../src/actions/define.js';
import type { Incident } from '../../../src/domain/incident.js';
import { NamespacePolicy } from '../../../src/domain/namespace-policy.js';
import type { Cluster } from '../../../src/k8s/cluster.js';
import { createKubeCluster } from '../../../src/k8s/kube-cluster.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { anIncident } from '../../builders/incident.js';
import type { FakeKubeApi } from '../../fakes/kube-api/index.js';

export const NOW = Date.parse('2026-11-25T14:03:12.123Z');

export function fakeCluster(fake: FakeKubeApi): Cluster {
  return createKubeCluster({
    kubeconfigPath: fake.kubeconfig(),
    retry: { attempts: 1, baseMs: 1, capMs: 1, timeoutMs: 2_000 },
  });
}

export function rotateContext(
  opts: {
    cluster?: Cluster;
    incident?: Incident;
    dryRun?: boolean;
    attempt?: number;
    actor?: string;
    actionKey?: string;
    now?: number;
  } = {},
): ActionContext {
  const incident = opts.incident ?? anIncident({ id: 'EGR-ROT-1' });
  const actionKey = opts.actionKey ?? 'rotate-action';
  return {
    incident,
    stepId: 'rotate',
    actionKey,
    actor: opts.actor ?? 'system',
    dryRun: opts.dryRun ?? false,
    cluster: opts.cluster,
    contracts: [],
    namespaces: NamespacePolicy.parse({}),
    timeline: async () => [],
    clock: { now: () => opts.now ?? NOW },
    log: silentLogger(),
    signal: new AbortController().signal,
    idempotencyKey: `${incident.id}:rotate:${actionKey}`,
    attempt: opts.attempt ?? 1,
  };
}
