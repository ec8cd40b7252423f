/**
 * # certmanager.renew: trigger re-issuance of the workload's cert-manager Certificates
 *
 * Like `cmctl renew`: sets the `Issuing` condition (status True, reason `ManuallyTriggered`) on each
 * Certificate's status subresource, which makes cert-manager issue a new certificate now. A
 * Certificate already issuing is left alone. The plan warns for each Certificate whose
 * `spec.privateKey.rotationPolicy` is not `Always`: the private key would not change, only the
 * certificate. Skipped where the cert-manager Certificate API is not served. No revert.
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
import { type ActionContext, defineAction, type Outcome, type Plan } from '../define.js';
import { allowedNamespace, NO_CLUSTER_NOTE, plural, record, requireCluster, sourceOf } from './k8s-common.js';

export const CERT_API_NOT_SERVED = 'cert-manager Certificate API not served';
export const KEY_NOT_ROTATED = 'the private key would not change';

export const CertManagerRenewParams = z.strictObject({
  /** Certificate names; default: those whose name or spec.secretName contains the service, or labelled app=<service>. */
  names: z.array(z.string().min(1).max(253)).min(1).optional(),
});
export type CertManagerRenewParams = z.output<typeof CertManagerRenewParams>;

interface CertInfo {
  name: string;
  secretName: string | null;
  rotationPolicy: string | null;
  issuing: boolean;
}

function describe(cert: KubeObject): CertInfo {
  const spec = record(cert.spec);
  const policy = record(spec.privateKey).rotationPolicy;
  const conditions = Array.isArray(record(cert.status).conditions)
    ? (record(cert.status).conditions as unknown[]).map(record)
    : [];
  return {
    name: cert.metadata.name ?? '',
    secretName: typeof spec.secretName === 'string' ? spec.secretName : null,
    rotationPolicy: typeof policy === 'string' ? policy : null,
    issuing: conditions.some((c) => c.type === 'Issuing' && c.status === 'True'),
  };
}

function certRef(namespace: string, name: string) {
  return { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace, name };
}

async function served(cluster: Cluster, signal: AbortSignal): Promise<boolean> {
  return cluster.serves('cert-manager.io', 'v1', 'certificates', { signal });
}

async function findCertificates(
  ctx: ActionContext,
  cluster: Cluster,
  namespace: string,
  names: string[] | undefined,
): Promise<KubeObject[]> {
  if (names) {
    const found: KubeObject[] = [];
    const missing: string[] = [];
    for (const name of names) {
      const c = await cluster.get(certRef(namespace, name), { signal: ctx.signal });
      if (c) found.push(c);
      else missing.push(name);
    }
    if (missing.length > 0) {
      throw new CodedError(
        'action_failed',
        `certmanager.renew: Certificate ${missing.join(', ')} not found in namespace ${namespace}`,
        { details: { namespace, missing } },
      );
    }
    return found;
  }
  const { service } = sourceOf(ctx);
  const all = await cluster.list('cert-manager.io/v1', 'Certificate', namespace, { signal: ctx.signal });
  return all
    .filter((c) => {
      const secretName = record(c.spec).secretName;
      return (
        (c.metadata.name ?? '').includes(service) ||
        (typeof secretName === 'string' && secretName.includes(service)) ||
        c.metadata.labels?.app === service
      );
    })
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

function warnings(certs: CertInfo[]): string[] {
  return certs
    .filter((c) => c.rotationPolicy !== 'Always')
    .map(
      (c) =>
        `Certificate ${c.name}: privateKey.rotationPolicy is ${c.rotationPolicy ?? 'unset (Never)'}: ${KEY_NOT_ROTATED}`,
    );
}

export const certManagerRenew = defineAction({
  id: 'certmanager.renew',
  description:
    "Trigger re-issuance of the source service's cert-manager Certificates like `cmctl renew` (Issuing condition on the status subresource); warns when privateKey.rotationPolicy is not Always; skipped where cert-manager is not installed",
  params: CertManagerRenewParams,
  rbac: [
    { apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: ['get', 'list'] },
    { apiGroups: ['cert-manager.io'], resources: ['certificates/status'], verbs: ['patch', 'update'] },
  ],
  destructive: true,
  needsCluster: true,
  example: { names: ['payments-api-tls'] },

  async plan(ctx, params): Promise<Plan> {
    const namespace = allowedNamespace(ctx);
    if (!ctx.cluster) {
      return {
        summary: `renew the Certificates of ${namespace}/${sourceOf(ctx).service} (${NO_CLUSTER_NOTE})`,
        changes: true,
        data: { namespace, served: null, certificates: [] },
      };
    }
    if (!(await served(ctx.cluster, ctx.signal))) {
      return {
        summary: CERT_API_NOT_SERVED,
        changes: false,
        data: { namespace, served: false, certificates: [] },
      };
    }
    const certs = (await findCertificates(ctx, ctx.cluster, namespace, params.names)).map(describe);
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
      data: {
        namespace,
        served: true,
        certificates: certs.map((c) => ({ ...c })),
        warnings: warns,
      },
    };
  },

  async apply(ctx, _plan, params): Promise<Outcome> {
    const cluster = requireCluster(ctx, 'certmanager.renew');
    const namespace = allowedNamespace(ctx);
    if (!(await served(cluster, ctx.signal))) {
      return {
        status: 'skipped',
        summary: 'no Certificates renewed',
        reason: CERT_API_NOT_SERVED,
        data: { namespace },
      };
    }
    const certs = await findCertificates(ctx, cluster, namespace, params.names);
    if (certs.length === 0) {
      return {
        status: 'skipped',
        summary: 'no Certificates renewed',
        reason: `no Certificates found for ${sourceOf(ctx).service} in ${namespace}`,
        data: { namespace },
      };
    }
    const renewed: string[] = [];
    const alreadyIssuing: string[] = [];
    const now = new Date(ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const cert of certs) {
      const info = describe(cert);
      if (info.issuing) {
        alreadyIssuing.push(info.name);
        continue;
      }
      const existing = Array.isArray(record(cert.status).conditions)
        ? (record(cert.status).conditions as unknown[]).filter((c) => record(c).type !== 'Issuing')
        : [];
      const condition = {
        type: 'Issuing',
        status: 'True',
        reason: 'ManuallyTriggered',
        message: 'Certificate re-issuance manually triggered',
        lastTransitionTime: now,
        ...(typeof cert.metadata.generation === 'number'
          ? { observedGeneration: cert.metadata.generation }
          : {}),
      };
      await cluster.patch(
        certRef(namespace, info.name),
        { status: { conditions: [...existing, condition] } },
        'merge',
        { dryRun: ctx.dryRun, signal: ctx.signal, subresource: 'status' },
      );
      renewed.push(info.name);
    }
    const warns = warnings(certs.map(describe));
    const parts = [
      renewed.length > 0 ? `re-issuance triggered for ${renewed.join(', ')}` : 'nothing triggered',
      ...(alreadyIssuing.length > 0 ? [`already issuing: ${alreadyIssuing.join(', ')}`] : []),
      ...warns.map((w) => `warning: ${w}`),
    ];
    return {
      status: renewed.length > 0 ? 'applied' : 'skipped',
      summary: parts.join('; '),
      ...(renewed.length === 0 ? { reason: 'every Certificate is already being issued' } : {}),
      data: { namespace, renewed, already_issuing: alreadyIssuing, warnings: warns, dry_run: ctx.dryRun },
    };
  },
});
