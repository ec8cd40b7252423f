import { describeRule, evaluate, findContract, fqdnMatches } from '../../../src/contracts/evaluate.js';
import { parseContract } from '../../../src/contracts/load.js';
import type { LoadedContract } from '../../../src/domain/contract.js';
import { Verdict } from '../../../src/domain/contract.js';
import { anAlert } from '../../builders/alert.js';

const PAYMENTS = parseContract(
  `service: payments-api
namespace: prod
identity: { k8s_service_account: payments-api }
allowed_internal:
  - { to_service: orders-api, namespace: prod, ports: [443], protocol: https }
  - { to_service: ledger-db, namespace: prod, ports: [5432], protocol: tcp }
allowed_external:
  - { to_fqdn: "api.stripe.com", ports: [443], protocol: https }
  - { to_fqdn: "*.stripe.com", ports: [443, 8443], protocol: https }
  - { to_cidr: "203.0.113.0/24", ports: [443], protocol: https }
  - { to_cidr: "2001:db8:abcd::/48", ports: [443], protocol: grpc }
  - { to_cidr: "198.51.100.7/32", ports: [53], protocol: dns }
  - { to_fqdn: "uploads.example.com", ports: [443], protocol: https }
  - { to_fqdn: "uploads.example.com", ports: [443], protocol: grpc }
`,
  'contracts/payments-api.yaml',
);

const ORDERS_ANY_NS = parseContract(
  'service: orders-api\nallowed_external:\n  - { to_fqdn: "*.amazonaws.com", ports: [443], protocol: https }\n',
  'contracts/orders-api.yaml',
);
const ORDERS_STAGING = parseContract(
  'service: orders-api\nnamespace: staging\nallowed_external:\n  - { to_fqdn: "sandbox.amazonaws.com", ports: [443], protocol: https }\n',
  'contracts/orders-api-staging.yaml',
);

const ALL: LoadedContract[] = [PAYMENTS, ORDERS_ANY_NS, ORDERS_STAGING];
const REF = { service: 'payments-api', file: 'contracts/payments-api.yaml' };

function fqdn(name: string, port = 443, protocol = 'https') {
  return anAlert({ destination: { type: 'fqdn', name, port, protocol } });
}

describe('evaluate: the source contract', () => {
  it('gives no-contract naming service and namespace when no contract covers the source', () => {
    const verdict = evaluate(ALL, anAlert({ source: { service: 'billing-api', namespace: 'prod' } }));
    expect(verdict).toEqual({
      kind: 'no-contract',
      message: 'No egress contract covers service billing-api in namespace prod.',
    });
  });

  it('does not apply a contract scoped to another namespace', () => {
    const verdict = evaluate(ALL, anAlert({ source: { service: 'payments-api', namespace: 'staging' } }));
    expect(verdict).toEqual({
      kind: 'no-contract',
      message: 'No egress contract covers service payments-api in namespace staging.',
    });
  });

  it('applies a contract without a namespace in any namespace', () => {
    const alert = anAlert({
      source: { service: 'orders-api', namespace: 'dev' },
      destination: { type: 'fqdn', name: 'my-bucket.s3.amazonaws.com', port: 443, protocol: 'https' },
    });
    expect(evaluate(ALL, alert)).toMatchObject({
      kind: 'allowed',
      contract: { service: 'orders-api', file: 'contracts/orders-api.yaml' },
    });
  });

  it('prefers the contract naming the namespace over the one for any namespace, in either order', () => {
    const source = { service: 'orders-api', namespace: 'staging' };
    expect(findContract([ORDERS_ANY_NS, ORDERS_STAGING], source)?.file).toBe(
      'contracts/orders-api-staging.yaml',
    );
    expect(findContract([ORDERS_STAGING, ORDERS_ANY_NS], source)?.file).toBe(
      'contracts/orders-api-staging.yaml',
    );
    const alert = anAlert({
      source,
      destination: { type: 'fqdn', name: 'my-bucket.s3.amazonaws.com', port: 443, protocol: 'https' },
    });
    expect(evaluate(ALL, alert)).toMatchObject({
      kind: 'violation',
      reason: 'unknown_destination',
      contract: { service: 'orders-api', file: 'contracts/orders-api-staging.yaml' },
    });
  });

  it('gives no-contract for an empty contract list', () => {
    expect(evaluate([], anAlert()).kind).toBe('no-contract');
  });
});

