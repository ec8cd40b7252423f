import { createHash } from 'node:crypto';
import { displayHost, fingerprint, hostKey, registrableDomain } from '../../../src/intake/fingerprint.js';
import { anAlert } from '../../builders/alert.js';

const byDomain = { fqdnBy: 'registrable-domain' } as const;
const fqdn = (name: string) => anAlert({ destination: { type: 'fqdn', name } });
/** The v1 key as it was before folding by domain existed: sha256 of the JSON array, 16 hex. */
const v1 = (key: unknown[]) =>
  createHash('sha256')
    .update(JSON.stringify(['v1', ...key]))
    .digest('hex')
    .slice(0, 16);
const ID = ['identity', 'spiffe://cluster.local/ns/prod/sa/payments-api', 'prod'];

describe('registrableDomain (public suffix list, bundled by tldts)', () => {
  it.each([
    ['a.b.evil.com', 'evil.com'],
    ['0.x7f.tunnel-example.net', 'tunnel-example.net'],
    ['A.EVIL.COM', 'evil.com'],
    ['a.evil.com.', 'evil.com'],
    ['a.b.example.co.uk', 'example.co.uk'],
    ['constructor.com', 'constructor.com'],
    ['x.__proto__.toString.com', 'tostring.com'],
    // A private-section suffix: each bucket (owner) is its own domain.
    ['my-bucket.s3.amazonaws.com', 'my-bucket.s3.amazonaws.com'],
    ['a.b.c.blogspot.com', 'c.blogspot.com'],
    // IDN: Unicode and punycode spellings are one domain, in ASCII.
    ['a.пример.рф', 'xn--e1afmkfd.xn--p1ai'],
    ['b.xn--e1afmkfd.xn--p1ai', 'xn--e1afmkfd.xn--p1ai'],
    ['Straße.bücher.de', 'xn--bcher-kva.de'],
    // An ASCII label that is not valid punycode is a name DNS resolves as written.
    ['a.xn--zz.com', 'xn--zz.com'],
  ])('%s → %s', (name, domain) => {
    expect(registrableDomain(name)).toBe(domain);
  });

  it.each([
    ['a bare public suffix', 'co.uk'],
    ['a TLD', 'com'],
    ['localhost', 'localhost'],
    ['a name under localhost', 'x.localhost'],
    ['a cluster-internal name (no listed suffix)', 'payments.prod.svc.cluster.local'],
    ['an unlisted TLD', 'build.corp'],
    ['empty labels', '..'],
    ['a leading dot', '.evil.com'],
    ['an empty middle label', 'evil..com'],
    ['a 300-character label', `${'x'.repeat(300)}.evil.com`],
    ['a 64-character label', `${'x'.repeat(64)}.evil.com`],
    ['a name over 253 characters', `${'abcdefgh.'.repeat(30)}evil.com`],
    ['an IPv4 address', '203.0.113.66'],
    ['a dotted number', '999.1.1.1'],
    ['an IPv6 address', '2001:db8::1'],
    ['a URL', 'https://a.evil.com/x'],
    ['a port', 'a.evil.com:443'],
    ['a space', 'a b.evil.com'],
    ['a percent-escape', 'a%2e.evil.com'],
    ['a single label', '__proto__'],
    ['empty', ''],
  ])('none for %s', (_what, name) => {
    expect(() => registrableDomain(name)).not.toThrow();
    expect(registrableDomain(name)).toBeUndefined();
  });

  it('keeps names as compared (hostKey) and shows IDN hosts in ASCII (displayHost)', () => {
    expect(hostKey('A.Evil.COM.')).toBe('a.evil.com');
    expect(displayHost('A.Evil.COM.')).toBe('a.evil.com');
    expect(displayHost('a.ПРИМЕР.рф')).toBe('a.xn--e1afmkfd.xn--p1ai');
    // ASCII names are never IDNA-processed (which would percent-decode them).
    expect(displayHost('a%41.evil.com')).toBe('a%41.evil.com');
  });
});

describe('fingerprint by registrable domain', () => {
  it('folds every subdomain of one registrable domain, whatever its case or root dot', () => {
    const fp = fingerprint(fqdn('0.x7f.tunnel-example.net'), byDomain);
    for (const name of ['1999.x7f.tunnel-example.net', 'A.B.TUNNEL-EXAMPLE.NET.', 'tunnel-example.net']) {
      expect(fingerprint(fqdn(name), byDomain)).toBe(fp);
    }
    expect(fingerprint(fqdn('0.x7f.tunnel-example.org'), byDomain)).not.toBe(fp);
    // Port, protocol, source still separate anomalies.
    expect(
      fingerprint(anAlert({ destination: { name: 'a.tunnel-example.net', port: 53 } }), byDomain),
    ).not.toBe(fp);
    expect(
      fingerprint(
        anAlert({ destination: { name: 'a.tunnel-example.net' }, source: { namespace: 'dev' } }),
        byDomain,
      ),
    ).not.toBe(fp);
  });

  it('is tagged apart from the host: the domain evil.com is not the host evil.com', () => {
    expect(fingerprint(fqdn('evil.com'), byDomain)).not.toBe(fingerprint(fqdn('evil.com')));
    expect(fingerprint(fqdn('evil.com'), byDomain)).toBe(
      v1([...ID, 'fqdn-domain', 'evil.com', '', 443, 'https']),
    );
  });

  it('by host (the default, and fqdnBy: host) keeps the pinned v1 value', () => {
    expect(fingerprint(anAlert())).toBe('045b99790e628ccf');
    expect(fingerprint(anAlert(), { fqdnBy: 'host' })).toBe('045b99790e628ccf');
    expect(fingerprint(fqdn('a.evil.com'), { fqdnBy: 'host' })).not.toBe(
      fingerprint(fqdn('b.evil.com'), { fqdnBy: 'host' }),
    );
  });

  it('leaves IP and in-cluster service destinations exactly as before', () => {
    const ip = anAlert({ destination: { type: 'ip', name: '203.0.113.66', port: 4444, protocol: 'tcp' } });
    expect(fingerprint(ip, byDomain)).toBe(v1([...ID, 'ip', '203.0.113.66', '', 4444, 'tcp']));
    expect(fingerprint(ip, byDomain)).toBe(fingerprint(ip));
    const svc = anAlert({
      destination: {
        type: 'service',
        name: 'ledger-db.prod.svc.cluster.local',
        namespace: 'prod',
        port: 5432,
        protocol: 'tcp',
      },
    });
    expect(fingerprint(svc, byDomain)).toBe(
      v1([...ID, 'service', 'ledger-db.prod.svc.cluster.local', 'prod', 5432, 'tcp']),
    );
    expect(fingerprint(svc, byDomain)).toBe(fingerprint(svc));
  });

  it.each([
    'constructor.com',
    '..',
    `${'x'.repeat(300)}.evil.com`,
    'UPPER.EVIL.COM',
    'trailing.evil.com.',
    'xn--e1afmkfd.xn--p1ai',
    'пример.рф',
    'localhost',
    'co.uk',
    'payments.prod.svc.cluster.local',
  ])('never throws, and a name with no registrable domain counts as its host: %s', (name) => {
    const alert = fqdn(name);
    expect(() => fingerprint(alert, byDomain)).not.toThrow();
    if (registrableDomain(name) === undefined) {
      expect(fingerprint(alert, byDomain)).toBe(fingerprint(alert));
    } else {
      expect(fingerprint(alert, byDomain)).not.toBe(fingerprint(alert));
    }
    expect(fingerprint(alert, byDomain)).toMatch(/^[0-9a-f]{16}$/);
  });
});
