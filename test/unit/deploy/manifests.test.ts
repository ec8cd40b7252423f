import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseConfig, readEnv } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { createRegistry } from '../../../src/main.js';

describe('deploy/rbac.yaml', () => {
  it('grants every verb every registered action declares (and the manifest parses)', async () => {
    const docs = parseAllDocuments(await readFile(join(packageRoot, 'deploy', 'rbac.yaml'), 'utf8')).map(
      (d) => d.toJS(),
    );
    const role = docs.find((d) => d.kind === 'ClusterRole');
    const granted = new Set<string>();
    for (const rule of role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
      for (const g of rule.apiGroups)
        for (const r of rule.resources) for (const v of rule.verbs) granted.add(`${g}/${r}:${v}`);
    }
    const needed = createRegistry()
      .rbac()
      .flatMap((rule) =>
        rule.apiGroups.flatMap((g) => rule.resources.flatMap((r) => rule.verbs.map((v) => `${g}/${r}:${v}`))),
      );
    expect(needed.length).toBeGreaterThan(10);
    expect(needed.filter((n) => !granted.has(n))).toEqual([]);
  });
});

describe('deploy/ manifests', () => {
  it('the example config is a valid config', async () => {
    const file = join(packageRoot, 'deploy', 'config.yaml');
    const config = parseConfig(await readFile(file, 'utf8'), file, join(packageRoot, 'deploy'), readEnv({}));
    expect(config.slack?.incidentChannel).toBe('C0123456');
    expect(config.playbooks).toBe(join(packageRoot, 'playbooks'));
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  (kubectl.error ? it.skip : it)('kubectl kustomize renders them, with the RoleBinding left in prod', () => {
    const out = spawnSync('kubectl', ['kustomize', join(packageRoot, 'deploy')], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS());
    const find = (kind: string) => docs.filter((d) => d.kind === kind);
    expect(find('RoleBinding').map((d) => d.metadata.namespace)).toEqual(['prod']);
    const deployment = find('Deployment')[0];
    const configMap = find('ConfigMap')[0];
    expect(deployment.spec.template.spec.volumes[0].configMap.name).toBe(configMap.metadata.name);
    expect(deployment.spec.template.spec.serviceAccountName).toBe(find('ServiceAccount')[0].metadata.name);
  });
});
