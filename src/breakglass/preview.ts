import { type Grant, KYVERNO_TTL_LABEL } from '../domain/grant.js';
import type { KubeObject } from '../k8s/types.js';
import type { GrantPreview } from './ports.js';
import { formatLabels, toYaml } from './render.js';
import type { BreakglassConfig } from './settings.js';

// What the requester sees before submitting and the approvers see before approving: the objects
// exactly as rendered, as YAML, and what they should know about them.

export function previewOf(
  objects: KubeObject[],
  g: Pick<Grant, 'spec' | 'sourceSelector' | 'drill' | 'expiresAt'>,
  config: BreakglassConfig,
  hasCluster: boolean,
): GrantPreview {
  const warnings: string[] = [];
  const { spec } = g;
  if (spec.kind === 'egress-exception') {
    if (spec.source.kind === 'quarantined') {
      warnings.push(
        `The exception selects the quarantined pods themselves (${formatLabels(g.sourceSelector ?? {})}): the quarantine deny-all and the isolate remedy leave them out of every other allow, so only a policy of their own can open a path.`,
      );
    }
    if (spec.destination.kind === 'fqdn') {
      warnings.push(
        `Cilium learns the addresses of ${spec.destination.fqdn} from the pods' own DNS lookups: the policy also allows DNS (port 53) to kube-dns, for that name only.`,
      );
    }
  }
  if (g.expiresAt === undefined) {
    warnings.push(
      'The approvers and the absolute expiry (RFC 3339 UTC) are written into the objects at approval.',
    );
  }
  if (config.kyvernoCleanup) {
    warnings.push(
      `Kyverno's ${KYVERNO_TTL_LABEL} label carries the same absolute expiry${g.expiresAt === undefined ? ' (set at approval)' : ''}, so the cluster removes the objects even without the bot.`,
    );
  }
  if (g.drill) {
    warnings.push(
      hasCluster
        ? 'A drill: every write is a server-side dry run (dryRun=All); nothing is created.'
        : 'A drill with no cluster configured: the grant is recorded and planned only; nothing is sent.',
    );
  }
  return { objects, yaml: toYaml(objects), warnings, maxDurationMs: config.maxDuration[spec.kind] };
}
