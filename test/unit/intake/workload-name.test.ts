import { workloadFromPodName } from '../../../src/intake/workload-name.js';

describe('workloadFromPodName', () => {
  it.each([
    // Deployment: ReplicaSet pod-template-hash (6–10 safe chars) + 5-char suffix.
    ['payments-api-7d9f8b6c5d-x2x7q', 'payments-api'],
    ['checkout-5c8d7f9b4-q2w9z', 'checkout'],
    ['coredns-5d78c9869d-4xkzp', 'coredns'],
    ['api-bcdfgh-x2x7q', 'api'],
    // StatefulSet: ordinal.
    ['web-0', 'web'],
    ['ledger-worker-12', 'ledger-worker'],
    ['redis-master-0', 'redis-master'],
    // DaemonSet / Job: 5-char suffix.
    ['node-exporter-x7k2p', 'node-exporter'],
    ['fluent-bit-9wz4t', 'fluent-bit'],
    // `api-` is not a Deployment name, so this is read as a DaemonSet pod of `api--7d9f8b6c5d`.
    ['api--7d9f8b6c5d-x2x7q', 'api--7d9f8b6c5d'],
  ])('%s → %s', (pod, workload) => {
    expect(workloadFromPodName(pod)).toBe(workload);
  });

  it.each([
    ['nginx'], // a bare pod
    ['web-abcde'], // vowels are not in the random alphabet
    ['web-0x'], // not an ordinal
    ['-0'], // nothing before the suffix
    ['x2x7q'], // only a suffix
    [''],
    ['payments-api-7d9f8b6c5d-X2X7Q'], // upper case never comes from Kubernetes
    ['a--0'], // `a-` is not a StatefulSet name: a bare pod
    ['web.-x2x7q'], // `web.` is not a DaemonSet name
  ])('%s is returned unchanged', (pod) => {
    expect(workloadFromPodName(pod)).toBe(pod);
  });

  it('strips only one layer: a CronJob pod keeps its Job name', () => {
    expect(workloadFromPodName('backup-29399040-k8f2m')).toBe('backup-29399040');
  });

  it('handles a very long name quickly and without error', () => {
    const long = `${'a-'.repeat(100_000)}7d9f8b6c5d-x2x7q`;
    const started = performance.now();
    expect(workloadFromPodName(long)).toBe(`${'a-'.repeat(99_999)}a`);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
