// What break-glass needs of the cluster, as data next to the code that needs it: deploy/components/breakglass
// grants exactly this (test/unit/deploy/manifests.test.ts). Apply is server-side apply (patch, which
// creates), removal is delete, verification and the reconciler get and list.

export interface BreakglassRbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** Only these objects (the `bind` rule: only the allow-listed ClusterRoles). */
  resourceNames?: string[];
}

const WRITE = ['create', 'delete', 'get', 'list', 'patch'];

export function breakglassRbac(accessRoles: readonly string[]): BreakglassRbacRule[] {
  return [
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: WRITE },
    { apiGroups: ['cilium.io'], resources: ['ciliumnetworkpolicies'], verbs: WRITE },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: WRITE },
    // The preflight and the verification list the source pods.
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    // The API server refuses a RoleBinding to a role the bot does not itself hold, unless the bot may
    // `bind` that role: granted for the allow-listed ClusterRoles only, so nothing else can be bound.
    {
      apiGroups: ['rbac.authorization.k8s.io'],
      resources: ['clusterroles'],
      verbs: ['bind'],
      resourceNames: [...accessRoles],
    },
  ];
}
