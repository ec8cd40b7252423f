import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { breakglassRbac } from '../../../src/breakglass/rbac.js';
import { parseConfig, readEnv } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { BreakglassConfig } from '../../../src/config/schema.js';
import { createRegistry } from '../../../src/main.js';

describe('deploy/rbac.yaml', () => {
  it('grants every verb every registered action declares (and the manifest parses)', async () => {
    const docs = parseAllDocuments(await readFile(join(packageRoot, 'deploy', 'rbac.yaml'), 'utf8')).map(
      (d) => d.toJS(),
    );
    const granted = grants(
      docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'egress-responder'),
    );
    const needed = createRegistry()
      .rbac()
      .flatMap((rule) =>
        rule.apiGroups.flatMap((g) => rule.resources.flatMap((r) => rule.verbs.map((v) => `${g}/${r}:${v}`))),
      );
    expect(needed.length).toBeGreaterThan(10);
    expect(needed.filter((n) => !granted.has(n))).toEqual([]);
  });

  it('grants every rule break-glass declares, `bind` only on the allow-listed ClusterRoles, and ships the forensics role', async () => {
    const docs = parseAllDocuments(await readFile(join(packageRoot, 'deploy', 'rbac.yaml'), 'utf8')).map(
      (d) => d.toJS(),
    );
    const role = (name: string) => docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === name);
    const bot = role('egress-responder');
    const granted = grants(bot);
    const file = join(packageRoot, 'deploy', 'config.yaml');
    const shipped = parseConfig(await readFile(file, 'utf8'), file, join(packageRoot, 'deploy'), readEnv({}));
    const accessRoles = shipped.breakglass.accessRoles;
    expect(accessRoles).toEqual(BreakglassConfig.parse({}).accessRoles);
    const rules = breakglassRbac(accessRoles);
    const plain = rules.filter((r) => !r.resourceNames);
    const needed = plain.flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))),
    );
    expect(needed).toContain('rbac.authorization.k8s.io/rolebindings:create');
    expect(needed).toContain('networking.k8s.io/networkpolicies:delete');
    expect(needed.filter((n) => !granted.has(n))).toEqual([]);
    // bind: exactly the allow-list, never every ClusterRole (the bot could then grant cluster-admin).
    const bind = bot.rules.filter((r: { verbs: string[] }) => r.verbs.includes('bind'));
    expect(bind).toEqual([
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['clusterroles'],
        verbs: ['bind'],
        resourceNames: rules.find((r) => r.resourceNames)!.resourceNames,
      },
    ]);
    // Every allow-listed role ships, with what an investigator needs and nothing that writes.
    for (const name of accessRoles) expect(role(name)).toBeDefined();
    expect([...grants(role('egress-responder-forensics'))].sort()).toEqual([
      '/events:list',
      '/pods/exec:create',
      '/pods/log:get',
      '/pods:get',
      '/pods:list',
      'networking.k8s.io/networkpolicies:get',
    ]);
    // The optional cluster-wide sweep lists every kind the reconciler looks for.
    expect([...grants(role('egress-responder-breakglass-sweep'))].sort()).toEqual([
      'cilium.io/ciliumnetworkpolicies:list',
      'networking.k8s.io/networkpolicies:list',
      'rbac.authorization.k8s.io/rolebindings:list',
    ]);
  });

  it('binds the L7 Role where the L7 block writes by default, with every verb that action declares', async () => {
    const docs = parseAllDocuments(await readFile(join(packageRoot, 'deploy', 'rbac.yaml'), 'utf8')).map(
      (d) => d.toJS(),
    );
    const role = docs.find((d) => d.kind === 'Role' && d.metadata.name === 'egress-responder-l7');
    const binding = docs.find((d) => d.kind === 'RoleBinding' && d.roleRef.name === 'egress-responder-l7');
    const l7 = createRegistry().get('k8s.l7-deny')!;
    const defaults = l7.params.parse({}) as {
      mesh_root_namespace: string;
      egress_gateway: { namespace: string };
    };
    expect(role.metadata.namespace).toBe(defaults.mesh_root_namespace);
    expect(defaults.egress_gateway.namespace).toBe(role.metadata.namespace);
    expect(binding.metadata.namespace).toBe(role.metadata.namespace);
    const granted = grants(role);
    const needed = l7.rbac.flatMap((rule) =>
      rule.apiGroups.flatMap((g) => rule.resources.flatMap((r) => rule.verbs.map((v) => `${g}/${r}:${v}`))),
    );
    expect(needed.filter((n) => !granted.has(n))).toEqual([]);
  });
});

function grants(role: {
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}): Set<string> {
  const granted = new Set<string>();
  for (const rule of role.rules) {
    for (const g of rule.apiGroups)
      for (const r of rule.resources) for (const v of rule.verbs) granted.add(`${g}/${r}:${v}`);
  }
  return granted;
}

describe('deploy/ manifests', () => {
  it('the example config is a valid config', async () => {
    const file = join(packageRoot, 'deploy', 'config.yaml');
    const config = parseConfig(await readFile(file, 'utf8'), file, join(packageRoot, 'deploy'), readEnv({}));
    expect(config.slack?.incidentChannel).toBe('C0123456');
    expect(config.playbooks).toBe(join(packageRoot, 'playbooks'));
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  (kubectl.error ? it.skip : it)(
    'kubectl kustomize renders them, with the RoleBindings left in the namespaces they grant',
    () => {
      const out = spawnSync('kubectl', ['kustomize', join(packageRoot, 'deploy')], { encoding: 'utf8' });
      expect(out.stderr).toBe('');
      const docs = parseAllDocuments(out.stdout).map((d) => d.toJS());
      const find = (kind: string) => docs.filter((d) => d.kind === kind);
      expect(
        find('RoleBinding')
          .map((d) => d.metadata.namespace)
          .sort(),
      ).toEqual(['istio-system', 'prod']);
      const deployment = find('Deployment')[0];
      const configMap = find('ConfigMap')[0];
      expect(deployment.spec.template.spec.volumes[0].configMap.name).toBe(configMap.metadata.name);
      expect(deployment.spec.template.spec.serviceAccountName).toBe(find('ServiceAccount')[0].metadata.name);
    },
  );
});
