// The Cluster contract (src/k8s/cluster.ts), as one suite run against every implementation: the
// snapshot cluster, and KubeCluster over the fake API server seeded from the same snapshot. Each case
// states what the interface promises, so both passing is both answering alike.
import type { Cluster } from '../../../src/k8s/cluster.js';
import type { KubeObject } from '../../../src/k8s/types.js';
import { rejectedCoded } from '../../support/coded.js';

export { CONTRACT_SNAPSHOT } from './contract-snapshot.js';

/** `p` rejects with a CodedError of `code` (and a message matching `message`). */
export async function expectCoded(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const err = await rejectedCoded(p);
  expect(err.code).toBe(code);
  if (message) expect(err.message).toMatch(message);
}

export interface ContractSubject {
  cluster: Cluster;
  /** Every object as the implementation now stores it, for "nothing changed" checks. */
  dump(): Promise<unknown>;
}

const POD = { apiVersion: 'v1', kind: 'Pod', namespace: 'prod' } as const;
const NETPOL = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: 'prod' } as const;
const names = (items: KubeObject[]) => items.map((o) => o.metadata.name);

/** Everything in prod and kube-system, sorted, for comparing before and after. */
export async function dumpOf(cluster: Cluster): Promise<unknown> {
  const kinds: [string, string][] = [
    ['v1', 'Pod'],
    ['v1', 'Secret'],
    ['apps/v1', 'Deployment'],
    ['apps/v1', 'ReplicaSet'],
    ['apps/v1', 'StatefulSet'],
    ['networking.k8s.io/v1', 'NetworkPolicy'],
  ];
  const out: KubeObject[] = [];
  for (const [v, k] of kinds) out.push(...(await cluster.list(v, k)));
  return out;
}

