import { isIP } from 'node:net';
import { z } from 'zod';
import { evaluate } from '../../contracts/evaluate.js';
import { describeDestination } from '../../domain/alert.js';
import { Verdict } from '../../domain/contract.js';
import { defineAction, type Plan } from '../define.js';

// Triage checks are read-only actions: their "plan" is the finding, "apply" records it as done.
// They never need confirmation and run in every mode.

const NoParams = z.strictObject({});

/** Findings are computed in plan(); apply() only confirms them so the step shows them as done. */
function finding<D>(summary: string, data: D): Plan<D> {
  return { summary, changes: false, data };
}

const Nullable = z.string().nullable();
const SourceFinding = z.strictObject({
  service: z.string(),
  namespace: z.string(),
  identity: Nullable,
  declaredIdentity: Nullable,
  pod: Nullable,
});
const DestinationFinding = z.strictObject({
  type: z.enum(['service', 'fqdn', 'ip']),
  name: z.string(),
  port: z.number().int(),
  protocol: z.string(),
  scope: z.string(),
  allowedFor: z.array(z.string()),
});
const VerdictFinding = z.strictObject({
  verdict: Verdict,
  atOpen: z.enum(['violation', 'allowed', 'no-contract']),
});

export const sourceIdentity = defineAction({
  id: 'triage.source-identity',
  description:
    'Identify the source workload and its identity (alert, egress contract, and cluster when available)',
  params: NoParams,
  planData: SourceFinding,
  outcomeData: SourceFinding,
  rbac: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
  destructive: false,
  needsCluster: false,
  example: {},
  async plan(ctx) {
    const { source } = ctx.incident.alert;
    const contract = ctx.contracts.find(
      (c) =>
        c.contract.service === source.service &&
        (!c.contract.namespace || c.contract.namespace === source.namespace),
    );
    const declared =
      contract?.contract.identity?.k8s_service_account ?? contract?.contract.identity?.spiffe_id;
    const parts = [
      `service ${source.service} in namespace ${source.namespace}`,
      source.identity ? `identity ${source.identity} (from the alert)` : 'no identity in the alert',
      declared ? `contract declares ${declared} (${contract?.file})` : 'no identity declared in a contract',
    ];
    if (source.pod) parts.push(`pod ${source.pod}`);
    return finding(parts.join('; '), {
      service: source.service,
      namespace: source.namespace,
      identity: source.identity ?? null,
      declaredIdentity: declared ?? null,
      pod: source.pod ?? null,
    });
  },
  async apply(_ctx, plan) {
    return { status: 'applied', summary: plan.summary, data: plan.data };
  },
});

/** RFC 1918 / RFC 4193 / loopback / link-local: an "external" IP in these ranges is still inside. */
function ipScope(ip: string): 'private' | 'public' | 'not-an-ip' {
  const v = isIP(ip);
  if (v === 0) return 'not-an-ip';
  if (v === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    const priv =
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127);
    return priv ? 'private' : 'public';
  }
  const lower = ip.toLowerCase();
  return lower === '::1' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80')
    ? 'private'
    : 'public';
}

export const destination = defineAction({
  id: 'triage.destination',
  description:
    'Identify the destination: in-cluster service, FQDN or IP (private or public), and who else may call it',
  params: NoParams,
  planData: DestinationFinding,
  outcomeData: DestinationFinding,
  rbac: [],
  destructive: false,
  needsCluster: false,
  example: {},
  async plan(ctx) {
    const d = ctx.incident.alert.destination;
    const scope =
      d.type === 'service'
        ? 'in-cluster service'
        : d.type === 'ip'
          ? `${ipScope(d.name)} IP address`
          : 'external FQDN';
    const others = ctx.contracts
      .filter((c) =>
        d.type === 'service'
          ? c.contract.allowed_internal.some((r) => r.to_service === d.name && r.namespace === d.namespace)
          : c.contract.allowed_external.some(
              (r) => 'to_fqdn' in r && r.to_fqdn?.toLowerCase() === d.name.toLowerCase(),
            ),
      )
      .map((c) => c.contract.service);
    const known =
      others.length > 0 ? `allowed for ${others.join(', ')}` : 'allowed for no service in any contract';
    return finding(`${describeDestination(d)} — ${scope}; ${known}`, {
      type: d.type,
      name: d.name,
      port: d.port,
      protocol: d.protocol,
      scope,
      allowedFor: others,
    });
  },
  async apply(_ctx, plan) {
    return { status: 'applied', summary: plan.summary, data: plan.data };
  },
});

export const contractVerdict = defineAction({
  id: 'triage.contract-verdict',
  description:
    "Check the alert against the source service's egress contract (re-evaluated with the contracts loaded now)",
  params: NoParams,
  planData: VerdictFinding,
  outcomeData: VerdictFinding,
  rbac: [],
  destructive: false,
  needsCluster: false,
  example: {},
  async plan(ctx) {
    const now = evaluate(ctx.contracts, ctx.incident.alert);
    const atOpen = ctx.incident.verdict;
    const changed = now.kind !== atOpen.kind ? ` (was ${atOpen.kind} when the incident opened)` : '';
    return finding(`${now.kind}: ${now.message}${changed}`, {
      verdict: now,
      atOpen: atOpen.kind,
    });
  },
  async apply(_ctx, plan) {
    return { status: 'applied', summary: plan.summary, data: plan.data };
  },
});
