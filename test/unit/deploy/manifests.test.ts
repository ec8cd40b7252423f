// deploy/ grants the bot exactly what its actions declare: the base what the default playbook needs,
// each optional component what its own actions need, nothing no action declares. Every component is
// rendered with `kubectl kustomize`, and bindings are resolved the way the API server would (the
// aggregated ClusterRole takes the rules of every ClusterRole its selector matches).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { breakglassRbac } from '../../../src/breakglass/rbac.js';
import { CNP_API, NETPOL_API, ROLEBINDING_API } from '../../../src/breakglass/render.js';
import { packageRoot } from '../../../src/config/paths.js';
import { BreakglassConfig } from '../../../src/config/schema.js';
import { snapshotKind } from '../../../src/k8s/snapshot-kinds.js';
import { createRegistry } from '../../../src/main.js';
import { loadPlaybooks } from '../../../src/playbooks/load.js';
import {
  components,
  compose,
  composeKustomization,
  deployDir,
  hasKubectl,
  type KubeDoc,
  kustomize,
  overlays,
} from './kustomize.js';
import {
  AGGREGATE_LABEL,
  compareGrants,
  grantsOf,
  isNamespaced,
  ruleKeys,
  TARGET_ROLE,
} from './rbac-grants.js';

const registry = createRegistry();
const accessRoles = BreakglassConfig.parse({}).accessRoles;
const declared = (ids: readonly string[]) => ruleKeys(ids.flatMap((id) => registry.require(id).rbac));
const lists = (api: { apiVersion: string; kind: string }) => {
  const k = snapshotKind(api.apiVersion, api.kind)!;
  return `${k.group}/${k.plural}:list`;
};

type Scope = 'target' | 'cluster' | 'mesh';
/**
 * Which actions each component is for, and where its grants apply: `target` through the aggregated
 * ClusterRole in every target namespace (namespaced rules only), `cluster` through a
 * ClusterRoleBinding (cluster-scoped rules only, except the sweep, which is cluster-wide on purpose),
 * `mesh` through Roles in the mesh's namespace. Components not listed grant nothing.
 */
const PARTS: Record<string, { scope: Scope; actions?: string[]; rules?: () => string[] }> = {
  'cni-deny': { scope: 'cluster', actions: ['k8s.deny-egress'] },
  'l7-deny': { scope: 'mesh', actions: ['k8s.l7-deny'] },
  'token-revocation': { scope: 'target', actions: ['k8s.revoke-token-secrets'] },
  'rotation-jobs': { scope: 'target', actions: ['k8s.job'] },
  breakglass: { scope: 'target', rules: () => ruleKeys(breakglassRbac(accessRoles)) },
  // The reconciler's cluster-wide lists of the kinds a grant creates (src/breakglass/reconcile.ts).
  'breakglass-sweep': {
    scope: 'cluster',
    rules: () => [NETPOL_API, ROLEBINDING_API, CNP_API].map(lists).sort(),
  },
};

function expectedOf(part: { scope: Scope; actions?: string[]; rules?: () => string[] }): string[] {
  if (part.rules) return part.rules();
  const keys = declared(part.actions!);
  return part.scope === 'cluster' ? keys.filter((k) => !isNamespaced(k)) : keys.filter(isNamespaced);
}

async function defaultPlaybookActions(): Promise<string[]> {
  const set = await loadPlaybooks(join(packageRoot, 'playbooks'), registry);
  const pb = set.playbooks.find((p) => p.playbook.id === 'egress-anomaly')!.playbook;
  return [...new Set(pb.steps.flatMap((s) => s.actions.map((a) => a.uses)))].sort();
}

// A cluster part takes only the cluster-scoped rules of its actions: their namespaced rules stay in the base.
const owned = new Set(
  Object.values(PARTS)
    .filter((p) => p.scope !== 'cluster')
    .flatMap((p) => p.actions ?? []),
);
/** The base: the default playbook's actions but those a namespaced component is for. */
async function baseActions(): Promise<string[]> {
  return (await defaultPlaybookActions()).filter((id) => !owned.has(id));
}

