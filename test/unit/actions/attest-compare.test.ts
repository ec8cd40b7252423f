import { attestContract, type LiveObjects } from '../../../src/actions/k8s/attest/compare.js';
import { attestationLine } from '../../../src/actions/k8s/attest/report.js';
import { parseContract } from '../../../src/contracts/load.js';
import { renderContract } from '../../../src/contracts/render.js';
import { RENDER_DEFAULTS } from '../../../src/contracts/render-options.js';
import type { KubeObject } from '../../../src/k8s/types.js';

const render = renderContract(
  parseContract(
    `service: payments-api
namespace: prod
allowed_internal:
  - { to_service: orders-api, namespace: prod, ports: [443], protocol: https }
`,
    'payments-api.yaml',
  ),
  RENDER_DEFAULTS,
);
const POD = { name: 'payments-api-1', namespace: 'prod', labels: { app: 'payments-api', tier: 'web' } };
const rendered = (kind: string) =>
  structuredClone(render.objects.find((o) => o.kind === kind)) as unknown as KubeObject;
const live = (over: Partial<LiveObjects>): LiveObjects => ({
  networkPolicies: [],
  authorizationPolicies: [],
  ciliumPolicies: undefined,
  pods: [POD],
  ...over,
});

describe('attestContract', () => {
  it('the rendered objects as they are: clean', () => {
    const a = attestContract(
      render,
      live({
        networkPolicies: [rendered('NetworkPolicy')],
        authorizationPolicies: [rendered('AuthorizationPolicy')],
      }),
      'app',
    );
    expect(a.status).toBe('clean');
    expect(a.objects.map((o) => o.status)).toEqual(['match', 'match']);
    expect(attestationLine(a)).toMatch(
      /^payments-api in prod matches its contract \(payments-api\.yaml, sha256 [0-9a-f]{12}…\)/,
    );
  });

  it('a hand-written policy allowing the same traffic (pod selector in its own namespace) is no extra egress', () => {
    const handWritten: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'payments-egress', namespace: 'prod' },
      spec: {
        podSelector: { matchLabels: { app: 'payments-api' } },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
          {
            to: [{ podSelector: { matchLabels: { app: 'orders-api' } } }],
            ports: [{ protocol: 'TCP', port: 443 }],
          },
        ],
      },
    };
    const a = attestContract(render, live({ networkPolicies: [handWritten] }), 'app');
    expect(a.egress).toEqual({ pods: ['prod/payments-api-1'], beyond: [], notEnforced: [] });
    // Still drift: the contract's own objects are not there.
    expect(a.status).toBe('drift');
    expect(a.objects.map((o) => `${o.status} ${o.name}`)).toEqual([
      'missing egress-contract-payments-api',
      'missing egress-contract-orders-api-from-prod-payments-api',
    ]);
  });

  it('a wider live rule names what it adds; the mesh not served is said, not passed', () => {
    const np = rendered('NetworkPolicy');
    (np.spec as { egress: unknown[] }).egress.push({ ports: [{ protocol: 'TCP', port: 25 }] });
    const a = attestContract(
      render,
      live({ networkPolicies: [np], authorizationPolicies: undefined }),
      'app',
    );
    expect(a.egress.beyond).toEqual(['TCP/25 to anywhere (egress-contract-payments-api)']);
    expect(a.objects.map((o) => o.status)).toEqual(['changed', 'not-served']);
    expect(attestationLine(a)).toContain(
      'the cluster allows beyond the contract: TCP/25 to anywhere (egress-contract-payments-api)',
    );
  });

  it('an object labelled for the contract that it no longer renders is extra', () => {
    const old = {
      ...rendered('AuthorizationPolicy'),
      metadata: { ...rendered('AuthorizationPolicy').metadata, name: 'egress-contract-old' },
    };
    const a = attestContract(
      render,
      live({
        networkPolicies: [rendered('NetworkPolicy')],
        authorizationPolicies: [rendered('AuthorizationPolicy'), old],
      }),
      'app',
    );
    expect(a.extra).toEqual([
      expect.objectContaining({ name: 'egress-contract-old', kind: 'AuthorizationPolicy' }),
    ]);
    expect(a.status).toBe('drift');
  });
});
