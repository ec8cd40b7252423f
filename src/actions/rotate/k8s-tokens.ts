/**
 * # k8s.revoke-token-secrets: delete the identity's legacy service-account token Secrets
 *
 * Legacy tokens (Secrets of type `kubernetes.io/service-account-token`) never expire; deleting the
 * Secret invalidates the token. Projected tokens in running pods are not affected (restart the
 * workload for those). The preview lists Secret names only, never their data. No revert: a revoked
 * token must not come back.
 *
 * The plan lists each Secret with its uid and resourceVersion; apply deletes only those, each with both
 * as delete preconditions (a Secret replaced or edited since the plan is not deleted: the step fails
 * with a conflict naming it). `drift` names listed Secrets gone or changed and new token Secrets of
 * the ServiceAccount.
 *
 * ```yaml
 * - uses: k8s.revoke-token-secrets
 *   with: { service_account: payments-api }   # default: contract identity, alert identity, service
 * ```
 */
import { z } from 'zod';
import type { KubeObject } from '../../k8s/types.js';
import { type ActionContext, defineAction } from '../define.js';
import {
  allowedNamespace,
  deleteListed,
  NO_CLUSTER_NOTE,
  NOT_READ_DRIFT,
  NOT_READ_REASON,
  names,
  ObjectVersion,
  plannedNamespace,
  plural,
  record,
  requireCluster,
  settleDeletes,
  sourceOf,
  versionDrift,
  versionOf,
} from './k8s-common.js';

const ID = 'k8s.revoke-token-secrets';
export const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';

export const RevokeTokenSecretsParams = z.strictObject({
  service_account: z.string().min(1).max(253).optional(),
});
export type RevokeTokenSecretsParams = z.output<typeof RevokeTokenSecretsParams>;

export const RevokeTokenSecretsPlan = z.strictObject({
  namespace: z.string(),
  service_account: z.string(),
  /** False when planned without a cluster: nothing was listed, so nothing may be deleted. */
  read: z.boolean(),
  /** The token Secrets confirmed for deletion (names and versions only, never their data). */
  secrets: z.array(ObjectVersion),
});
export type RevokeTokenSecretsPlan = z.output<typeof RevokeTokenSecretsPlan>;

export const RevokeTokenSecretsOutcome = z.strictObject({
  namespace: z.string(),
  service_account: z.string(),
  deleted: z.array(z.string()),
  /** Listed, but gone (or already being deleted) when apply reached them. */
  already_gone: z.array(z.string()),
  dry_run: z.boolean(),
});
export type RevokeTokenSecretsOutcome = z.output<typeof RevokeTokenSecretsOutcome>;

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

/** The ServiceAccount's legacy token Secrets, by name. Only metadata leaves this function. */
async function tokenSecrets(ctx: ActionContext, namespace: string, sa: string): Promise<KubeObject[]> {
  const cluster = requireCluster(ctx, ID);
  const secrets = await cluster.list<KubeObject>('v1', 'Secret', namespace, {
    fieldSelector: `type=${SA_TOKEN_TYPE}`,
    signal: ctx.signal,
  });
  return secrets
    .filter((s) => s.type === SA_TOKEN_TYPE && record(s.metadata.annotations)[SA_NAME_ANNOTATION] === sa)
    .filter((s) => (s.metadata.name ?? '') !== '')
    .map((s) => ({ apiVersion: 'v1', kind: 'Secret', metadata: s.metadata }))
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

export const revokeTokenSecrets = defineAction({
  id: ID,
  description:
    "Delete the source identity's legacy ServiceAccount token Secrets (type kubernetes.io/service-account-token); the preview lists their names; no revert (revoked tokens must not come back)",
  params: RevokeTokenSecretsParams,
  planData: RevokeTokenSecretsPlan,
  outcomeData: RevokeTokenSecretsOutcome,
  rbac: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'delete'] }],
  destructive: true,
  needsCluster: true,
  example: { service_account: 'payments-api' },

  async plan(ctx, params) {
    const namespace = allowedNamespace(ctx);
    const sa = serviceAccountOf(ctx, params.service_account);
    if (!ctx.cluster) {
      return {
        summary: `delete legacy token Secrets of ${namespace}/${sa} (${NO_CLUSTER_NOTE})`,
        changes: true,
        data: { namespace, service_account: sa, read: false, secrets: [] },
      };
    }
    const secrets = (await tokenSecrets(ctx, namespace, sa)).map(versionOf);
    if (secrets.length === 0) {
      return {
        summary: `no legacy token secrets for ${sa}`,
        changes: false,
        data: { namespace, service_account: sa, read: true, secrets: [] },
      };
    }
    return {
      summary: `delete ${plural(secrets.length, 'legacy token Secret')} of ${namespace}/${sa}`,
      preview: secrets.map((s) => `- Secret ${namespace}/${s.name}`).join('\n'),
      changes: true,
      data: { namespace, service_account: sa, read: true, secrets },
    };
  },

  async drift(ctx, plan, params) {
    if (!ctx.cluster) return [];
    const { namespace, service_account: sa } = plan.data;
    const now = await tokenSecrets(ctx, namespace, sa);
    const wanted = serviceAccountOf(ctx, params.service_account);
    return [
      ...(plan.data.read ? [] : [NOT_READ_DRIFT]),
      ...(wanted === sa ? [] : [`the step now targets ServiceAccount ${wanted}, not ${sa}`]),
      ...(await versionDrift('Secret', plan.data.secrets, now)),
    ];
  },

  async apply(ctx, plan) {
    const cluster = requireCluster(ctx, ID);
    const { service_account: sa, read, secrets } = plan.data;
    const namespace = plannedNamespace(ctx, plan.data.namespace);
    const base = { namespace, service_account: sa, dry_run: ctx.dryRun };
    if (!read || secrets.length === 0) {
      return {
        status: 'skipped',
        summary: `nothing to revoke for ${namespace}/${sa}`,
        reason: read ? `no legacy token secrets for ${sa}` : NOT_READ_REASON,
        data: { ...base, deleted: [], already_gone: [] },
      };
    }
    const result = await deleteListed(
      ctx,
      cluster,
      'Secret',
      (name) => ({ apiVersion: 'v1', kind: 'Secret', namespace, name }),
      secrets,
      // Any Secret of that name: one edited into another type or ServiceAccount is a change, not gone.
      async (name) =>
        (
          await cluster.list<KubeObject>('v1', 'Secret', namespace, {
            fieldSelector: `metadata.name=${name}`,
            signal: ctx.signal,
          })
        ).find((s) => s.metadata.name === name),
    );
    const { resumed, goneNote } = settleDeletes(ctx, ID, namespace, 'Secrets', result);
    const data = { ...base, deleted: result.deleted, already_gone: result.gone };
    if (result.deleted.length === 0) {
      return resumed
        ? {
            status: 'applied',
            summary: `no token Secrets deleted now: every listed one of ${namespace}/${sa} was ${goneNote}`,
            data,
          }
        : {
            status: 'skipped',
            summary: `nothing to revoke for ${namespace}/${sa}`,
            reason: `every listed token Secret was already gone: ${names(result.gone)}`,
            data,
          };
    }
    return {
      status: 'applied',
      summary: [
        `deleted ${plural(result.deleted.length, 'legacy token Secret')} of ${namespace}/${sa}: ${names(result.deleted)}`,
        ...(goneNote ? [goneNote] : []),
      ].join('; '),
      data,
    };
  },
});
