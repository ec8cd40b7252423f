import { parseContract } from '../../../src/contracts/load.js';
import { CodedError } from '../../../src/domain/errors.js';

const FILE = 'contracts/payments-api.yaml';

/** Parse text that must fail; return the CodedError. */
function failure(text: string): CodedError {
  try {
    parseContract(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(CodedError);
    return err as CodedError;
  }
  throw new Error('expected parseContract to throw');
}

const GOOD = `service: payments-api
namespace: prod
identity: { k8s_service_account: payments-api }
allowed_internal:
  - { to_service: orders-api, namespace: prod, ports: [443], protocol: https }
  - { to_service: ledger-db, namespace: prod, ports: [5432], protocol: tcp }
allowed_external:
  - { to_fqdn: "api.stripe.com", ports: [443], protocol: https }
requirements: { mtls: required, authz_policy: required, audit_logs: required }
metadata: { owner_team: payments, change_ticket: SEC-4821, review_interval_days: 90 }
`;

describe('parseContract: valid files', () => {
  it('parses the documented example into the typed contract', () => {
    const loaded = parseContract(GOOD, FILE);
    expect(loaded).toEqual({
      file: FILE,
      contract: {
        service: 'payments-api',
        namespace: 'prod',
        identity: { k8s_service_account: 'payments-api' },
        allowed_internal: [
          { to_service: 'orders-api', namespace: 'prod', ports: [443], protocol: 'https' },
          { to_service: 'ledger-db', namespace: 'prod', ports: [5432], protocol: 'tcp' },
        ],
        allowed_external: [{ to_fqdn: 'api.stripe.com', ports: [443], protocol: 'https' }],
        requirements: { mtls: 'required', authz_policy: 'required', audit_logs: 'required' },
        metadata: { owner_team: 'payments', change_ticket: 'SEC-4821', review_interval_days: 90 },
      },
    });
  });

  it('defaults both allow-lists to empty and leaves namespace absent', () => {
    const { contract } = parseContract('service: batch-job\n', FILE);
    expect(contract).toEqual({ service: 'batch-job', allowed_internal: [], allowed_external: [] });
  });

  it('normalises host names and protocols (case, trailing dot, aliases)', () => {
    const { contract } = parseContract(
      `service: a
allowed_external:
  - { to_fqdn: "API.Stripe.COM.", ports: [443], protocol: HTTPS }
  - { to_fqdn: "*.AmazonAWS.com", ports: [443], protocol: h2 }
  - { to_cidr: "2001:db8::/32", ports: [5432], protocol: postgresql }
`,
      FILE,
    );
    expect(contract.allowed_external).toEqual([
      { to_fqdn: 'api.stripe.com', ports: [443], protocol: 'https' },
      { to_fqdn: '*.amazonaws.com', ports: [443], protocol: 'http2' },
      { to_cidr: '2001:db8::/32', ports: [5432], protocol: 'postgres' },
    ]);
  });
});

describe('parseContract: each kind of mistake', () => {
  it('names an unknown key with its full path (a typo must not silently drop a rule)', () => {
    const err = failure(`service: payments-api
allowed_internal:
  - { to_service: orders-api, namespace: prod, ports: [443], protocol: https }
  - { to_service: ledger-db, namespace: prod, portz: [5432], ports: [5432], protocol: tcp }
`);
    expect(err.code).toBe('contract_invalid');
    expect(err.message).toBe(`${FILE}: invalid egress contract (1 problem)`);
    expect(err.details).toEqual({ file: FILE });
    expect(err.issues).toEqual([
      { path: 'allowed_internal[1].portz', message: 'unknown field (check the spelling) (line 4)' },
    ]);
  });

  it('names an unknown top-level key (alowed_external)', () => {
    const err = failure(
      'service: a\nalowed_external:\n  - { to_fqdn: x.com, ports: [443], protocol: https }\n',
    );
    expect(err.issues).toEqual([
      { path: 'alowed_external', message: 'unknown field (check the spelling) (line 2)' },
    ]);
  });

  it.each([
    [0, '0', 'expected a port number from 1 to 65535'],
    [70000, '70000', 'expected a port number from 1 to 65535'],
    ['"443"', '"443"', 'expected a port number from 1 to 65535 (a number, not a string)'],
    [443.5, '443.5', 'expected a whole port number from 1 to 65535'],
  ])('rejects port %s with the path, the value and the expected range', (port, shown, message) => {
    const err = failure(`service: a
allowed_internal:
  - { to_service: orders-api, namespace: prod, ports: [443], protocol: https }
  - { to_service: ledger-db, namespace: prod, ports: [${port}], protocol: tcp }
`);
    expect(err.issues).toEqual([
      { path: 'allowed_internal[1].ports[0]', message: `${message} (line 4)`, value: shown },
    ]);
  });

  it('rejects an empty port list', () => {
    const err = failure(
      'service: a\nallowed_external:\n  - { to_fqdn: x.com, ports: [], protocol: https }\n',
    );
    expect(err.issues).toEqual([
      { path: 'allowed_external[0].ports', message: 'expected at least one port (line 3)', value: '[]' },
    ]);
  });

  it('reports a missing service as required', () => {
    const err = failure('namespace: prod\nallowed_internal: []\n');
    expect(err.issues).toEqual([
      { path: 'service', message: 'required: the name of the service this contract is for' },
    ]);
  });

  it('rejects a service name that can never match (spaces, capitals)', () => {
    const err = failure('service: Payments API\n');
    expect(err.issues).toEqual([
      {
        path: 'service',
        message:
          "expected the name of the service this contract is for: lower-case letters, digits, '-', '.' or '_' (line 1)",
        value: '"Payments API"',
      },
    ]);
  });

  it('rejects a rule naming both to_fqdn and to_cidr', () => {
    const err = failure(
      'service: a\nallowed_external:\n  - { to_fqdn: a.example, to_cidr: 10.0.0.0/8, ports: [443], protocol: https }\n',
    );
    expect(err.issues).toEqual([
      {
        path: 'allowed_external[0]',
        message: 'a rule names exactly one destination: to_fqdn or to_cidr, not both (line 3)',
        value: '{"to_fqdn":"a.example","to_cidr":"10.0.0.0/8","ports":[443],"protocol":"https"}',
      },
    ]);
  });

  it('rejects an external rule with no destination', () => {
    const err = failure('service: a\nallowed_external:\n  - { ports: [443], protocol: https }\n');
    expect(err.issues).toEqual([
      {
        path: 'allowed_external[0]',
        message: 'a rule needs a destination: to_fqdn or to_cidr (line 3)',
        value: '{"ports":[443],"protocol":"https"}',
      },
    ]);
  });

  it('rejects an unknown protocol and lists the known ones', () => {
    const err = failure(
      'service: a\nallowed_internal:\n  - { to_service: b, namespace: prod, ports: [443], protocol: htps }\n',
    );
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.path).toBe('allowed_internal[0].protocol');
    expect(err.issues[0]?.value).toBe('"htps"');
    expect(err.issues[0]?.message).toMatch(
      /^expected one of: tcp, udp, sctp, http, https, .*, dns, ntp, quic \(line 3\)$/,
    );
  });

  it('reports every missing field of an internal rule', () => {
    const err = failure('service: a\nallowed_internal:\n  - { to_service: b }\n');
    expect(err.issues).toEqual([
      {
        path: 'allowed_internal[0].namespace',
        message: "required: the destination service's namespace (line 3)",
      },
      { path: 'allowed_internal[0].ports', message: 'required: the ports, e.g. [443] (line 3)' },
      { path: 'allowed_internal[0].protocol', message: 'required: the protocol, e.g. https or tcp (line 3)' },
    ]);
  });

  it.each([
    ['api.*.com', 'expected a host name; a wildcard must be the whole first label, as in *.stripe.com'],
    ['*stripe.com', 'expected a host name; a wildcard must be the whole first label, as in *.stripe.com'],
    [
      '*.com',
      'a wildcard must sit under a domain with at least two labels (*.com would allow a whole top-level domain)',
    ],
    [
      'api..stripe.com',
      'expected a host name such as api.stripe.com (letters, digits, dashes; dot-separated)',
    ],
    [
      'https://api.stripe.com',
      'expected a host name such as api.stripe.com (letters, digits, dashes; dot-separated)',
    ],
    ['203.0.113.9', 'this is an IP address; use to_cidr (e.g. x.x.x.x/32) for IP destinations'],
  ])('rejects to_fqdn %s', (fqdn, message) => {
    const err = failure(
      `service: a\nallowed_external:\n  - { to_fqdn: "${fqdn}", ports: [443], protocol: https }\n`,
    );
    expect(err.issues).toEqual([
      { path: 'allowed_external[0].to_fqdn', message: `${message} (line 3)`, value: JSON.stringify(fqdn) },
    ]);
  });

  it.each([
    ['10.0.0.0/33', 'expected a prefix length from 0 to 32 after the /'],
    ['2001:db8::/129', 'expected a prefix length from 0 to 128 after the /'],
    ['10.0.0.1/8', 'host bits are set; the network is 10.0.0.0/8'],
    ['2001:db8::1/32', 'host bits are set; the network is 2001:db8:0:0:0:0:0:0/32'],
    ['203.0.113.9', 'expected a CIDR (address/prefix) such as 203.0.113.9/32 for a single address'],
    ['2001:db8::9', 'expected a CIDR (address/prefix) such as 2001:db8::9/128 for a single address'],
    ['300.0.0.0/8', 'expected a CIDR whose address is a valid IPv4 or IPv6 address'],
    ['10.0.0.0/08', 'expected a prefix length from 0 to 32 after the /'],
  ])('rejects to_cidr %s', (cidr, message) => {
    const err = failure(
      `service: a\nallowed_external:\n  - { to_cidr: "${cidr}", ports: [443], protocol: https }\n`,
    );
    expect(err.issues).toEqual([
      { path: 'allowed_external[0].to_cidr', message: `${message} (line 3)`, value: JSON.stringify(cidr) },
    ]);
  });

  it('rejects a bad namespace and a bad requirement value', () => {
    const err = failure('service: a\nnamespace: Prod_1\nrequirements: { mtls: yes }\n');
    expect(err.issues).toEqual([
      {
        path: 'namespace',
        message:
          "expected the namespace the service runs in: a Kubernetes namespace name (lower-case letters, digits and '-', at most 63) (line 2)",
        value: '"Prod_1"',
      },
      {
        path: 'requirements.mtls',
        message: 'expected one of: required, optional, disabled (line 3)',
        value: '"yes"',
      },
    ]);
  });

  it('reports a YAML syntax error with file:line:column', () => {
    const err = failure(
      'service: a\nallowed_external:\n  - { to_fqdn: "example.com", ports: [443, protocol: https }\n',
    );
    expect(err.code).toBe('contract_invalid');
    expect(err.message).toMatch(new RegExp(`^${FILE}:3:\\d+: not valid YAML: `));
    expect(err.details).toMatchObject({ file: FILE, line: 3 });
    expect(err.issues.length).toBeGreaterThanOrEqual(1);
    expect(err.issues[0]?.path).toMatch(/^line 3, column \d+$/);
  });

  it('reports a mapping syntax error at its exact line and column', () => {
    const err = failure('service: a\nnamespace: prod\nallowed_internal: : x\n');
    expect(err.message).toBe(
      `${FILE}:3:19: not valid YAML: Nested mappings are not allowed in compact mappings`,
    );
    expect(err.issues[0]).toEqual({
      path: 'line 3, column 19',
      message: 'Nested mappings are not allowed in compact mappings',
    });
  });

  it('reports a duplicate key as a YAML error', () => {
    const err = failure('service: a\nservice: b\n');
    expect(err.message).toBe(`${FILE}:2:1: not valid YAML: Map keys must be unique`);
  });

  it('refuses two YAML documents in one file', () => {
    const err = failure('service: a\n---\nservice: b\n');
    expect(err.message).toBe(
      `${FILE}:2:1: not valid YAML: one document per file: this file holds more than one (---)`,
    );
  });

  it('says so when the file is empty or only comments', () => {
    expect(failure('').message).toBe(
      `${FILE}: the file is empty; an egress contract needs at least a service`,
    );
    expect(failure('# nothing yet\n').message).toBe(
      `${FILE}: the file is empty; an egress contract needs at least a service`,
    );
  });

  it('rejects a top-level list', () => {
    const err = failure('- service: a\n');
    expect(err.issues).toEqual([
      {
        path: '',
        message: 'expected a mapping with service, allowed_internal, allowed_external …',
        value: '[{"service":"a"}]',
      },
    ]);
    expect(err.describe()).toBe(
      `${FILE}: invalid egress contract (1 problem)\n` +
        '  - (root): expected a mapping with service, allowed_internal, allowed_external … (got [{"service":"a"}])',
    );
  });

  it('reports all problems of a file at once', () => {
    const err = failure(`service: a
allowed_internal:
  - { to_service: b, namespace: prod, ports: [0], protocol: tcp }
allowed_external:
  - { to_fqdn: "*.com", ports: [443], protocol: https, note: x }
`);
    expect(err.issues.map((i) => i.path)).toEqual([
      'allowed_internal[0].ports[0]',
      'allowed_external[0].to_fqdn',
      'allowed_external[0].note',
    ]);
  });
});
