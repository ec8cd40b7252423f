/**
 * # k8s.revoke-token-secrets: delete the identity's legacy service-account token Secrets
 *
 * Legacy tokens (Secrets of type `kubernetes.io/service-account-token`) never expire; deleting the
 * Secret invalidates the token. Projected tokens in running pods are not affected (restart the
 * workload for those). The preview lists Secret names only, never their data. No revert: a revoked
 * token must not come back.
 *
 * ```yaml
 * - uses: k8s.revoke-token-secrets
 *   with: { service_account: payments-api }   # default: contract identity, alert identity, service
 * ```
 */
import { z } from 'zod';
import type { KubeObject } from '../../k8s/types.js';
import { type ActionContext, defineAction, type Outcome, type Plan } from '../define.js';
import { allowedNamespace, NO_CLUSTER_NOTE, plural, record, requireCluster, sourceOf } from './k8s-common.js';

export const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';

export const RevokeTokenSecretsParams = z.strictObject({
  service_account: z.string().min(1).max(253).optional(),
});
export type RevokeTokenSecretsParams = z.output<typeof RevokeTokenSecretsParams>;

/** The ServiceAccount: the param, else the contract's k8s_service_account, else `/sa/<name>` of the identity, else the service. */
export function serviceAccountOf(ctx: ActionContext, explicit?: string): string {
  if (explicit) return explicit;
  const src = sourceOf(ctx);
  const contract = ctx.contracts.find(
    (c) =>
      c.contract.service === src.service &&
      (c.contract.namespace === undefined || c.contract.namespace === src.namespace),
  );
  const fromContract = contract?.contract.identity?.k8s_service_account;
  if (fromContract) return fromContract;
  const m = src.identity ? /\/sa\/([^/]+)$/.exec(src.identity) : null;
  return m?.[1] ?? src.service;
}

async function tokenSecrets(ctx: ActionContext, namespace: string, sa: string): Promise<string[]> {
  const cluster = requireCluster(ctx, 'k8s.revoke-token-secrets');
  const secrets = await cluster.list<KubeObject>('v1', 'Secret', namespace, {
    fieldSelector: `type=${SA_TOKEN_TYPE}`,
    signal: ctx.signal,
  });
  return secrets
    .filter((s) => s.type === SA_TOKEN_TYPE && record(s.metadata.annotations)[SA_NAME_ANNOTATION] === sa)
    .map((s) => s.metadata.name ?? '')
    .filter((n) => n !== '')
    .sort();
}

export const revokeTokenSecrets = defineAction({
  id: 'k8s.revoke-token-secrets',
  description:
    "Delete the source identity's legacy ServiceAccount token Secrets (type kubernetes.io/service-account-token); the preview lists their names; no revert (revoked tokens must not come back)",
  params: RevokeTokenSecretsParams,
  rbac: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'delete'] }],
  destructive: true,
  needsCluster: true,
  example: { service_account: 'payments-api' },

  async plan(ctx, params): Promise<Plan> {
    const namespace = allowedNamespace(ctx);
    const sa = serviceAccountOf(ctx, params.service_account);
    if (!ctx.cluster) {
      return {
        summary: `delete legacy token Secrets of ${namespace}/${sa} (${NO_CLUSTER_NOTE})`,
        changes: true,
        data: { namespace, service_account: sa, secrets: [] },
      };
    }
    const names = await tokenSecrets(ctx, namespace, sa);
    if (names.length === 0) {
      return {
        summary: `no legacy token secrets for ${sa}`,
        changes: false,
        data: { namespace, service_account: sa, secrets: [] },
      };
    }
    return {
      summary: `delete ${plural(names.length, 'legacy token Secret')} of ${namespace}/${sa}`,
      preview: names.map((n) => `- Secret ${namespace}/${n}`).join('\n'),
      changes: true,
      data: { namespace, service_account: sa, secrets: names },
    };
  },

  async apply(ctx, _plan, params): Promise<Outcome> {
    const cluster = requireCluster(ctx, 'k8s.revoke-token-secrets');
    const namespace = allowedNamespace(ctx);
    const sa = serviceAccountOf(ctx, params.service_account);
    // Re-list: what exists now is what gets deleted (a resume must not trust an old plan).
    const names = await tokenSecrets(ctx, namespace, sa);
    if (names.length === 0) {
      return {
        status: 'skipped',
        summary: `nothing to revoke for ${namespace}/${sa}`,
        reason: `no legacy token secrets for ${sa}`,
        data: { namespace, service_account: sa, deleted: [] },
      };
    }
    const deleted: string[] = [];
    const gone: string[] = [];
    for (const name of names) {
      const existed = await cluster.delete(
        { apiVersion: 'v1', kind: 'Secret', namespace, name },
        { dryRun: ctx.dryRun, signal: ctx.signal },
      );
      (existed ? deleted : gone).push(name);
    }
    return {
      status: 'applied',
      summary: `deleted ${plural(deleted.length, 'legacy token Secret')} of ${namespace}/${sa}: ${deleted.join(', ')}`,
      data: { namespace, service_account: sa, deleted, already_gone: gone, dry_run: ctx.dryRun },
    };
  },
});