describe('evaluate: every verdict branch', () => {
  it('allowed: names the list, the index and the rule text', () => {
    const verdict = evaluate(ALL, fqdn('api.stripe.com'));
    expect(verdict).toEqual({
      kind: 'allowed',
      message:
        'payments-api (namespace prod) called api.stripe.com on port 443 over https, which its egress contract ' +
        'contracts/payments-api.yaml allows (allowed_external[0]: api.stripe.com ports 443 https).',
      contract: REF,
      rule: {
        list: 'allowed_external',
        index: 0,
        text: 'allowed_external[0]: api.stripe.com ports 443 https',
      },
    });
    expect(Verdict.parse(verdict)).toEqual(verdict);
  });

  it('unknown_destination: names the destination and the contract file', () => {
    const verdict = evaluate(ALL, fqdn('exfil.example.net'));
    expect(verdict).toEqual({
      kind: 'violation',
      reason: 'unknown_destination',
      message:
        'payments-api (namespace prod) called exfil.example.net on port 443 over https, a destination its egress ' +
        'contract contracts/payments-api.yaml does not list.',
      contract: REF,
    });
    expect(Verdict.parse(verdict)).toEqual(verdict);
  });

  it('port_not_allowed: names the port and the allowed ports', () => {
    expect(evaluate(ALL, fqdn('uploads.example.com', 8080))).toEqual({
      kind: 'violation',
      reason: 'port_not_allowed',
      message:
        'payments-api (namespace prod) called uploads.example.com on port 8080 over https, but its egress contract ' +
        'contracts/payments-api.yaml allows that destination only on port 443.',
      contract: REF,
    });
  });

  it('port_not_allowed: lists the ports of every rule matching the destination', () => {
    // api.stripe.com matches both the exact rule (443) and the wildcard (443, 8443).
    const verdict = evaluate(ALL, fqdn('api.stripe.com', 9443));
    expect(verdict.kind === 'violation' && verdict.reason).toBe('port_not_allowed');
    expect(verdict.message).toContain('allows that destination only on ports 443 and 8443.');
  });

  it('a second matching rule can allow what the first does not', () => {
    expect(evaluate(ALL, fqdn('api.stripe.com', 8443))).toMatchObject({
      kind: 'allowed',
      rule: {
        list: 'allowed_external',
        index: 1,
        text: 'allowed_external[1]: *.stripe.com ports 443, 8443 https',
      },
    });
  });

  it('protocol_mismatch: names the protocol seen and the one allowed', () => {
    expect(evaluate(ALL, fqdn('api.stripe.com', 443, 'http'))).toEqual({
      kind: 'violation',
      reason: 'protocol_mismatch',
      message:
        'payments-api (namespace prod) called api.stripe.com on port 443 over http, but its egress contract ' +
        'contracts/payments-api.yaml allows that destination on port 443 only over https.',
      contract: REF,
    });
  });

  it('protocol_mismatch: names every protocol allowed on that port', () => {
    const verdict = evaluate(ALL, fqdn('uploads.example.com', 443, 'http'));
    expect(verdict.kind === 'violation' && verdict.reason).toBe('protocol_mismatch');
    expect(verdict.message).toContain('on port 443 only over https or grpc.');
    expect(evaluate(ALL, fqdn('uploads.example.com', 443, 'grpc'))).toMatchObject({
      kind: 'allowed',
      rule: { index: 6 },
    });
  });

  it('port_not_allowed wins over protocol_mismatch when neither matches', () => {
    const verdict = evaluate(ALL, fqdn('api.stripe.com', 80, 'http'));
    expect(verdict.kind === 'violation' && verdict.reason).toBe('port_not_allowed');
  });
});

