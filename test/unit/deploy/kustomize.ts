// Render deploy/ the way an operator does: `kubectl kustomize` on an overlay, or on a throwaway
// kustomization (in a temp directory) that names the base and some components.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../../src/config/paths.js';

export const deployDir = join(packageRoot, 'deploy');

export interface KubeDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export const hasKubectl = !spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).error;
// Loud where the renders cannot run: those tests are skipped, not passed.
if (!hasKubectl) console.warn('kubectl not found: the deploy/ render tests are skipped (install kubectl)');

/** `kubectl kustomize dir`, parsed; throws with kubectl's own words when it fails. */
export function kustomize(dir: string): KubeDoc[] {
  const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (out.status !== 0 || out.stderr) throw new Error(`kubectl kustomize ${dir}: ${out.stderr}`);
  return parseAllDocuments(out.stdout).map((d) => d.toJS() as KubeDoc);
}

/**
 * A kustomization of `resources` and `components` (paths under deploy/, e.g. `base`,
 * `components/redis`, or absolute) written to a temp directory; kustomize loads them by relative path, as an
 * operator's own overlay outside this repository would.
 */
export function composeKustomization(
  spec: { resources: string[]; components?: string[]; extra?: string },
  dir = mkdtempSync(join(tmpdir(), 'kustomize-')),
): string {
  const rel = (p: string) => relative(dir, isAbsolute(p) ? p : join(deployDir, p));
  const text = [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `resources: ${JSON.stringify(spec.resources.map(rel))}`,
    `components: ${JSON.stringify((spec.components ?? []).map(rel))}`,
    spec.extra ?? '',
  ].join('\n');
  writeFileSync(join(dir, 'kustomization.yaml'), `${text}\n`);
  return dir;
}

export function compose(resources: string[], components: string[] = []): KubeDoc[] {
  return kustomize(composeKustomization({ resources, components }));
}

export const overlays = ['trial', 'production'] as const;
export const components = [
  'redis',
  'ingress',
  'socket-mode',
  'cni-deny',
  'l7-deny',
  'token-revocation',
  'rotation-jobs',
  'breakglass',
  'breakglass-sweep',
  'servicemonitor',
] as const;
