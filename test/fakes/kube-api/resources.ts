// The resources the fake API server serves, as discovery would describe them.

/** Optional API groups a test can switch on ("is Istio installed?"). */
export type FakeExtension = 'istio' | 'adminnetworkpolicy' | 'cilium' | 'cert-manager';

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Real status subresource: main-resource writes keep the stored status; /status writes change only it. */
  statusSubresource?: boolean;
  /** Only `create` (SelfSubjectAccessReview). */
  createOnly?: boolean;
  /** Built-in types: list items are sent without apiVersion/kind, as the real server does. */
  builtin: boolean;
  /** Served only when this extension is on. */
  extension?: FakeExtension;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function def(
  d: Omit<ResourceDef, 'singular' | 'builtin'> & { singular?: string; builtin?: boolean },
): ResourceDef {
  return {
    ...d,
    singular: d.singular ?? d.kind.toLowerCase(),
    builtin: d.builtin ?? d.extension === undefined,
  };
}

export const RESOURCES: readonly ResourceDef[] = [
  def({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    shortNames: ['po'],
    statusSubresource: true,
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    shortNames: ['svc'],
  }),
  def({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true }),
  def({ group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] }),
  def({
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespaced: true,
    shortNames: ['sa'],
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    shortNames: ['cm'],
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    statusSubresource: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    statusSubresource: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    statusSubresource: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    statusSubresource: true,
  }),
  def({
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    namespaced: true,
    statusSubresource: true,
  }),
  def({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    shortNames: ['netpol'],
  }),
  // RBAC, for break-glass access elevations (RoleBindings to an allow-listed ClusterRole).
  def({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'RoleBinding',
    plural: 'rolebindings',
    namespaced: true,
  }),
  def({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRole',
    plural: 'clusterroles',
    namespaced: false,
  }),
  def({
    group: 'authorization.k8s.io',
    version: 'v1',
    kind: 'SelfSubjectAccessReview',
    plural: 'selfsubjectaccessreviews',
    namespaced: false,
    createOnly: true,
  }),
  def({
    group: 'security.istio.io',
    version: 'v1',
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    namespaced: true,
    extension: 'istio',
  }),
  def({
    group: 'policy.networking.k8s.io',
    version: 'v1alpha1',
    kind: 'AdminNetworkPolicy',
    plural: 'adminnetworkpolicies',
    namespaced: false,
    shortNames: ['anp'],
    statusSubresource: true,
    extension: 'adminnetworkpolicy',
  }),
  def({
    group: 'cilium.io',
    version: 'v2',
    kind: 'CiliumNetworkPolicy',
    plural: 'ciliumnetworkpolicies',
    namespaced: true,
    shortNames: ['cnp'],
    extension: 'cilium',
  }),
  def({
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'Certificate',
    plural: 'certificates',
    namespaced: true,
    shortNames: ['cert'],
    statusSubresource: true,
    extension: 'cert-manager',
  }),
];

export function groupVersion(d: Pick<ResourceDef, 'group' | 'version'>): string {
  return d.group === '' ? d.version : `${d.group}/${d.version}`;
}

export function verbsOf(d: ResourceDef): string[] {
  return d.createOnly ? ['create'] : ALL_VERBS;
}

/** Find a definition by `Kind`, `plural`, `group/version/Kind` or `apiVersion` + kind. */
export function findResource(type: string, apiVersion?: string): ResourceDef | undefined {
  if (apiVersion !== undefined) {
    return RESOURCES.find((r) => groupVersion(r) === apiVersion && (r.kind === type || r.plural === type));
  }
  const slash = type.lastIndexOf('/');
  if (slash > 0) return findResource(type.slice(slash + 1), type.slice(0, slash));
  return RESOURCES.find((r) => r.kind === type || r.plural === type || r.singular === type);
}