describe('evaluate: internal destinations', () => {
  function svc(name: string, namespace: string | undefined, port: number, protocol: string) {
    const alert = anAlert({ destination: { type: 'service', name, port, protocol } });
    if (namespace !== undefined) alert.destination.namespace = namespace;
    return alert;
  }

  it('allows a listed service in its namespace, with the rule text naming service.namespace', () => {
    expect(evaluate(ALL, svc('ledger-db', 'prod', 5432, 'tcp'))).toEqual({
      kind: 'allowed',
      message:
        'payments-api (namespace prod) called service ledger-db in namespace prod on port 5432 over tcp, which its ' +
        'egress contract contracts/payments-api.yaml allows (allowed_internal[1]: ledger-db.prod ports 5432 tcp).',
      contract: REF,
      rule: {
        list: 'allowed_internal',
        index: 1,
        text: 'allowed_internal[1]: ledger-db.prod ports 5432 tcp',
      },
    });
  });

  it('does not match the same service in another namespace', () => {
    expect(evaluate(ALL, svc('ledger-db', 'staging', 5432, 'tcp'))).toEqual({
      kind: 'violation',
      reason: 'unknown_destination',
      message:
        'payments-api (namespace prod) called service ledger-db in namespace staging on port 5432 over tcp, a ' +
        'destination its egress contract contracts/payments-api.yaml does not list.',
      contract: REF,
    });
  });

  it("resolves a service destination without a namespace in the caller's namespace", () => {
    expect(evaluate(ALL, svc('orders-api', undefined, 443, 'https'))).toMatchObject({
      kind: 'allowed',
      rule: { list: 'allowed_internal', index: 0 },
    });
  });

  it('never matches an internal rule for an fqdn or an ip destination', () => {
    expect(evaluate(ALL, fqdn('ledger-db', 5432, 'tcp'))).toMatchObject({ reason: 'unknown_destination' });
    const ip = anAlert({ destination: { type: 'ip', name: '10.0.0.5', port: 5432, protocol: 'tcp' } });
    expect(evaluate(ALL, ip)).toMatchObject({ reason: 'unknown_destination' });
  });

  it('never matches an external rule for a service destination', () => {
    expect(evaluate(ALL, svc('api.stripe.com', 'prod', 443, 'https'))).toMatchObject({
      reason: 'unknown_destination',
    });
  });
});

describe('evaluate: fqdn matching', () => {
  it.each([
    ['api.stripe.com', 0],
    ['API.Stripe.COM', 0],
    ['api.stripe.com.', 0],
    ['a.stripe.com', 1],
    ['a.b.stripe.com', 1],
    ['A.B.Stripe.Com.', 1],
  ])('%s is allowed by rule %i', (name, index) => {
    expect(evaluate(ALL, fqdn(name))).toMatchObject({ kind: 'allowed', rule: { index } });
  });

  it.each([
    'stripe.com',
    'evilstripe.com',
    'stripe.com.evil.net',
    'api.stripe.co',
    'a..stripe.com',
    '.stripe.com',
  ])('%s is an unknown destination', (name) => {
    expect(evaluate(ALL, fqdn(name))).toMatchObject({ kind: 'violation', reason: 'unknown_destination' });
  });

  it('fqdnMatches handles exact names, wildcards and their edges', () => {
    expect(fqdnMatches('*.stripe.com', 'a.stripe.com')).toBe(true);
    expect(fqdnMatches('*.stripe.com', 'a.b.stripe.com')).toBe(true);
    expect(fqdnMatches('*.stripe.com', 'stripe.com')).toBe(false);
    expect(fqdnMatches('*.stripe.com', 'evilstripe.com')).toBe(false);
    expect(fqdnMatches('*.stripe.com', 'a.evilstripe.com')).toBe(false);
    expect(fqdnMatches('api.stripe.com', 'x.api.stripe.com')).toBe(false);
    expect(fqdnMatches('API.stripe.com.', 'api.STRIPE.com')).toBe(true);
    expect(fqdnMatches('api.stripe.com', '')).toBe(false);
  });
});

describe('evaluate: ip destinations (to_cidr)', () => {
  function ip(name: string, port = 443, protocol = 'https') {
    return anAlert({ destination: { type: 'ip', name, port, protocol } });
  }

  it.each([
    ['203.0.113.0', 2],
    ['203.0.113.77', 2],
    ['203.0.113.255', 2],
    ['::ffff:203.0.113.9', 2],
    ['2001:db8:abcd::1', 3],
    ['2001:DB8:ABCD:FFFF:FFFF:FFFF:FFFF:FFFF', 3],
    ['2001:db8:abcd:0:0:0:0:5%eth0', 3],
  ])('%s is inside allowed_external[%i]', (address, index) => {
    const protocol = index === 3 ? 'grpc' : 'https';
    expect(evaluate(ALL, ip(address, 443, protocol))).toMatchObject({
      kind: 'allowed',
      rule: { list: 'allowed_external', index },
    });
  });

  it('names the CIDR in the rule text', () => {
    expect(evaluate(ALL, ip('203.0.113.9'))).toMatchObject({
      rule: { text: 'allowed_external[2]: 203.0.113.0/24 ports 443 https' },
    });
  });

  it.each([
    '203.0.112.255',
    '203.0.114.0',
    '2001:db8:abce::1',
    '2001:db8:abc::1',
    '198.51.100.8',
    '::203.0.113.9',
  ])('%s is outside every CIDR', (address) => {
    expect(evaluate(ALL, ip(address))).toMatchObject({ kind: 'violation', reason: 'unknown_destination' });
  });

  it('a /32 matches exactly one address', () => {
    expect(evaluate(ALL, ip('198.51.100.7', 53, 'udp'))).toMatchObject({
      kind: 'allowed',
      rule: { index: 4 },
    });
    expect(evaluate(ALL, ip('198.51.100.6', 53, 'udp'))).toMatchObject({ reason: 'unknown_destination' });
  });

  it('says when the alert does not carry a valid IP address', () => {
    expect(evaluate(ALL, ip('203.0.113.300'))).toEqual({
      kind: 'violation',
      reason: 'unknown_destination',
      message:
        'payments-api (namespace prod) called 203.0.113.300 on port 443 over https, a destination its egress ' +
        'contract contracts/payments-api.yaml does not list (203.0.113.300 is not a valid IP address).',
      contract: REF,
    });
  });

  it('never matches a to_fqdn rule for an ip destination, nor a to_cidr rule for an fqdn', () => {
    expect(evaluate(ALL, fqdn('203.0.113.9'))).toMatchObject({ reason: 'unknown_destination' });
  });
});

