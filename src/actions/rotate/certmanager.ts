/**
 * # certmanager.renew: trigger re-issuance of the workload's cert-manager Certificates
 *
 * Like `cmctl renew`: sets the `Issuing` condition (status True, reason `ManuallyTriggered`) on each
 * Certificate's status subresource, which makes cert-manager issue a new certificate now. A
 * Certificate already issuing is left alone. The plan warns for each Certificate whose
 * `spec.privateKey.rotationPolicy` is not `Always`: the private key would not change, only the
 * certificate. Skipped where the cert-manager Certificate API is not served. No revert.
 *
 * The plan lists each Certificate with its uid, resourceVersion and status revision; apply patches
 * only those (and not those already issuing when planned), each patch carrying the planned
 * resourceVersion, so a Certificate changed since the plan is a conflict, not a renewal. One found
 * issuing or re-issued since the plan is left alone and reported (after a resumed apply: triggered
 * before the restart). `drift` names Certificates gone, new, replaced or changed, and the API
 * appearing or going away.
 *
 * ```yaml
 * - uses: certmanager.renew
 *   with: { names: [payments-api-tls] }   # default: the source service's Certificates
 * ```
 */
import { z } from 'zod';
import { CodedError } from '../../domain/errors.js';
import type { Cluster } from '../../k8s/cluster.js';
import type { KubeObject } from '../../k8s/types.js';
import { type ActionContext, defineAction } from '../define.js';
import {
  allowedNamespace,
  isConflict,
  laterAttempt,
  NO_CLUSTER_NOTE,
  NOT_READ_DRIFT,
  NOT_READ_REASON,
  num,
  plannedNamespace,
  plural,
  record,
  requireCluster,
  sourceOf,
  versionDrift,
} from './k8s-common.js';

const ID = 'certmanager.renew';
export const CERT_API_NOT_SERVED = 'cert-manager Certificate API not served';
export const KEY_NOT_ROTATED = 'the private key would not change';

export const CertManagerRenewParams = z.strictObject({
  /** Certificate names; default: those whose name or spec.secretName contains the service, or labelled app=<service>. */
  names: z.array(z.string().min(1).max(253)).min(1).optional(),
});
export type CertManagerRenewParams = z.output<typeof CertManagerRenewParams>;

/** One Certificate as planned. */
export const PlannedCertificate = z.strictObject({
  name: z.string().min(1),
  uid: z.string(),
  resource_version: z.string(),
  generation: z.number().nullable(),
  /** status.revision: cert-manager increments it on every issuance. */
  revision: z.number().nullable(),
  secretName: z.string().nullable(),
  rotationPolicy: z.string().nullable(),
  /** Already issuing when planned: left alone. */
  issuing: z.boolean(),
});
export type PlannedCertificate = z.output<typeof PlannedCertificate>;

export const CertManagerRenewPlan = z.strictObject({
  namespace: z.string(),
  /** null: planned without a cluster (nothing read). */
  served: z.boolean().nullable(),
  certificates: z.array(PlannedCertificate),
  warnings: z.array(z.string()),
});
export type CertManagerRenewPlan = z.output<typeof CertManagerRenewPlan>;

export const CertManagerRenewOutcome = z.strictObject({
  namespace: z.string(),
  /** Re-issuance triggered by this apply. */
  renewed: z.array(z.string()),
  /** Issuing when planned: left alone, as the plan said. */
  already_issuing: z.array(z.string()),
  /** Found issuing when applied (triggered since the plan, e.g. before a restart): left alone. */
  issuing_since_plan: z.array(z.string()),
  /** Found re-issued since the plan (a higher status.revision): left alone. */
  reissued_since_plan: z.array(z.string()),
  /** Listed but gone when applied. */
  gone: z.array(z.string()),
  warnings: z.array(z.string()),
  dry_run: z.boolean(),
});
export type CertManagerRenewOutcome = z.output<typeof CertManagerRenewOutcome>;

