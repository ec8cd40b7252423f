// contracts: evaluate(contracts, alert) on 200 contracts and a mix of realistic alerts.
import { evaluate } from '../dist/contracts/evaluate.js';
import { parseContract } from '../dist/contracts/load.js';
import { parseAlertBody } from '../dist/intake/parse.js';
import { BASE_TIME } from './fixtures.js';
import { measure, report } from './harness.js';

const CONTRACTS = 200;
const ALERTS = 1000;
/** Services that alert but have no contract (the `no-contract` verdict). */
const UNCONTRACTED = 20;

const svc = (i) => `svc-${String(i).padStart(3, '0')}`;

/** Contract i: 4 internal rules, 4 external (exact FQDN, wildcard, IPv4 CIDR, IPv6 CIDR); every 10th has no namespace. */
function contractYaml(i, n) {
  const ns = i % 10 === 0 ? '' : `namespace: ${i % 3 === 0 ? 'payments' : 'prod'}\n`;
  return `service: ${svc(i)}
${ns}identity: { k8s_service_account: ${svc(i)} }
allowed_internal:
  - { to_service: ${svc((i + 1) % n)}, namespace: prod, ports: [443], protocol: https }
  - { to_service: ${svc((i + 2) % n)}, namespace: prod, ports: [8080, 8443], protocol: grpc }
  - { to_service: ledger-db, namespace: prod, ports: [5432], protocol: tcp }
  - { to_service: cache-${i % 7}, namespace: infra, ports: [6379], protocol: tcp }
allowed_external:
  - { to_fqdn: "api.partner-${i}.example.com", ports: [443], protocol: https }
  - { to_fqdn: "*.s3.eu-west-${(i % 3) + 1}.amazonaws.com", ports: [443], protocol: https }
  - { to_cidr: "198.51.${i % 256}.0/24", ports: [443, 8443], protocol: tcp }
  - { to_cidr: "2001:db8:${i.toString(16)}::/48", ports: [443], protocol: https }
requirements: { mtls: required, authz_policy: required, audit_logs: required }
metadata: { owner_team: team-${i % 17}, change_ticket: SEC-${4000 + i}, review_interval_days: 90 }
`;
}

/** Alert j: a source service spread over all contracts, and one of nine outcomes in turn. */
function alertEvent(j, n) {
  const i = (j * 7) % n;
  const namespace = i % 10 === 0 ? 'staging' : i % 3 === 0 ? 'payments' : 'prod';
  const base = { src_service: svc(i), src_namespace: namespace, request_id: `r-${j}` };
  switch (j % 9) {
    case 0: // allowed: exact FQDN
      return {
        ...base,
        dst_type: 'fqdn',
        dst_name: `api.partner-${i}.example.com`,
        dst_port: 443,
        protocol: 'https',
      };
    case 1: // allowed: wildcard FQDN
      return {
        ...base,
        dst_type: 'fqdn',
        dst_name: `bucket-${j}.s3.eu-west-${(i % 3) + 1}.amazonaws.com`,
        dst_port: 443,
        protocol: 'https',
      };
    case 2: // allowed: IPv4 in CIDR
      return {
        ...base,
        dst_type: 'ip',
        dst_name: `198.51.${i % 256}.${j % 250}`,
        dst_port: 8443,
        protocol: 'tcp',
      };
    case 3: // allowed: internal service (bare name resolves in the caller's namespace: prod)
      return {
        ...base,
        dst_type: 'service',
        dst_name: svc((i + 1) % n),
        dst_namespace: 'prod',
        dst_port: 443,
        protocol: 'https',
      };
    case 4: // violation: unknown destination
      return {
        ...base,
        dst_type: 'fqdn',
        dst_name: `exfil-${j}.example.net`,
        dst_port: 443,
        protocol: 'https',
      };
    case 5: // violation: port not allowed
      return {
        ...base,
        dst_type: 'fqdn',
        dst_name: `api.partner-${i}.example.com`,
        dst_port: 8080,
        protocol: 'https',
      };
    case 6: // violation: protocol mismatch
      return {
        ...base,
        dst_type: 'service',
        dst_name: 'ledger-db',
        dst_namespace: 'prod',
        dst_port: 5432,
        protocol: 'udp',
      };
    case 7: // IPv6 in CIDR
      return {
        ...base,
        dst_type: 'ip',
        dst_name: `2001:db8:${i.toString(16)}::${j.toString(16)}`,
        dst_port: 443,
        protocol: 'https',
      };
    default: // no contract
      return {
        ...base,
        src_service: `uncontracted-${j % UNCONTRACTED}`,
        dst_type: 'fqdn',
        dst_name: 'example.org',
        dst_port: 443,
        protocol: 'https',
      };
  }
}

function policy(n) {
  const contracts = Array.from({ length: n }, (_, i) =>
    parseContract(contractYaml(i, n), `contracts/${svc(i)}.yaml`),
  );
  const body = Array.from({ length: ALERTS }, (_, j) => JSON.stringify(alertEvent(j, n))).join('\n');
  const alerts = parseAlertBody(body, 'application/x-ndjson', { receivedAt: BASE_TIME }).alerts;
  return { contracts, alerts };
}

function verdictMix(contracts, alerts) {
  const mix = {};
  for (const a of alerts) {
    const v = evaluate(contracts, a);
    const key = v.kind === 'violation' ? `violation/${v.reason}` : v.kind;
    mix[key] = (mix[key] ?? 0) + 1;
  }
  return mix;
}

export async function run() {
  const { contracts, alerts } = policy(CONTRACTS);
  const mix = verdictMix(contracts, alerts);

  // One evaluate() per sample: the percentiles (the two hrtime reads add ~0.1 µs to each sample).
  const one = await measure({
    warmup: 20_000,
    iterations: 300_000,
    maxMs: 5000,
    fn: (i) => evaluate(contracts, alerts[i % ALERTS]),
  });
  // All 1000 alerts per sample: throughput without the timer's overhead.
  const batch = (cs) => () => {
    let allowed = 0;
    for (const a of alerts) if (evaluate(cs, a).kind === 'allowed') allowed++;
    return allowed;
  };
  const batched = await measure({
    warmup: 20,
    iterations: 300,
    maxMs: 3000,
    unitsPerCall: ALERTS,
    fn: batch(contracts),
  });
  // Ten times the contracts: findContract scans the list for the alert's service.
  const big = policy(CONTRACTS * 10);
  const bigRun = await measure({
    warmup: 5,
    iterations: 100,
    maxMs: 3000,
    unitsPerCall: ALERTS,
    fn: (() => {
      const cs = big.contracts;
      return () => {
        for (const a of big.alerts) evaluate(cs, a);
      };
    })(),
  });
  return report(
    'contracts',
    {
      function: 'evaluate(contracts, alert)',
      contracts: CONTRACTS,
      rulesPerContract: '4 internal + 4 external (exact FQDN, wildcard FQDN, IPv4 CIDR, IPv6 CIDR)',
      alerts: ALERTS,
      verdictMix: mix,
    },
    [
      { case: `${CONTRACTS} contracts, 1 verdict per sample`, unit: 'verdicts/s', ...one },
      { case: `${CONTRACTS} contracts, ${ALERTS} verdicts per sample`, unit: 'verdicts/s', ...batched },
      {
        case: `${CONTRACTS * 10} contracts, ${ALERTS} verdicts per sample`,
        unit: 'verdicts/s',
        ...bigRun,
        note: 'same mix; shows how the linear contract lookup scales',
      },
    ],
  );
}
