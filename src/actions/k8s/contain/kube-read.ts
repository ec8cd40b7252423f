import { z } from 'zod';
import { kubeObject, readObject, StringMap } from '../kube-schema.js';
import { type NetworkPolicy, NetworkPolicySchema } from '../netpol-types.js';

// The boundary where containment reads what the cluster sent: pods and NetworkPolicies through
// schemas that read null as absent (kube-schema.ts), so the analysis past here never meets a null,
// and an object it cannot read is a k8s_invalid naming the object and the field.

const OwnerReferenceSchema = kubeObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string().optional(),
  controller: z.boolean().optional(),
});
export type OwnerReference = z.output<typeof OwnerReferenceSchema>;

const ObjectMetaSchema = kubeObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
  ownerReferences: z.array(OwnerReferenceSchema).optional(),
});

/** The object kinds containment reads for their metadata only (ReplicaSet, Job: their owners). */
export const MetaOnlySchema = kubeObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: ObjectMetaSchema.default({}),
});
export type MetaOnly = z.output<typeof MetaOnlySchema>;

export const PodSchema = kubeObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: ObjectMetaSchema.default({}),
  spec: kubeObject({ serviceAccountName: z.string().optional() }).optional(),
});
export type PodRead = z.output<typeof PodSchema>;

const nameOf = (raw: unknown, key: 'name' | 'namespace'): string | undefined => {
  const meta = (raw as { metadata?: Record<string, unknown> } | null)?.metadata;
  const v = meta?.[key];
  return typeof v === 'string' ? v : undefined;
};

/** A pod as sent by the API server, nulls read as absent. */
export function readPod(raw: unknown): PodRead {
  return readObject(PodSchema, raw, {
    kind: 'Pod',
    namespace: nameOf(raw, 'namespace'),
    name: nameOf(raw, 'name'),
  });
}

/** Any object whose metadata is all we need (owners of pods). */
export function readMeta(raw: unknown, kind: string): MetaOnly {
  return readObject(MetaOnlySchema, raw, {
    kind,
    namespace: nameOf(raw, 'namespace'),
    name: nameOf(raw, 'name'),
  });
}

/**
 * A NetworkPolicy as the pure analysis reads it: name and namespace always there (list items of a
 * namespace may leave the namespace out), every null read as absent.
 */
export function readNetworkPolicy(raw: unknown, namespace: string): NetworkPolicy {
  const name = nameOf(raw, 'name');
  const ns = nameOf(raw, 'namespace') ?? namespace;
  const obj = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const meta = obj.metadata !== null && typeof obj.metadata === 'object' ? obj.metadata : {};
  return readObject(
    NetworkPolicySchema,
    { ...obj, metadata: { ...meta, name: name ?? '', namespace: ns } },
    { kind: 'NetworkPolicy', namespace: ns, name },
  );
}
