import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
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
