// What a rendered deploy/ grants the bot's ServiceAccount, as `group/resource:verb` keys, split by
// where it applies; and what the actions declare, split the same way.
import type { RbacRule } from '../../../src/actions/define.js';
import { SNAPSHOT_KINDS } from '../../../src/k8s/snapshot-kinds.js';
import type { KubeDoc } from './kustomize.js';

export const BOT = { kind: 'ServiceAccount', name: 'egress-responder', namespace: 'egress-responder' };
export const TARGET_ROLE = 'egress-responder';
export const AGGREGATE_LABEL = 'egress-responder.io/aggregate-to';

interface Rule extends RbacRule {
  resourceNames?: string[];
}

export function ruleKeys(rules: readonly Rule[]): string[] {
  const keys = rules.flatMap((r) =>
    r.apiGroups.flatMap((g) =>
      r.resources.flatMap((res) =>
        r.verbs.map((v) => `${g}/${res}:${v}${r.resourceNames ? `[${[...r.resourceNames].sort()}]` : ''}`),
      ),
    ),
  );
  return [...new Set(keys)].sort();
}

/** Namespaced or cluster-scoped, from the kinds table the snapshot cluster serves (subresources by their parent). */
export function isNamespaced(key: string): boolean {
  const [group, rest] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
  const resource = rest.split(/[/:]/)[0];
  const kind = SNAPSHOT_KINDS.find((k) => k.group === group && k.plural === resource);
  if (!kind) throw new Error(`no scope known for ${key}: add its kind to src/k8s/snapshot-kinds.ts`);
  return kind.namespaced;
}

export interface Grants {
  /** Through the aggregated ClusterRole, in every namespace with a RoleBinding to it. */
  target: string[];
  /** Cluster-wide, through ClusterRoleBindings. */
  cluster: string[];
  /** Through Roles, by namespace. */
  roles: Record<string, string[]>;
  /** Namespaces with a RoleBinding to the target ClusterRole. */
  targetNamespaces: string[];
}

const isBot = (s: { kind: string; name: string; namespace?: string }) =>
  s.kind === BOT.kind && s.name === BOT.name && s.namespace === BOT.namespace;

type Role = KubeDoc & { rules?: Rule[]; aggregationRule?: unknown };
type Binding = KubeDoc & {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace?: string }[];
};

export function grantsOf(docs: readonly KubeDoc[]): Grants {
  const clusterRoles = docs.filter((d) => d.kind === 'ClusterRole') as Role[];
  // What the aggregation controller would put into an aggregated role: the rules of every ClusterRole its selector matches.
  const rulesOf = (role: Role): Rule[] => {
    const selectors = (
      role.aggregationRule as { clusterRoleSelectors?: { matchLabels: Record<string, string> }[] }
    )?.clusterRoleSelectors;
    if (!selectors) return role.rules ?? [];
    return clusterRoles
      .filter((r) =>
        selectors.some((s) => Object.entries(s.matchLabels).every(([k, v]) => r.metadata.labels?.[k] === v)),
      )
      .flatMap((r) => r.rules ?? []);
  };
  const clusterRole = (name: string) => {
    const role = clusterRoles.find((r) => r.metadata.name === name);
    if (!role) throw new Error(`a binding names ClusterRole ${name}, which is not rendered`);
    return role;
  };
  const bindings = (kind: string) =>
    (docs.filter((d) => d.kind === kind) as Binding[]).filter((b) => b.subjects.some(isBot));
  const grants: Grants = { target: [], cluster: [], roles: {}, targetNamespaces: [] };
  const target = clusterRoles.find((r) => r.metadata.name === TARGET_ROLE);
  if (target) grants.target = ruleKeys(rulesOf(target));
  grants.cluster = ruleKeys(
    bindings('ClusterRoleBinding').flatMap((b) => rulesOf(clusterRole(b.roleRef.name))),
  );
  for (const b of bindings('RoleBinding')) {
    const ns = b.metadata.namespace!;
    if (b.roleRef.kind === 'ClusterRole') {
      if (b.roleRef.name !== TARGET_ROLE)
        throw new Error(`RoleBinding ${ns}/${b.metadata.name} binds ${b.roleRef.name}`);
      grants.targetNamespaces.push(ns);
      continue;
    }
    const role = docs.find(
      (d) => d.kind === 'Role' && d.metadata.namespace === ns && d.metadata.name === b.roleRef.name,
    ) as Role | undefined;
    if (!role)
      throw new Error(
        `RoleBinding ${ns}/${b.metadata.name} names Role ${b.roleRef.name}, which is not rendered`,
      );
    grants.roles[ns] = ruleKeys([...(grants.roles[ns] ?? []).map(parseKey), ...(role.rules ?? [])]);
  }
  grants.targetNamespaces.sort();
  return grants;
}

function parseKey(key: string): Rule {
  const m = /^(.*?)\/(.*):(\w+)(?:\[(.*)\])?$/.exec(key)!;
  return {
    apiGroups: [m[1]!],
    resources: [m[2]!],
    verbs: [m[3]!],
    ...(m[4] ? { resourceNames: m[4].split(',') } : {}),
  };
}

/** What `granted` has beyond `expected` and what it lacks. */
export function compareGrants(granted: readonly string[], expected: readonly string[]) {
  return {
    extra: granted.filter((k) => !expected.includes(k)),
    missing: expected.filter((k) => !granted.includes(k)),
  };
}