function conditionsOf(cert: KubeObject): Record<string, unknown>[] {
  const conditions = record(cert.status).conditions;
  return Array.isArray(conditions) ? conditions.map(record) : [];
}

function isIssuing(cert: KubeObject): boolean {
  return conditionsOf(cert).some((c) => c.type === 'Issuing' && c.status === 'True');
}

function describe(cert: KubeObject): PlannedCertificate {
  const spec = record(cert.spec);
  const policy = record(spec.privateKey).rotationPolicy;
  return {
    name: cert.metadata.name ?? '',
    uid: cert.metadata.uid ?? '',
    resource_version: cert.metadata.resourceVersion ?? '',
    generation: num(cert.metadata.generation) ?? null,
    revision: num(record(cert.status).revision) ?? null,
    secretName: typeof spec.secretName === 'string' ? spec.secretName : null,
    rotationPolicy: typeof policy === 'string' ? policy : null,
    issuing: isIssuing(cert),
  };
}

function certRef(namespace: string, name: string) {
  return { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace, name };
}

async function served(cluster: Cluster, signal: AbortSignal): Promise<boolean> {
  return cluster.serves('cert-manager.io', 'v1', 'certificates', { signal });
}

/** The named Certificates (and the names not found), or the service's. */
async function lookupCertificates(
  ctx: ActionContext,
  cluster: Cluster,
  namespace: string,
  names: string[] | undefined,
): Promise<{ found: KubeObject[]; missing: string[] }> {
  if (names) {
    const found: KubeObject[] = [];
    const missing: string[] = [];
    for (const name of names) {
      const c = await cluster.get(certRef(namespace, name), { signal: ctx.signal });
      if (c) found.push(c);
      else missing.push(name);
    }
    return { found, missing };
  }
  const { service } = sourceOf(ctx);
  const all = await cluster.list('cert-manager.io/v1', 'Certificate', namespace, { signal: ctx.signal });
  const found = all
    .filter((c) => {
      const secretName = record(c.spec).secretName;
      return (
        (c.metadata.name ?? '').includes(service) ||
        (typeof secretName === 'string' && secretName.includes(service)) ||
        c.metadata.labels?.app === service
      );
    })
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return { found, missing: [] };
}

function warnings(certs: PlannedCertificate[]): string[] {
  return certs
    .filter((c) => c.rotationPolicy !== 'Always')
    .map(
      (c) =>
        `Certificate ${c.name}: privateKey.rotationPolicy is ${c.rotationPolicy ?? 'unset (Never)'}: ${KEY_NOT_ROTATED}`,
    );
}

/** How a Certificate differs from its planned state, in words (undefined: only its resourceVersion). */
function certChange(planned: PlannedCertificate, now: PlannedCertificate): string | undefined {
  const parts: string[] = [];
  if (now.issuing !== planned.issuing) parts.push(now.issuing ? 'now issuing' : 'no longer issuing');
  if (now.revision !== planned.revision)
    parts.push(`revision ${planned.revision ?? 'none'} → ${now.revision ?? 'none'}`);
  if (now.rotationPolicy !== planned.rotationPolicy) {
    parts.push(`rotationPolicy ${planned.rotationPolicy ?? 'unset'} → ${now.rotationPolicy ?? 'unset'}`);
  }
  if (now.secretName !== planned.secretName) parts.push(`secretName ${now.secretName ?? 'unset'}`);
  if (parts.length === 0 && now.generation !== planned.generation) parts.push('spec changed');
  return parts.length > 0 ? parts.join(', ') : undefined;
}

