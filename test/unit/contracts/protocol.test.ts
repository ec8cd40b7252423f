import { protocolCompatible } from '../../../src/contracts/protocol.js';
import { normalizeProtocol, protocolNames, protocolTransports } from '../../../src/domain/contract.js';

describe('protocolCompatible (alert protocol vs rule protocol)', () => {
  it.each([
    // L4-only reports are compatible with every rule riding on that transport.
    ['tcp', 'tcp', true],
    ['tcp', 'http', true],
    ['tcp', 'https', true],
    ['tcp', 'grpc', true],
    ['tcp', 'tls', true],
    ['tcp', 'http2', true],
    ['tcp', 'mysql', true],
    ['tcp', 'postgres', true],
    ['tcp', 'dns', true],
    ['tcp', 'udp', false],
    ['tcp', 'quic', false],
    ['udp', 'udp', true],
    ['udp', 'dns', true],
    ['udp', 'quic', true],
    ['udp', 'tcp', false],
    ['udp', 'https', false],
    ['sctp', 'tcp', false],
    // L7 reports must equal the rule's protocol …
    ['https', 'https', true],
    ['http', 'https', false],
    ['https', 'http', false],
    ['grpc', 'http2', false],
    ['tls', 'https', false],
    // … unless the rule names a bare transport they ride on.
    ['https', 'tcp', true],
    ['postgres', 'tcp', true],
    ['dns', 'udp', true],
    ['https', 'udp', false],
    ['unknown-l7', 'tcp', false],
    // Case and aliases do not matter.
    ['HTTPS', 'https', true],
    ['TCP', 'HTTPS', true],
    ['h2', 'http2', true],
    ['postgresql', 'postgres', true],
    [' https ', 'https', true],
  ])('alert %s vs rule %s → %s', (seen, allowed, expected) => {
    expect(protocolCompatible(seen, allowed)).toBe(expected);
  });

  it('every protocol in the table rides on a known transport', () => {
    for (const name of protocolNames) {
      expect(protocolTransports[name].length).toBeGreaterThan(0);
      expect(protocolCompatible(name, name)).toBe(true);
    }
    expect(protocolNames).toContain('https');
    expect(protocolTransports.dns).toEqual(['udp', 'tcp']);
  });

  it('normalizeProtocol lower-cases and resolves aliases', () => {
    expect(normalizeProtocol('HTTPS')).toBe('https');
    expect(normalizeProtocol('H2')).toBe('http2');
    expect(normalizeProtocol('PostgreSQL')).toBe('postgres');
    expect(normalizeProtocol('Foo')).toBe('foo');
  });
});
