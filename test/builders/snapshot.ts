// Seed the fake API server from a cluster snapshot, so a drill or a contract case can run against
// the real client over the same objects the snapshot cluster holds.
import type { Snapshot } from '../../src/k8s/snapshot-file.js';
import type { FakeExtension, FakeKubeApi } from '../fakes/kube-api/index.js';

const EXTENSION_OF: Record<string, FakeExtension> = {
  'security.istio.io': 'istio',
  'cilium.io': 'cilium',
  'policy.networking.k8s.io': 'adminnetworkpolicy',
  'cert-manager.io': 'cert-manager',
};

/** Put every object of `snapshot` into `fake` (uids kept, resourceVersions the fake's), serving the CRD groups it holds. */
export function seedFromSnapshot(fake: FakeKubeApi, snapshot: Snapshot): void {
  for (const obj of snapshot.objects) {
    const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0]! : '';
    const ext = Object.hasOwn(EXTENSION_OF, group) ? EXTENSION_OF[group] : undefined;
    if (ext) fake.serve(ext);
    fake.put(obj);
  }
}