export const certManagerRenew = defineAction({
  id: ID,
  description:
    "Trigger re-issuance of the source service's cert-manager Certificates like `cmctl renew` (Issuing condition on the status subresource); warns when privateKey.rotationPolicy is not Always; skipped where cert-manager is not installed",
  params: CertManagerRenewParams,
  planData: CertManagerRenewPlan,
  outcomeData: CertManagerRenewOutcome,
  rbac: [
    { apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: ['get', 'list'] },
    { apiGroups: ['cert-manager.io'], resources: ['certificates/status'], verbs: ['patch', 'update'] },
  ],
  destructive: true,
  needsCluster: true,
  example: { names: ['payments-api-tls'] },

  async plan(ctx, params) {
    const namespace = allowedNamespace(ctx);
    if (!ctx.cluster) {
      return {
        summary: `renew the Certificates of ${namespace}/${sourceOf(ctx).service} (${NO_CLUSTER_NOTE})`,
        changes: true,
        data: { namespace, served: null, certificates: [], warnings: [] },
      };
    }
    if (!(await served(ctx.cluster, ctx.signal))) {
      return {
        summary: CERT_API_NOT_SERVED,
        changes: false,
        data: { namespace, served: false, certificates: [], warnings: [] },
      };
    }
    const { found, missing } = await lookupCertificates(ctx, ctx.cluster, namespace, params.names);
    if (missing.length > 0) {
      throw new CodedError(
        'action_failed',
        `${ID}: Certificate ${missing.join(', ')} not found in namespace ${namespace}`,
        { details: { namespace, missing } },
      );
    }
    const certs = found.map(describe);
    const warns = warnings(certs);
    if (certs.length === 0) {
      return {
        summary: `no Certificates found for ${sourceOf(ctx).service} in ${namespace}`,
        changes: false,
        data: { namespace, served: true, certificates: [], warnings: [] },
      };
    }
    const summary = [
      `renew ${plural(certs.length, 'Certificate')} in ${namespace}: ${certs.map((c) => c.name).join(', ')}`,
      ...warns.map((w) => `warning: ${w}`),
    ].join('; ');
    return {
      summary,
      preview: certs
        .map(
          (c) =>
            `- Certificate ${namespace}/${c.name} (secret ${c.secretName ?? '?'}, rotationPolicy ${c.rotationPolicy ?? 'unset'})${c.issuing ? ': already issuing, left alone' : ''}`,
        )
        .join('\n'),
      changes: certs.some((c) => !c.issuing),
      data: { namespace, served: true, certificates: certs, warnings: warns },
    };
  },

  async drift(ctx, plan, params) {
    if (!ctx.cluster) return [];
    const d = plan.data;
    if (d.served === null) return [NOT_READ_DRIFT];
    const servedNow = await served(ctx.cluster, ctx.signal);
    if (servedNow !== d.served) {
      return [servedNow ? 'cert-manager Certificate API now served' : `${CERT_API_NOT_SERVED} any more`];
    }
    if (!servedNow) return [];
    const { found, missing } = await lookupCertificates(ctx, ctx.cluster, d.namespace, params.names);
    const planned = new Map(d.certificates.map((c) => [c.name, c]));
    const out = await versionDrift(
      'Certificate',
      d.certificates.map((c) => ({ name: c.name, uid: c.uid, resource_version: c.resource_version })),
      found,
      {
        detail: (name, obj) => {
          const p = planned.get(name);
          return p ? certChange(p, describe(obj)) : undefined;
        },
      },
    );
    // A named Certificate the plan could not have listed (plan refuses missing names) but is gone now.
    for (const name of missing) {
      if (!planned.has(name)) out.push(`Certificate ${name} gone`);
    }
    return out;
  },

  async apply(ctx, plan) {
    const cluster = requireCluster(ctx, ID);
    const d = plan.data;
    const namespace = plannedNamespace(ctx, d.namespace);
    const outcome: CertManagerRenewOutcome = {
      namespace,
      renewed: [],
      already_issuing: [],
      issuing_since_plan: [],
      reissued_since_plan: [],
      gone: [],
      warnings: d.warnings,
      dry_run: ctx.dryRun,
    };
    if (d.served !== true || d.certificates.length === 0) {
      return {
        status: 'skipped',
        summary: 'no Certificates renewed',
        reason:
          d.served === null
            ? NOT_READ_REASON
            : d.served === false
              ? CERT_API_NOT_SERVED
              : `no Certificates found for ${sourceOf(ctx).service} in ${namespace}`,
        data: outcome,
      };
    }
    const conflicts: string[] = [];
    const now = new Date(ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const planned of d.certificates) {
      if (planned.issuing) {
        outcome.already_issuing.push(planned.name);
        continue;
      }
      const ref = certRef(namespace, planned.name);
      const cert = await cluster.get(ref, { signal: ctx.signal });
      if (!cert) {
        outcome.gone.push(planned.name);
        continue;
      }
      const current = describe(cert);
      if (planned.uid !== '' && current.uid !== planned.uid) {
        conflicts.push(`Certificate ${planned.name} replaced since the plan (new uid)`);
        continue;
      }
      if (current.resource_version !== planned.resource_version) {
        // Not the Certificate that was planned: never patched. Left alone when renewal already happened.
        if (current.issuing) outcome.issuing_since_plan.push(planned.name);
        else if ((current.revision ?? 0) > (planned.revision ?? 0))
          outcome.reissued_since_plan.push(planned.name);
        else {
          conflicts.push(
            `Certificate ${planned.name} changed since the plan (${certChange(planned, current) ?? `resourceVersion ${planned.resource_version} → ${current.resource_version}`})`,
          );
        }
        continue;
      }
      const existing = conditionsOf(cert).filter((c) => c.type !== 'Issuing');
      const condition = {
        type: 'Issuing',
        status: 'True',
        reason: 'ManuallyTriggered',
        message: 'Certificate re-issuance manually triggered',
        lastTransitionTime: now,
        ...(planned.generation !== null ? { observedGeneration: planned.generation } : {}),
      };
      try {
        await cluster.patch(
          ref,
          {
            metadata: { resourceVersion: planned.resource_version },
            status: { conditions: [...existing, condition] },
          },
          'merge',
          { dryRun: ctx.dryRun, signal: ctx.signal, subresource: 'status' },
        );
        outcome.renewed.push(planned.name);
      } catch (err) {
        if (!isConflict(err)) throw err;
        conflicts.push(`Certificate ${planned.name} changed since the plan (conflict on patch)`);
      }
    }
    if (conflicts.length > 0) {
      throw new CodedError(
        'k8s_conflict',
        `${ID}: ${conflicts.join('; ')}: not renewed. Renewed: ${outcome.renewed.join(', ') || '(none)'}; nothing the plan did not list was touched. Plan the step again to see the Certificates as they are now`,
        { details: { ...outcome, conflicts } },
      );
    }
    const resumed = ctx.attempt > 1;
    const parts = [
      outcome.renewed.length > 0
        ? `re-issuance triggered for ${outcome.renewed.join(', ')}`
        : 'nothing triggered',
      ...(outcome.issuing_since_plan.length > 0
        ? [
            resumed
              ? `already issuing ${laterAttempt(ctx)} (triggered before it): ${outcome.issuing_since_plan.join(', ')}`
              : `issuing since the preview, left alone: ${outcome.issuing_since_plan.join(', ')}`,
          ]
        : []),
      ...(outcome.reissued_since_plan.length > 0
        ? [
            resumed
              ? `already re-issued ${laterAttempt(ctx)}: ${outcome.reissued_since_plan.join(', ')}`
              : `re-issued since the preview, left alone: ${outcome.reissued_since_plan.join(', ')}`,
          ]
        : []),
      ...(outcome.already_issuing.length > 0
        ? [`already issuing: ${outcome.already_issuing.join(', ')}`]
        : []),
      ...(outcome.gone.length > 0 ? [`gone since the preview: ${outcome.gone.join(', ')}`] : []),
      ...outcome.warnings.map((w) => `warning: ${w}`),
    ];
    const doneBefore = outcome.issuing_since_plan.length + outcome.reissued_since_plan.length;
    const applied = outcome.renewed.length > 0 || (resumed && doneBefore > 0);
    return {
      status: applied ? 'applied' : 'skipped',
      summary: parts.join('; '),
      ...(applied ? {} : { reason: 'every Certificate is already being issued, re-issued or gone' }),
      data: outcome,
    };
  },
});
