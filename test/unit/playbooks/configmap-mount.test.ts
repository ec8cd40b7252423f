import { copyFile, mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/config/paths.js';
import { createRegistry } from '../../../src/main.js';
import { loadPlaybooks } from '../../../src/playbooks/load.js';

// The layout the kubelet writes for a ConfigMap volume: the files live in a timestamped hidden
// directory, `..data` links to it, and each key is a symlink through `..data`.
async function configMapVolume(files: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-volume-'));
  const stamp = '..2026_12_03_08_00_00.000000001';
  await mkdir(join(dir, stamp));
  for (const file of files) await copyFile(file, join(dir, stamp, file.split('/').pop()!));
  await symlink(stamp, join(dir, '..data'));
  for (const file of files) {
    const name = file.split('/').pop()!;
    await symlink(join('..data', name), join(dir, name));
  }
  return dir;
}

describe('loadPlaybooks on a ConfigMap volume', () => {
  it('loads the playbooks behind the symlinks once each, and nothing from the hidden directories', async () => {
    const dir = await configMapVolume([join(packageRoot, 'playbooks', 'egress-anomaly.yaml')]);
    const set = await loadPlaybooks(dir, createRegistry());
    expect(set.errors.map((e) => e.message)).toEqual([]);
    expect(set.playbooks.map((p) => p.playbook.id)).toEqual(['egress-anomaly']);
  });
});
