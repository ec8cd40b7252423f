import { z } from 'zod';
import { findContract } from '../../../contracts/evaluate.js';
import { renderContract } from '../../../contracts/render.js';
import { RenderOptions } from '../../../contracts/render-options.js';
import { asCodedError } from '../../../domain/errors.js';
import { defineAction, type Plan } from '../../define.js';
import { attestInCluster } from './read.js';
import { attestationLine } from './report.js';
import { ContractAttestation } from './schema.js';

// Triage: does the cluster enforce what the source service's contract says, and what does it allow
// beyond it? Read-only (the plan is the finding, apply confirms it), like the other triage checks;
// the same render and comparison as `egress-responder attest`.

const Params = z.strictObject({
  /** As `contracts render --app-label`. */
  app_label: z.string().min(1).default('app'),
  fqdn: z.enum(['cilium', 'cidrs']).default('cidrs'),
  dns: z.boolean().default(true),
  trust_domain: z.string().min(1).default('cluster.local'),
});

const Finding = z.strictObject({
  line: z.string(),
  /** Absent when nothing could be compared (no contract, no cluster, the cluster unreadable). */
  attestation: ContractAttestation.nullable(),
});
type Finding = z.output<typeof Finding>;

const PREFIX = 'Contract attestation:';

function finding(line: string, attestation: Finding['attestation'] = null): Plan<Finding> {
  return { summary: `${PREFIX} ${line}`, changes: false, data: { line, attestation } };
}

export const contractAttestation = defineAction({
  id: 'triage.contract-attestation',
  description:
    "Compare the source service's live NetworkPolicies and AuthorizationPolicies with what its egress contract renders, and name the egress the cluster allows beyond it",
  params: Params,
  planData: Finding,
  outcomeData: Finding,
  rbac: [
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list'] },
    { apiGroups: ['security.istio.io'], resources: ['authorizationpolicies'], verbs: ['list'] },
    { apiGroups: ['cilium.io'], resources: ['ciliumnetworkpolicies'], verbs: ['list'] },
  ],
  destructive: false,
  needsCluster: false,
  example: { fqdn: 'cilium' },
  async plan(ctx, params) {
    const { source } = ctx.incident.alert;
    const loaded = findContract(ctx.contracts, source);
    if (!loaded)
      return finding(`no egress contract for ${source.namespace}/${source.service}: nothing to attest`);
    if (!ctx.cluster) return finding('no cluster configured: the live policies were not read');
    const opts = RenderOptions.parse({
      appLabel: params.app_label,
      fqdn: params.fqdn,
      dns: params.dns,
      trustDomain: params.trust_domain,
    });
    // A contract for any namespace is attested where the source runs.
    const scoped = { ...loaded, contract: { ...loaded.contract, namespace: source.namespace } };
    const render = renderContract(scoped, opts);
    if (render.objects.length === 0) return finding(`${loaded.file}: ${render.problems.join('; ')}`);
    try {
      const [attestation] = await attestInCluster(ctx.cluster, [render], opts.appLabel, {
        signal: ctx.signal,
      });
      if (!attestation) return finding('nothing was rendered to compare');
      return finding(attestationLine(attestation), attestation);
    } catch (err) {
      return finding(`the live policies could not be read: ${asCodedError(err).message}`);
    }
  },
  async apply(_ctx, plan) {
    return { status: 'applied', summary: plan.summary, data: plan.data };
  },
});
