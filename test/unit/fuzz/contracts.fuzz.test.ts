// Property-based fuzzing of contract evaluation: any alert the intake could hand over (names and
// protocols included, Object.prototype names among them) gets a verdict that satisfies the schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { packageRoot } from '../../../src/config/paths.js';
import { evaluate } from '../../../src/contracts/evaluate.js';
import { parseContract } from '../../../src/contracts/load.js';
import { protocolCompatible } from '../../../src/contracts/protocol.js';
import type { EgressAlert } from '../../../src/domain/alert.js';
import { Verdict } from '../../../src/domain/contract.js';
import { NASTY_KEYS, nastyString, params } from './support.js';

const contracts = ['notification-service', 'orders-api', 'payments-api'].map((n) => {
  const file = join(packageRoot, 'playbooks/contracts', `${n}.yaml`);
  return parseContract(readFileSync(file, 'utf8'), file);
});

const name = fc.oneof(
  fc.constantFrom(
    'payments-api',
    'orders-api',
    'notification-service',
    'prod',
    'ledger-db',
    'api.stripe.com',
  ),
  fc.constantFrom(...NASTY_KEYS.filter((k) => k !== '')),
  nastyString.filter((s) => s !== ''),
);
const protocol = fc.oneof(
  fc.constantFrom('tcp', 'udp', 'https', 'HTTPS', 'h2', 'postgresql', 'dns', 'quic', ' tcp '),
  name,
);

const alert: fc.Arbitrary<EgressAlert> = fc
  .record({
    service: name,
    namespace: name,
    type: fc.constantFrom('service', 'fqdn', 'ip' as const),
    dst: fc.oneof(name, fc.ipV4(), fc.ipV6(), fc.constantFrom('fe80::1%eth0', '::ffff:203.0.113.9')),
    dstNamespace: fc.option(name, { nil: undefined }),
    port: fc.integer({ min: 0, max: 65535 }),
    protocol,
  })
  .map((a) => ({
    origin: 'egress-event',
    state: 'firing',
    source: { service: a.service, namespace: a.namespace },
    destination: {
      type: a.type,
      name: a.dst,
      ...(a.dstNamespace ? { namespace: a.dstNamespace } : {}),
      port: a.port,
      protocol: a.protocol,
    },
    count: 1,
    firstSeen: '2026-11-25T14:03:12.123Z',
    lastSeen: '2026-11-25T14:03:12.123Z',
    extra: {},
  }));

describe('contract evaluation fuzzing', () => {
  it('any alert gets a verdict that satisfies the schema', () => {
    fc.assert(
      fc.property(alert, (a) => {
        const verdict = evaluate(contracts, a);
        expect(Verdict.safeParse(verdict).success).toBe(true);
      }),
      params(),
    );
  });

  it('protocolCompatible is a boolean for any two names, and true for a name and itself', () => {
    fc.assert(
      fc.property(protocol, protocol, (a, b) => {
        expect(typeof protocolCompatible(a, b)).toBe('boolean');
        expect(protocolCompatible(a, a)).toBe(true);
      }),
      params(),
    );
  });
});