export function clusterContract(label: string, fresh: () => Promise<ContractSubject>): void {
  describe(`Cluster contract: ${label}`, () => {
    let s: ContractSubject;
    let c: Cluster;
    beforeEach(async () => {
      s = await fresh();
      c = s.cluster;
    });

    describe('reads', () => {
      it('gets an object, undefined for a missing one; a namespaced kind needs a namespace', async () => {
        const pod = await c.getPod('prod', 'payments-api-7d9f-a');
        expect(pod).toMatchObject({ apiVersion: 'v1', kind: 'Pod', status: { phase: 'Running' } });
        expect(pod?.metadata.resourceVersion).toMatch(/^\d+$/);
        expect(await c.getPod('prod', 'nope')).toBeUndefined();
        expect(await c.getPod('prod', 'constructor')).toBeUndefined();
        await expectCoded(c.get({ apiVersion: 'v1', kind: 'Pod', name: 'x' }), 'k8s_invalid', /namespaced/);
      });

      it('lists with label selectors as the API server parses them', async () => {
        const sel = async (labelSelector: string) => names(await c.listPods('prod', { labelSelector }));
        expect(await sel('app=payments-api')).toEqual(['payments-api-7d9f-a', 'payments-api-7d9f-b']);
        expect(await sel('app in (payments-api, ledger),tier')).toEqual(['payments-api-7d9f-a']);
        expect(await sel('app!=payments-api')).toEqual(['debug', 'ledger-0']);
        expect(await sel('app notin (payments-api),!tier')).toEqual(['debug', 'ledger-0']);
        expect(await sel('app==payments-api,version')).toEqual(['payments-api-7d9f-b']);
        expect(await sel('!app')).toEqual(['debug']);
        expect(await sel('')).toHaveLength(4);
        await expectCoded(c.listPods('prod', { labelSelector: 'app in payments' }), 'k8s_invalid');
        await expectCoded(c.listPods('prod', { labelSelector: 'bad key=x' }), 'k8s_invalid');
      });

      it('lists with the field selectors the actions use; an unsupported field is k8s_invalid', async () => {
        const f = async (fieldSelector: string) => names(await c.listPods('prod', { fieldSelector }));
        expect(await f('spec.serviceAccountName=payments-api')).toEqual([
          'payments-api-7d9f-a',
          'payments-api-7d9f-b',
        ]);
        expect(await f('status.phase=Running,metadata.name!=debug')).toEqual([
          'ledger-0',
          'payments-api-7d9f-a',
        ]);
        expect(await f('metadata.name=ledger-0')).toEqual(['ledger-0']);
        const tokens = await c.list('v1', 'Secret', 'prod', {
          fieldSelector: 'type=kubernetes.io/service-account-token',
        });
        expect(names(tokens)).toEqual(['payments-api-token']);
        await expectCoded(
          c.listPods('prod', { fieldSelector: 'spec.containers=x' }),
          'k8s_invalid',
          /not supported/,
        );
      });

      it('lists cluster-wide only when asked; an empty namespace is refused; items carry apiVersion and kind', async () => {
        const all = await c.list('v1', 'Pod');
        expect(names(all)).toContain('coredns-1');
        expect(all.every((p) => p.apiVersion === 'v1' && p.kind === 'Pod')).toBe(true);
        await expectCoded(c.listPods(''), 'k8s_invalid', /namespace is empty/);
        const policies = await c.listNetworkPolicies('prod');
        expect(policies.map((p) => [p.kind, p.metadata.name, p.spec.policyTypes])).toEqual([
          ['NetworkPolicy', 'allow-dns', ['Egress']],
        ]);
      });

      it('follows pod → ReplicaSet → Deployment, stops at a StatefulSet, and is undefined for a bare or missing pod', async () => {
        expect(await c.podOwnerWorkload('prod', 'payments-api-7d9f-a')).toMatchObject({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'payments-api',
          namespace: 'prod',
          uid: 'd-1',
        });
        expect(await c.podOwnerWorkload('prod', 'ledger-0')).toMatchObject({
          kind: 'StatefulSet',
          name: 'ledger',
        });
        expect(await c.podOwnerWorkload('prod', 'debug')).toBeUndefined();
        expect(await c.podOwnerWorkload('prod', 'gone')).toBeUndefined();
      });

      it('serves the built-in kinds; a kind not served is k8s_not_found', async () => {
        expect(await c.serves('networking.k8s.io', 'v1', 'networkpolicies')).toBe(true);
        expect(await c.serves('', 'v1', 'pods')).toBe(true);
        expect(await c.serves('cert-manager.io', 'v1', 'certificates')).toBe(false);
        await expectCoded(
          c.list('cert-manager.io/v1', 'Certificate', 'prod'),
          'k8s_not_found',
          /does not serve/,
        );
      });

      it('serves a custom kind the cluster holds, in the version asked for', async () => {
        expect(await c.serves('security.istio.io', 'v1', 'authorizationpolicies')).toBe(true);
        const items = await c.list('security.istio.io/v1', 'AuthorizationPolicy', 'prod');
        expect(items.map((o) => [o.apiVersion, o.kind, o.metadata.name])).toEqual([
          ['security.istio.io/v1', 'AuthorizationPolicy', 'allow-orders'],
        ]);
      });
    });

    describe('patches', () => {
      it('merge: adds a label and an annotation, null removes a label, the resourceVersion moves', async () => {
        const before = await c.getPod('prod', 'payments-api-7d9f-a');
        const out = await c.patch(
          { ...POD, name: 'payments-api-7d9f-a' },
          { metadata: { labels: { quarantine: 'true', tier: null }, annotations: { note: 'x' } } },
          'merge',
          { dryRun: false },
        );
        expect(out.metadata.labels).toEqual({
          app: 'payments-api',
          'pod-template-hash': '7d9f',
          quarantine: 'true',
        });
        expect(out.metadata.annotations).toEqual({ note: 'x' });
        expect(out.metadata.resourceVersion).not.toBe(before?.metadata.resourceVersion);
        expect((await c.getPod('prod', 'payments-api-7d9f-a'))?.metadata.labels?.quarantine).toBe('true');
      });

      it('strategic: merges containers by name; refused for a custom kind (merge works) and a wrong body shape', async () => {
        const out = await c.patch(
          { ...POD, name: 'payments-api-7d9f-a' },
          { spec: { containers: [{ name: 'sidecar', image: 'side:2' }] } },
          'strategic',
          { dryRun: false },
        );
        const containers = (out.spec as { containers: { name: string; image: string; env?: unknown }[] })
          .containers;
        expect(containers.map((x) => [x.name, x.image])).toEqual([
          ['app', 'pay:1'],
          ['sidecar', 'side:2'],
        ]);
        expect(containers[0]?.env).toEqual([{ name: 'A', value: '1' }]);
        const ap = {
          apiVersion: 'security.istio.io/v1',
          kind: 'AuthorizationPolicy',
          namespace: 'prod',
          name: 'allow-orders',
        };
        await expectCoded(
          c.patch(ap, { spec: { action: 'DENY' } }, 'strategic', { dryRun: false }),
          'k8s_invalid',
        );
        expect(
          (await c.patch(ap, { spec: { action: 'DENY' } }, 'merge', { dryRun: false })).spec,
        ).toMatchObject({
          action: 'DENY',
          selector: { matchLabels: { app: 'payments-api' } },
        });
        await expectCoded(c.patch({ ...POD, name: 'debug' }, [], 'merge', { dryRun: false }), 'k8s_invalid');
        await expectCoded(c.patch({ ...POD, name: 'debug' }, {}, 'json', { dryRun: false }), 'k8s_invalid');
      });

      it('json: test then remove; a failing test is k8s_invalid and changes nothing', async () => {
        const ref = { ...POD, name: 'payments-api-7d9f-a' };
        const out = await c.patch(
          ref,
          [
            { op: 'test', path: '/metadata/labels/tier', value: 'api' },
            { op: 'remove', path: '/metadata/labels/tier' },
          ],
          'json',
          { dryRun: false },
        );
        expect(out.metadata.labels?.tier).toBeUndefined();
        const before = await c.getPod('prod', 'payments-api-7d9f-b');
        await expectCoded(
          c.patch(
            { ...POD, name: 'payments-api-7d9f-b' },
            [
              { op: 'remove', path: '/metadata/labels/version' },
              { op: 'test', path: '/metadata/labels/app', value: 'other' },
            ],
            'json',
            { dryRun: false },
          ),
          'k8s_invalid',
        );
        expect(await c.getPod('prod', 'payments-api-7d9f-b')).toEqual(before);
      });

      it('a stale resourceVersion in a patch is k8s_conflict; a missing object is k8s_not_found', async () => {
        const ref = { ...POD, name: 'payments-api-7d9f-a' };
        await expectCoded(
          c.patch(ref, { metadata: { resourceVersion: '1', labels: { x: 'y' } } }, 'merge', {
            dryRun: false,
          }),
          'k8s_conflict',
        );
        expect((await c.getPod('prod', 'payments-api-7d9f-a'))?.metadata.labels?.x).toBeUndefined();
        await expectCoded(
          c.patch({ ...POD, name: 'gone' }, { metadata: {} }, 'merge', { dryRun: false }),
          'k8s_not_found',
        );
      });

      it('the status subresource changes only status; a main-resource patch keeps status', async () => {
        const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'payments-api' };
        const main = await c.patch(ref, { spec: { replicas: 3 }, status: { replicas: 9 } }, 'merge', {
          dryRun: false,
        });
        expect(main).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 2 } });
        expect(main.metadata.generation).toBe(2);
        const st = await c.patch(ref, { status: { replicas: 3 }, spec: { replicas: 5 } }, 'merge', {
          dryRun: false,
          subresource: 'status',
        });
        expect(st).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 3 } });
      });
    });

    describe('writes', () => {
      const policy = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name, namespace: 'prod' },
        spec: {
          podSelector: { matchLabels: { quarantine: 'true' } },
          policyTypes: ['Egress'],
          egress: [],
          ...extra,
        },
      });

      it('creates (AlreadyExists → k8s_conflict), replaces with a fresh resourceVersion (stale → k8s_conflict), deletes', async () => {
        const created = await c.create(policy('deny'), { dryRun: false });
        expect(created.metadata.uid).toBeTruthy();
        await expectCoded(c.create(policy('deny'), { dryRun: false }), 'k8s_conflict', /already exists/);
        const replaced = await c.replace(
          { ...created, spec: { ...(created.spec as object), policyTypes: ['Egress', 'Ingress'] } },
          { dryRun: false },
        );
        expect(replaced.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
        await expectCoded(c.replace(created, { dryRun: false }), 'k8s_conflict');
        expect((await c.get({ ...NETPOL, name: 'deny' }))?.spec).toMatchObject({
          policyTypes: ['Egress', 'Ingress'],
        });
        await expectCoded(
          c.delete({ ...NETPOL, name: 'deny' }, { dryRun: false, preconditions: { resourceVersion: '1' } }),
          'k8s_conflict',
        );
        expect(await c.delete({ ...NETPOL, name: 'deny' }, { dryRun: false })).toBe(true);
        expect(await c.delete({ ...NETPOL, name: 'deny' }, { dryRun: false })).toBe(false);
        expect(await c.get({ ...NETPOL, name: 'deny' })).toBeUndefined();
      });

      it('refuses what the API server refuses: an invalid name or label, a resourceVersion on create', async () => {
        await expectCoded(c.create(policy('Not_A_Name'), { dryRun: false }), 'k8s_invalid', /metadata\.name/);
        const labelled = policy('ok');
        labelled.metadata.labels = { app: 'bad value!' };
        await expectCoded(c.create(labelled, { dryRun: true }), 'k8s_invalid');
        const versioned = policy('ok');
        versioned.metadata.resourceVersion = '5';
        await expectCoded(c.create(versioned, { dryRun: false }), 'k8s_invalid', /resourceVersion/);
      });

      it('server-side apply: creates, re-applies idempotently, drops what the manager no longer applies', async () => {
        const opts = { dryRun: false, fieldManager: 'egress-responder' };
        const first = await c.apply(policy('applied', { ingress: [{}] }), opts);
        const again = await c.apply(policy('applied', { ingress: [{}] }), opts);
        expect(again.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
        const third = await c.apply(policy('applied'), opts);
        expect(third.spec).not.toHaveProperty('ingress');
        expect(third.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
      });

      it('dryRun on every write answers what would be stored and changes nothing', async () => {
        const before = await s.dump();
        const dry = { dryRun: true } as const;
        const created = await c.create(policy('dry'), dry);
        expect(created.metadata.name).toBe('dry');
        expect(created.metadata.resourceVersion ?? '').toBe('');
        const applied = await c.apply(policy('dry-apply'), { ...dry, fieldManager: 'm' });
        expect(applied.spec).toMatchObject({ policyTypes: ['Egress'] });
        const patched = await c.patch(
          { ...POD, name: 'debug' },
          { metadata: { labels: { quarantine: 'true' } } },
          'merge',
          dry,
        );
        expect(patched.metadata.labels).toEqual({ quarantine: 'true' });
        const existing = (await c.get({ ...NETPOL, name: 'allow-dns' }))!;
        await c.replace({ ...existing, spec: { podSelector: {} } }, dry);
        await c.patch(
          { ...POD, name: 'ledger-0' },
          [{ op: 'remove', path: '/metadata/labels/app' }],
          'json',
          dry,
        );
        await c.apply(
          { ...existing, metadata: { name: 'allow-dns', namespace: 'prod' } },
          { ...dry, fieldManager: 'm' },
        );
        expect(await c.delete({ ...POD, name: 'debug' }, dry)).toBe(true);
        expect(await s.dump()).toEqual(before);
        expect(await c.get({ ...NETPOL, name: 'dry' })).toBeUndefined();
      });
    });
  });
}
