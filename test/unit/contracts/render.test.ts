import { contractSha256 } from '../../../src/contracts/canonical.js';
import { parseContract } from '../../../src/contracts/load.js';
import { renderContract } from '../../../src/contracts/render.js';
import { RenderOptions } from '../../../src/contracts/render-options.js';
import { formatRender } from '../../../src/contracts/render-output.js';

const TEXT = `service: payments-api
namespace: prod
identity: { k8s_service_account: payments-sa }
allowed_internal:
  - { to_service: orders-api, namespace: prod, ports: [443], protocol: https, methods: [get, POST] }
  - { to_service: orders-api, namespace: prod, ports: [8080], protocol: http }
  - { to_service: ledger-db, namespace: data, ports: [5432], protocol: tcp }
allowed_external:
  - { to_fqdn: "api.stripe.com", cidrs: [203.0.113.0/24], ports: [443], protocol: https }
  - { to_fqdn: "*.amazonaws.com", ports: [443], protocol: https }
  - { to_cidr: 198.51.100.7/32, ports: [53], protocol: dns }
metadata: { owner_team: payments, change_ticket: SEC-4821, review_interval_days: 90 }
`;

const loaded = parseContract(TEXT, '/somewhere/contracts/payments-api.yaml');
const opts = (o: Record<string, unknown> = {}) => RenderOptions.parse(o);

describe('renderContract', () => {
  it('a deny-by-default egress NetworkPolicy with DNS, each internal peer and the CIDRs the contract gives', () => {
    const r = renderContract(loaded, opts());
    const np = r.objects.find((o) => o.kind === 'NetworkPolicy')!;
    expect(np.metadata).toMatchObject({ name: 'egress-contract-payments-api', namespace: 'prod' });
    expect(np.spec).toMatchObject({
      podSelector: { matchLabels: { app: 'payments-api' } },
      policyTypes: ['Egress'],
    });
    const egress = np.spec.egress as { to: unknown[]; ports: unknown[] }[];
    expect(egress[0]!.ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    expect(egress[3]).toEqual({
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } },
          podSelector: { matchLabels: { app: 'ledger-db' } },
        },
      ],
      ports: [{ protocol: 'TCP', port: 5432 }],
    });
    // stripe by its CIDR; the wildcard has none, so it is not in the NetworkPolicy (and says so).
    expect(egress[4]).toEqual({
      to: [{ ipBlock: { cidr: '203.0.113.0/24' } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    });
    // dns rides on UDP and TCP.
    expect(egress[5]!.ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    expect(egress).toHaveLength(6);
    expect(r.warnings).toEqual([
      expect.stringContaining(
        'api.stripe.com: allowed by the CIDRs the contract gives (203.0.113.0/24); FQDNs need a CNI',
      ),
      expect.stringContaining('*.amazonaws.com: not rendered'),
    ]);
  });

  it('an Istio ALLOW per internal destination: principal from the identity, ports, methods upper-cased', () => {
    const r = renderContract(loaded, opts({ trustDomain: 'corp.example' }));
    const authz = r.objects.filter((o) => o.kind === 'AuthorizationPolicy');
    expect(authz.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'prod/egress-contract-orders-api-from-prod-payments-api',
      'data/egress-contract-ledger-db-from-prod-payments-api',
    ]);
    expect(authz[0]!.spec).toEqual({
      selector: { matchLabels: { app: 'orders-api' } },
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['corp.example/ns/prod/sa/payments-sa'] } }],
          to: [{ operation: { ports: ['443'], methods: ['GET', 'POST'] } }],
        },
        {
          from: [{ source: { principals: ['corp.example/ns/prod/sa/payments-sa'] } }],
          to: [{ operation: { ports: ['8080'] } }],
        },
      ],
    });
  });

  it('annotations on every object: file name, contract sha256, ticket and owner', () => {
    const r = renderContract(loaded, opts({ fqdn: 'cilium' }));
    expect(r.objects.length).toBe(4);
    for (const o of r.objects) {
      expect(o.metadata.annotations).toEqual({
        'egress-responder.io/contract-file': 'payments-api.yaml',
        'egress-responder.io/contract-sha256': contractSha256(loaded.contract),
        'egress-responder.io/change-ticket': 'SEC-4821',
        'egress-responder.io/owner': 'payments',
      });
      expect(o.metadata.labels['egress-responder.io/contract']).toBe('payments-api');
    }
  });

  it('--fqdn cilium: host names as toFQDNs (wildcards as matchPattern) with DNS through the proxy for those names', () => {
    const r = renderContract(loaded, opts({ fqdn: 'cilium' }));
    const cnp = r.objects.find((o) => o.kind === 'CiliumNetworkPolicy')!;
    const egress = cnp.spec.egress as Record<string, unknown>[];
    expect(egress[0]).toMatchObject({
      toPorts: [{ rules: { dns: [{ matchName: 'api.stripe.com' }, { matchPattern: '*.amazonaws.com' }] } }],
    });
    expect(egress.slice(1)).toEqual([
      {
        toFQDNs: [{ matchName: 'api.stripe.com' }],
        toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
      },
      {
        toFQDNs: [{ matchPattern: '*.amazonaws.com' }],
        toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
      },
    ]);
    // The NetworkPolicy then carries no host CIDRs, and there is nothing to warn about.
    expect(r.warnings).toEqual([]);
    const np = r.objects.find((o) => o.kind === 'NetworkPolicy')!;
    expect(JSON.stringify(np.spec)).not.toContain('203.0.113.0/24');
  });

  it('--no-dns leaves kube-dns out; authz_policy: disabled renders no AuthorizationPolicy', () => {
    const noAuthz = parseContract(`${TEXT}requirements: { authz_policy: disabled }\n`, 'x.yaml');
    const r = renderContract(noAuthz, opts({ dns: false }));
    expect(r.objects.map((o) => o.kind)).toEqual(['NetworkPolicy']);
    expect(JSON.stringify(r.objects[0]!.spec)).not.toContain('kube-dns');
  });

  it('a contract without a namespace, or a name too long for a label, is a problem, not an object', () => {
    const anyNs = renderContract(parseContract('service: constructor\n', 'c.yaml'), opts());
    expect(anyNs.objects).toEqual([]);
    expect(anyNs.problems).toEqual([expect.stringContaining('names no namespace')]);
    const long = renderContract(
      parseContract(`service: ${'a'.repeat(80)}\nnamespace: prod\n`, 'l.yaml'),
      opts(),
    );
    expect(long.problems).toEqual([expect.stringContaining('cannot be a label value')]);
  });

  it('a service named constructor renders like any other (no prototype lookups)', () => {
    const r = renderContract(parseContract('service: constructor\nnamespace: prod\n', 'c.yaml'), opts());
    expect(r.objects[0]!.metadata.name).toBe('egress-contract-constructor');
    expect(r.objects[0]!.spec.podSelector).toEqual({ matchLabels: { app: 'constructor' } });
  });
});