describe('evaluate: protocol compatibility with rules', () => {
  it.each([
    // [alert protocol, destination, port, expected]
    ['tcp', 'api.stripe.com', 443, 'allowed'], // L4-only sender (Falco) vs an https rule
    ['TCP', 'api.stripe.com', 443, 'allowed'],
    ['https', 'api.stripe.com', 443, 'allowed'],
    ['HTTPS', 'api.stripe.com', 443, 'allowed'],
    ['http', 'api.stripe.com', 443, 'protocol_mismatch'],
    ['grpc', 'api.stripe.com', 443, 'protocol_mismatch'],
    ['udp', 'api.stripe.com', 443, 'protocol_mismatch'], // https never rides on udp
    ['quic', 'api.stripe.com', 443, 'protocol_mismatch'],
  ])('alert %s to %s:%i → %s', (protocol, name, port, expected) => {
    const verdict = evaluate(ALL, fqdn(name, port, protocol));
    expect(verdict.kind === 'violation' ? verdict.reason : verdict.kind).toBe(expected);
  });

  it('a dns rule accepts udp and tcp reports, and dns itself', () => {
    const alert = (protocol: string) =>
      anAlert({ destination: { type: 'ip', name: '198.51.100.7', port: 53, protocol } });
    expect(evaluate(ALL, alert('udp')).kind).toBe('allowed');
    expect(evaluate(ALL, alert('tcp')).kind).toBe('allowed');
    expect(evaluate(ALL, alert('dns')).kind).toBe('allowed');
    expect(evaluate(ALL, alert('http')).kind).toBe('violation');
  });

  it('a tcp rule (ledger-db) covers postgres reported at L7', () => {
    const alert = anAlert({
      destination: {
        type: 'service',
        name: 'ledger-db',
        namespace: 'prod',
        port: 5432,
        protocol: 'postgres',
      },
    });
    expect(evaluate(ALL, alert).kind).toBe('allowed');
    const udp = anAlert({
      destination: { type: 'service', name: 'ledger-db', namespace: 'prod', port: 5432, protocol: 'udp' },
    });
    expect(evaluate(ALL, udp)).toMatchObject({ reason: 'protocol_mismatch' });
  });
});

describe('describeRule', () => {
  it('renders internal, fqdn and cidr rules on one line', () => {
    const c = PAYMENTS.contract;
    expect(describeRule('allowed_internal', 0, c.allowed_internal[0]!)).toBe(
      'allowed_internal[0]: orders-api.prod ports 443 https',
    );
    expect(describeRule('allowed_external', 1, c.allowed_external[1]!)).toBe(
      'allowed_external[1]: *.stripe.com ports 443, 8443 https',
    );
    expect(describeRule('allowed_external', 3, c.allowed_external[3]!)).toBe(
      'allowed_external[3]: 2001:db8:abcd::/48 ports 443 grpc',
    );
  });
});

describe('evaluate is pure', () => {
  it('does not modify its inputs and gives the same verdict twice', () => {
    const contracts = structuredClone(ALL);
    const alert = fqdn('a.stripe.com', 8443);
    const before = structuredClone(alert);
    const first = evaluate(contracts, alert);
    expect(evaluate(contracts, alert)).toEqual(first);
    expect(contracts).toEqual(ALL);
    expect(alert).toEqual(before);
  });
});
