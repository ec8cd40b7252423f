// The kinds a cluster snapshot holds, as discovery would describe them: what `kubectl get … -o yaml`
// prints for the built-in kinds the actions read, plus the policy CRDs that change what containment
// means (Istio, Cilium, AdminNetworkPolicy) and cert-manager's Certificates. Built-in kinds are always
// served; a custom kind is served only when the snapshot holds an object of its group.

export interface SnapshotKind {
  group: string;
  /** The versions served; the first is the storage version objects are kept in. */
  versions: readonly string[];
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Built-in: served whatever the snapshot holds, and strategic merge patches apply. */
  builtin: boolean;
  /** A status subresource: writes to the object keep its status, `/status` writes change only it. */
  status?: boolean;
  /** Field selectors it supports besides metadata.name and metadata.namespace. */
  fields?: readonly string[];
}

const POD_FIELDS = [
  'spec.serviceAccountName',
  'spec.nodeName',
  'spec.restartPolicy',
  'status.phase',
  'status.podIP',
];
const EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

const core = (kind: string, plural: string, more: Partial<SnapshotKind> = {}): SnapshotKind => ({
  group: '',
  versions: ['v1'],
  kind,
  plural,
  namespaced: true,
  builtin: true,
  ...more,
});
const builtin = (group: string, kind: string, plural: string, more: Partial<SnapshotKind> = {}) => ({
  ...core(kind, plural, more),
  group,
});
const crd = (group: string, versions: string[], kind: string, plural: string, namespaced = true) => ({
  group,
  versions,
  kind,
  plural,
  namespaced,
  builtin: false,
});

export const SNAPSHOT_KINDS: readonly SnapshotKind[] = [
  core('Namespace', 'namespaces', { namespaced: false, status: true, fields: ['status.phase'] }),
  core('Pod', 'pods', { status: true, fields: POD_FIELDS }),
  core('Service', 'services', { status: true }),
  core('Endpoints', 'endpoints'),
  core('Secret', 'secrets', { fields: ['type'] }),
  core('ConfigMap', 'configmaps'),
  core('ServiceAccount', 'serviceaccounts'),
  core('Event', 'events', { fields: EVENT_FIELDS }),
  core('PersistentVolumeClaim', 'persistentvolumeclaims', { status: true }),
  core('Node', 'nodes', { namespaced: false, status: true }),
  builtin('apps', 'Deployment', 'deployments', { status: true }),
  builtin('apps', 'ReplicaSet', 'replicasets', { status: true }),
  builtin('apps', 'StatefulSet', 'statefulsets', { status: true }),
  builtin('apps', 'DaemonSet', 'daemonsets', { status: true }),
  builtin('batch', 'Job', 'jobs', { status: true, fields: ['status.successful'] }),
  builtin('batch', 'CronJob', 'cronjobs', { status: true }),
  builtin('networking.k8s.io', 'NetworkPolicy', 'networkpolicies'),
  builtin('networking.k8s.io', 'Ingress', 'ingresses', { status: true }),
  builtin('autoscaling', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', {
    versions: ['v2', 'v1'],
    status: true,
  }),
  builtin('policy', 'PodDisruptionBudget', 'poddisruptionbudgets', { status: true }),
  builtin('rbac.authorization.k8s.io', 'Role', 'roles'),
  builtin('rbac.authorization.k8s.io', 'RoleBinding', 'rolebindings'),
  builtin('rbac.authorization.k8s.io', 'ClusterRole', 'clusterroles', { namespaced: false }),
  builtin('rbac.authorization.k8s.io', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
  crd('security.istio.io', ['v1', 'v1beta1'], 'AuthorizationPolicy', 'authorizationpolicies'),
  crd('security.istio.io', ['v1', 'v1beta1'], 'PeerAuthentication', 'peerauthentications'),
  crd('cilium.io', ['v2'], 'CiliumNetworkPolicy', 'ciliumnetworkpolicies'),
  crd('cilium.io', ['v2'], 'CiliumClusterwideNetworkPolicy', 'ciliumclusterwidenetworkpolicies', false),
  crd('policy.networking.k8s.io', ['v1alpha1'], 'AdminNetworkPolicy', 'adminnetworkpolicies', false),
  crd('cert-manager.io', ['v1'], 'Certificate', 'certificates'),
];

/** `apps/v1` → apps, v1; `v1` → '', v1. */
function split(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash === -1
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The kind of `apiVersion` + `kind`, when a snapshot can hold it (any served version). */
export function snapshotKind(apiVersion: string, kind: string): SnapshotKind | undefined {
  const { group, version } = split(apiVersion);
  return SNAPSHOT_KINDS.find((k) => k.group === group && k.kind === kind && k.versions.includes(version));
}

/** The kind served as `resource` (plural) in `group/version`. */
export function kindByResource(group: string, version: string, resource: string): SnapshotKind | undefined {
  return SNAPSHOT_KINDS.find(
    (k) => k.group === group && k.plural === resource && k.versions.includes(version),
  );
}

/** `group/version` of a kind's storage version. */
export function storageVersion(k: SnapshotKind): string {
  return k.group === '' ? k.versions[0]! : `${k.group}/${k.versions[0]}`;
}

/** The field selectors a kind takes. */
export function fieldsOf(k: SnapshotKind): string[] {
  return ['metadata.name', 'metadata.namespace', ...(k.fields ?? [])];
}

/** `Deployment (apps/v1), …`: what the snapshot accepts, for error messages. */
export function describeKinds(): string {
  return SNAPSHOT_KINDS.map((k) => k.kind).join(', ');
}