/** The RBAC objects a render adds over the base render. */
function added(docs: readonly KubeDoc[], base: readonly KubeDoc[]): KubeDoc[] {
  const id = (d: KubeDoc) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`;
  const have = new Set(base.map(id));
  return docs.filter((d) => !have.has(id(d)));
}

/** Where a part's grants show in `grantsOf` of its own objects. */
function grantedIn(scope: Scope, docs: readonly KubeDoc[]): string[] {
  // Its own aggregated ClusterRoles show through a stand-in of the base's aggregating role.
  const aggregator = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: TARGET_ROLE },
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_LABEL]: 'target' } }] },
  } as KubeDoc;
  const g = grantsOf([aggregator, ...docs]);
  if (scope === 'target') return g.target;
  if (scope === 'cluster') return g.cluster;
  return Object.values(g.roles).flat();
}

(hasKubectl ? describe : describe.skip)('deploy/ RBAC against the actions (kubectl kustomize)', () => {
  const base = () => compose(['base']);

  it('lists every component and overlay directory (a new one cannot escape these tests)', () => {
    expect(readdirSync(join(deployDir, 'components')).sort()).toEqual([...components].sort());
    expect(readdirSync(join(deployDir, 'overlays')).sort()).toEqual([...overlays].sort());
  });

  it('the base grants the namespaced rules of the default playbook actions no component is for, bound nowhere', async () => {
    const actions = await baseActions();
    expect(actions).toContain('k8s.quarantine');
    expect(actions).not.toContain('k8s.revoke-token-secrets');
    const g = grantsOf(base());
    expect(compareGrants(g.target, declared(actions).filter(isNamespaced))).toEqual({
      extra: [],
      missing: [],
    });
    expect(g).toMatchObject({ cluster: [], roles: {}, targetNamespaces: [] });
  });

  it.each(components.map((c) => [c]))(
    'component %s grants what its actions declare, where they apply',
    (name) => {
      const before = base();
      const docs = compose(['base'], [`components/${name}`]);
      const mine = added(docs, before);
      // It changes none of the base's RBAC objects.
      const rbacOf = (ds: readonly KubeDoc[]) => ds.filter((d) => d.apiVersion.startsWith('rbac.'));
      expect(rbacOf(docs.filter((d) => !mine.includes(d)))).toEqual(rbacOf(before));
      const part = PARTS[name];
      const all = grantsOf(mine.concat(before));
      if (!part) {
        expect(rbacOf(mine)).toEqual([]);
        return;
      }
      const expected = expectedOf(part);
      expect(expected.length).toBeGreaterThan(0);
      expect(compareGrants(grantedIn(part.scope, mine), expected)).toEqual({ extra: [], missing: [] });
      // And nowhere else: a target part adds no cluster-wide grant, and so on.
      const elsewhere = (['target', 'cluster', 'mesh'] as const).filter((s) => s !== part.scope);
      for (const s of elsewhere) expect([s, grantedIn(s, mine)]).toEqual([s, []]);
      expect(all.targetNamespaces).toEqual([]);
    },
  );

  it('together the base and the components grant every rule any action or break-glass declares', async () => {
    const withRbac = registry
      .list()
      .filter((a) => a.rbac.length > 0)
      .map((a) => a.id);
    const covered = new Set([
      ...(await baseActions()),
      ...Object.values(PARTS).flatMap((p) => p.actions ?? []),
    ]);
    expect(withRbac.filter((id) => !covered.has(id))).toEqual([]);
    const everything = compose(
      ['base'],
      components.map((c) => `components/${c}`),
    );
    const g = grantsOf(everything);
    const granted = new Set([...g.target, ...g.cluster, ...Object.values(g.roles).flat()]);
    const needed = [...ruleKeys(registry.rbac()), ...ruleKeys(breakglassRbac(accessRoles))];
    expect(needed.filter((k) => !granted.has(k))).toEqual([]);
    // Cluster-scoped rules are bound cluster-wide (a RoleBinding would grant nothing for them), but
    // `bind` on a ClusterRole, which the API server checks in the namespace of the RoleBinding being made.
    const namespacedOnly = [...g.target, ...Object.values(g.roles).flat()].filter((k) => !isNamespaced(k));
    expect(namespacedOnly).toEqual([`rbac.authorization.k8s.io/clusterroles:bind[${accessRoles}]`]);
  });

  it('catches a component that grants something no action declares', () => {
    const dir = composeKustomization({ resources: [] });
    mkdirSync(join(dir, 'extra'));
    writeFileSync(
      join(dir, 'extra', 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [role.yaml]\n',
    );
    writeFileSync(
      join(dir, 'extra', 'role.yaml'),
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: egress-responder-extra\n  labels: { ${AGGREGATE_LABEL}: target }\nrules:\n  - { apiGroups: [""], resources: [secrets], verbs: [get, list, delete] }\n`,
    );
    const mine = added(
      kustomize(composeKustomization({ resources: [], components: [join(dir, 'extra')] }, dir)),
      [],
    );
    expect(compareGrants(grantedIn('target', mine), expectedOf(PARTS['token-revocation']!))).toEqual({
      extra: ['/secrets:get'],
      missing: [],
    });
  });

  it.each(overlays.map((o) => [o]))(
    'overlay %s grants exactly its components, in the namespaces its config allows',
    async (name) => {
      const dir = join(deployDir, 'overlays', name);
      const kust = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { components?: string[] };
      const mine = (kust.components ?? []).map((c) => c.replace('../../components/', ''));
      const g = grantsOf(kustomize(dir));
      const parts = mine.map((c) => PARTS[c]).filter((p) => p !== undefined);
      const scoped = (s: Scope) =>
        [...new Set(parts.filter((p) => p.scope === s).flatMap(expectedOf))].sort();
      const baseKeys = declared(await baseActions()).filter(isNamespaced);
      expect(compareGrants(g.target, [...new Set([...baseKeys, ...scoped('target')])])).toEqual({
        extra: [],
        missing: [],
      });
      expect(compareGrants(g.cluster, scoped('cluster'))).toEqual({ extra: [], missing: [] });
      const config = parse(readFileSync(join(dir, 'config.yaml'), 'utf8')) as {
        namespaces: { allow: string[] };
      };
      expect(g.targetNamespaces.length).toBeGreaterThan(0);
      expect(g.targetNamespaces).toEqual([...config.namespaces.allow].sort());
      expect(g.targetNamespaces).not.toContain('prod');
    },
  );

  it('break-glass may bind only the allow-listed ClusterRoles, and ships them with read and exec only', () => {
    const docs = compose(['base'], ['components/breakglass']);
    const bind = grantsOf(docs).target.filter((k) => k.includes(':bind'));
    expect(bind).toEqual([`rbac.authorization.k8s.io/clusterroles:bind[${accessRoles}]`]);
    for (const name of accessRoles) {
      const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === name) as KubeDoc & {
        rules: Parameters<typeof ruleKeys>[0];
      };
      expect(role.metadata.labels?.[AGGREGATE_LABEL]).toBeUndefined(); // the bot itself does not hold it
      expect(ruleKeys(role.rules)).toEqual([
        '/events:list',
        '/pods/exec:create',
        '/pods/log:get',
        '/pods:get',
        '/pods:list',
        'networking.k8s.io/networkpolicies:get',
      ]);
    }
  });

  it("binds the L7 Role where the L7 block writes by default (the action's own defaults)", () => {
    const g = grantsOf(compose(['base'], ['components/l7-deny']));
    const defaults = registry.require('k8s.l7-deny').params.parse({}) as {
      mesh_root_namespace: string;
      egress_gateway: { namespace: string };
    };
    expect(Object.keys(g.roles)).toEqual([
      ...new Set([defaults.mesh_root_namespace, defaults.egress_gateway.namespace]),
    ]);
  });
});
