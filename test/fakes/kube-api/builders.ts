// Seeding helpers: a Deployment with its ReplicaSet and Pods linked by ownerReferences (pod → RS →
// Deployment), so an owner lookup can be exercised, plus single objects with sensible defaults.
import type { JsonObject } from './patch.js';
import type { FakeKubeApi } from './server.js';

export interface SeededWorkload {
  deployment: JsonObject;
  replicaSet: JsonObject;
  pods: JsonObject[];
}

function ownerRef(o: JsonObject): JsonObject {
  const m = o.metadata as JsonObject;
  return {
    apiVersion: o.apiVersion as string,
    kind: o.kind as string,
    name: m.name as string,
    uid: m.uid as string,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** A pod spec with one container; `labels` also go on the pod template. */
export function aPod(opts: {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  serviceAccountName?: string;
  phase?: string;
  podIP?: string;
  nodeName?: string;
  ownerReferences?: JsonObject[];
  annotations?: Record<string, string>;
}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: opts.namespace,
      name: opts.name,
      labels: { ...(opts.labels ?? {}) },
      ...(opts.annotations ? { annotations: { ...opts.annotations } } : {}),
      ...(opts.ownerReferences ? { ownerReferences: opts.ownerReferences } : {}),
    },
    spec: {
      serviceAccountName: opts.serviceAccountName ?? 'default',
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      containers: [
        { name: 'app', image: 'registry.example/app:1.0', ports: [{ containerPort: 8080, protocol: 'TCP' }] },
      ],
    },
    status: { phase: opts.phase ?? 'Running', ...(opts.podIP ? { podIP: opts.podIP } : {}) },
  };
}

/**
 * Seed a Deployment `name` with a ReplicaSet `name-<hash>` and `replicas` Running pods `name-<hash>-<n>`,
 * each pod labelled `labels` (default `app=<name>`) and owned by the ReplicaSet, which the Deployment owns.
 */
export function seedDeployment(
  fake: FakeKubeApi,
  opts: {
    namespace: string;
    name: string;
    replicas?: number;
    labels?: Record<string, string>;
    serviceAccountName?: string;
    hash?: string;
  },
): SeededWorkload {
  const labels = opts.labels ?? { app: opts.name };
  const replicas = opts.replicas ?? 2;
  const hash = opts.hash ?? '5d8f7c9b6';
  const sa = opts.serviceAccountName ?? opts.name;
  const template = {
    metadata: { labels },
    spec: { serviceAccountName: sa, containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
  };
  const deployment = fake.put({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { namespace: opts.namespace, name: opts.name, labels },
    spec: { replicas, selector: { matchLabels: labels }, template },
    status: { replicas, readyReplicas: replicas, observedGeneration: 1 },
  });
  const replicaSet = fake.put({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      namespace: opts.namespace,
      name: `${opts.name}-${hash}`,
      labels: { ...labels, 'pod-template-hash': hash },
      ownerReferences: [ownerRef(deployment)],
    },
    spec: {
      replicas,
      selector: { matchLabels: { ...labels, 'pod-template-hash': hash } },
      template: { ...template, metadata: { labels: { ...labels, 'pod-template-hash': hash } } },
    },
    status: { replicas },
  });
  const pods: JsonObject[] = [];
  for (let i = 0; i < replicas; i++) {
    pods.push(
      fake.put(
        aPod({
          namespace: opts.namespace,
          name: `${opts.name}-${hash}-${String.fromCharCode(97 + i)}${i}x${i}`,
          labels: { ...labels, 'pod-template-hash': hash },
          serviceAccountName: sa,
          podIP: `10.0.0.${10 + i}`,
          ownerReferences: [ownerRef(replicaSet)],
        }),
      ),
    );
  }
  return { deployment, replicaSet, pods };
}

/** `ownerReferences` entry pointing at a seeded object. */
export function ownerReferenceTo(o: JsonObject): JsonObject {
  return ownerRef(o);
}

/**
 * A Deployment alone, for a fake started with `controllers: true`: put it, then `fake.reconcile()`
 * makes its ReplicaSet and pods the way the real controllers would.
 */
export function aDeployment(opts: {
  namespace: string;
  name: string;
  replicas?: number;
  labels?: Record<string, string>;
  serviceAccountName?: string;
}): JsonObject {
  const labels = opts.labels ?? { app: opts.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { namespace: opts.namespace, name: opts.name, labels },
    spec: {
      replicas: opts.replicas ?? 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: opts.serviceAccountName ?? opts.name,
          containers: [{ name: 'app', image: 'registry.example/app:1.0' }],
        },
      },
    },
  };
}

/** A StatefulSet alone (pods `<name>-0` …), for a fake started with `controllers: true`. */
export function aStatefulSet(opts: {
  namespace: string;
  name: string;
  replicas?: number;
  labels?: Record<string, string>;
}): JsonObject {
  const labels = opts.labels ?? { app: opts.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { namespace: opts.namespace, name: opts.name, labels },
    spec: {
      replicas: opts.replicas ?? 2,
      serviceName: opts.name,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
      },
    },
  };
}