describe('canonical sha256 and stable output', () => {
  it('the same contract written differently (key order, flow vs block, comments) has the same sha256', () => {
    const reordered = `# a comment
metadata:
  review_interval_days: 90
  change_ticket: SEC-4821
  owner_team: payments
allowed_external:
  - { protocol: https, ports: [443], cidrs: [203.0.113.0/24], to_fqdn: "API.Stripe.com." }
  - { to_fqdn: "*.amazonaws.com", ports: [443], protocol: HTTPS }
  - { to_cidr: 198.51.100.7/32, ports: [53], protocol: dns }
allowed_internal:
  - { namespace: prod, to_service: orders-api, ports: [443], protocol: https, methods: [GET, post] }
  - { to_service: orders-api, namespace: prod, ports: [8080], protocol: http }
  - { to_service: ledger-db, namespace: data, ports: [5432], protocol: tcp }
identity: { k8s_service_account: payments-sa }
namespace: prod
service: payments-api
`;
    const other = parseContract(reordered, 'payments-api.yaml');
    expect(contractSha256(other.contract)).toBe(contractSha256(loaded.contract));
    expect(formatRender(renderContract(other, opts()), 'yaml')).toBe(
      formatRender(renderContract(loaded, opts()), 'yaml'),
    );
  });

  it('a changed port changes the sha256', () => {
    const changed = parseContract(TEXT.replace('ports: [5432]', 'ports: [5433]'), 'payments-api.yaml');
    expect(contractSha256(changed.contract)).not.toBe(contractSha256(loaded.contract));
  });

  it('YAML and JSON are byte-identical across renders', () => {
    for (const format of ['yaml', 'json'] as const) {
      const a = formatRender(renderContract(loaded, opts()), format);
      const b = formatRender(renderContract(parseContract(TEXT, 'payments-api.yaml'), opts()), format);
      expect(a).toBe(b);
    }
  });
});

describe('contract fields for rendering, refused precisely', () => {
  const problem = (text: string) => {
    try {
      parseContract(text, 'bad.yaml');
    } catch (err) {
      return JSON.stringify((err as { issues?: unknown }).issues);
    }
    throw new Error('expected parseContract to throw');
  };
  it('cidrs only with to_fqdn, and only valid CIDRs', () => {
    expect(
      problem(
        'service: s\nallowed_external:\n  - { to_cidr: 10.0.0.0/8, cidrs: [10.0.0.0/8], ports: [1], protocol: tcp }\n',
      ),
    ).toContain('cidrs goes with to_fqdn');
    expect(
      problem(
        'service: s\nallowed_external:\n  - { to_fqdn: a.example, cidrs: [10.0.0.1/8], ports: [1], protocol: tcp }\n',
      ),
    ).toContain('host bits are set');
  });
  it('methods: HTTP method names, at least one', () => {
    const rule = (methods: string) =>
      `service: s\nallowed_internal:\n  - { to_service: o, namespace: prod, ports: [1], protocol: http, methods: ${methods} }\n`;
    expect(problem(rule('["GET; DROP"]'))).toContain('expected an HTTP method such as GET or POST');
    expect(problem(rule('[]'))).toContain('expected at least one method');
    expect(problem(rule('[7]'))).toContain('expected an HTTP method such as GET (a string)');
  });
});
