import { isIP } from 'node:net';
import { cidrContains, formatIp, ipv4Mapped, parseCidr, parseIp } from '../../../src/domain/address.js';

// The contract schema and the evaluator share one plain-TypeScript IP parser (domain/ may not
// import node:net); these tests hold it to node:net's answers.

const SAMPLES = [
  '0.0.0.0',
  '255.255.255.255',
  '203.0.113.9',
  '256.0.0.1',
  '1.2.3',
  '1.2.3.4.5',
  '010.0.0.1',
  '1.2.3.-1',
  '1.2.3.4 ',
  '',
  '::',
  '::1',
  '1::',
  '2001:db8::1',
  '2001:DB8:0:0:8:800:200C:417A',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7::',
  '::2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7',
  '1::2::3',
  '1:::2',
  ':1::2',
  '1::2:',
  '12345::1',
  'g::1',
  '::ffff:1.2.3.4',
  '::1.2.3.4',
  '1:2:3:4:5:6:1.2.3.4',
  '1:2:3:4:5:6:7:1.2.3.4',
  '::ffff:1.2.3.256',
  '1.2.3.4::',
  '::ffff:1.2.3.4:5',
];

describe('parseIp', () => {
  it.each(SAMPLES)('agrees with node:net isIP on %j', (text) => {
    const parsed = parseIp(text);
    expect(parsed?.version ?? 0).toBe(isIP(text));
  });

  it('returns the bytes in network order', () => {
    expect(parseIp('203.0.113.9')).toEqual({ version: 4, bytes: [203, 0, 113, 9] });
    expect(parseIp('2001:db8::1')?.bytes).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
    expect(parseIp('::ffff:1.2.3.4')?.bytes.slice(10)).toEqual([0xff, 0xff, 1, 2, 3, 4]);
  });

  it('does not accept zone ids in contracts', () => {
    expect(parseIp('fe80::1%eth0')).toBeUndefined();
  });

  it('maps ::ffff:a.b.c.d to IPv4 and nothing else', () => {
    expect(ipv4Mapped(parseIp('::ffff:10.1.2.3')!)).toEqual({ version: 4, bytes: [10, 1, 2, 3] });
    expect(ipv4Mapped(parseIp('::10.1.2.3')!)).toBeUndefined();
    expect(ipv4Mapped(parseIp('10.1.2.3')!)).toBeUndefined();
  });

  it('formats addresses for messages', () => {
    expect(formatIp(parseIp('10.0.0.1')!)).toBe('10.0.0.1');
    expect(formatIp(parseIp('2001:db8::1')!)).toBe('2001:db8:0:0:0:0:0:1');
  });
});

describe('parseCidr and cidrContains', () => {
  function contains(cidr: string, ip: string): boolean {
    const parsed = parseCidr(cidr);
    if (!parsed.ok) throw new Error(parsed.problem);
    return cidrContains(parsed.cidr, parseIp(ip)!);
  }

  it.each([
    ['10.0.0.0/8', '10.255.255.255', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['10.0.0.0/8', '9.255.255.255', false],
    ['192.168.4.0/22', '192.168.7.1', true],
    ['192.168.4.0/22', '192.168.8.1', false],
    ['192.168.4.0/22', '192.168.3.255', false],
    ['203.0.113.9/32', '203.0.113.9', true],
    ['203.0.113.9/32', '203.0.113.10', false],
    ['0.0.0.0/0', '198.51.100.1', true],
    ['0.0.0.0/0', '::1', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:db8:abcd:12::/63', '2001:db8:abcd:13::1', true],
    ['2001:db8:abcd:12::/63', '2001:db8:abcd:14::1', false],
    ['::/0', '2001:db8::1', true],
    ['::/0', '10.0.0.1', false],
    ['::1/128', '::1', true],
    ['::1/128', '::2', false],
  ])('%s contains %s → %s', (cidr, ip, expected) => {
    expect(contains(cidr, ip)).toBe(expected);
  });

  it.each([
    ['10.0.0.0/33', 'expected a prefix length from 0 to 32 after the /'],
    ['10.0.0.0/-1', 'expected a prefix length from 0 to 32 after the /'],
    ['10.0.0.0/', 'expected a prefix length from 0 to 32 after the /'],
    ['10.0.0.0/8/8', 'expected a prefix length from 0 to 32 after the /'],
    ['::/129', 'expected a prefix length from 0 to 128 after the /'],
    ['10.0.0.0', 'expected a CIDR (address/prefix) such as 10.0.0.0/32 for a single address'],
    ['example.com/24', 'expected a CIDR whose address is a valid IPv4 or IPv6 address'],
    ['nonsense', 'expected a CIDR (address/prefix) such as 203.0.113.0/24'],
    ['192.168.4.0/21', 'host bits are set; the network is 192.168.0.0/21'],
    ['2001:db8:abcd:13::/63', 'host bits are set; the network is 2001:db8:abcd:12:0:0:0:0/63'],
  ])('rejects %s: %s', (cidr, problem) => {
    expect(parseCidr(cidr)).toEqual({ ok: false, problem });
  });
});
