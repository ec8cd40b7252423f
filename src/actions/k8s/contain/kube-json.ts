import { z } from 'zod';
import type { KubeObject } from '../../../k8s/types.js';
import { kubeObject } from '../kube-schema.js';

// Kubernetes objects as they are kept in plans and outcomes (JSON, every field the API server sent),
// decoded with a schema when read back instead of cast. Metadata reads null as absent (the API
// server may send `labels: null`); the rest is kept exactly as sent, to be restored as it was.

const Meta = kubeObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const KubeObjectJson = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: Meta,
});

/** An object read from the API server or rendered by us, as plain JSON fit for a plan. */
export function asKubeJson(obj: KubeObject | object): z.output<typeof KubeObjectJson> {
  return KubeObjectJson.parse(JSON.parse(JSON.stringify(obj)));
}

const Requirement = z.strictObject({
  key: z.string(),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});
export const LabelSelectorJson = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(Requirement).optional(),
});
