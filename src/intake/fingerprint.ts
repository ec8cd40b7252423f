// What makes two alerts "the same anomaly": who (identity, else service) in which namespace,
// talking to which destination on which port and protocol. Never times, counts or request ids.
import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { parse } from 'tldts';
import type { EgressAlert } from '../domain/alert.js';

/**
 * How an FQDN destination counts: `host`, the exact name; `registrable-domain`, the domain under its
 * public suffix (`a.b.evil.co.uk` → `evil.co.uk`), so a DNS tunnel's unique subdomains are one
 * anomaly. The caller decides per alert (incidents/ uses `host` when a contract rule matches it).
 */
export type FqdnFingerprint = 'registrable-domain' | 'host';

export interface FingerprintOptions {
  /** Default `host`. Names with no registrable domain (see registrableDomain) always count as the host. */
  fqdnBy?: FqdnFingerprint;
}

/** An FQDN destination as compared: lower case, without the root dot (DNS names are case-insensitive). */
export function hostKey(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The host an incident records for an FQDN destination: hostKey, IDN labels in ASCII (punycode) form. */
export function displayHost(name: string): string {
  const key = hostKey(name);
  // Only non-ASCII names go through IDNA: it also percent-decodes, which must not touch ASCII names.
  if (!/[^\x20-\x7e]/.test(key)) return key;
  return domainToASCII(key) || key;
}

// RFC 1123 labels (and `_`, which DNS carries, e.g. base32 tunnel payloads), a name of at most 253.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * The registrable domain of an FQDN by the public suffix list bundled with tldts (ICANN and private
 * sections: `x.s3.amazonaws.com` stays `x.s3.amazonaws.com`, one bucket per owner), or undefined when
 * there is none: not a valid host name (empty or over-long labels, a numeric last label such as an
 * IP), no listed suffix (`svc.cluster.local`, `localhost`, `corp`), or a bare suffix (`co.uk`). Pure:
 * the list is compiled into the library, nothing is read at run time.
 */
export function registrableDomain(name: string): string | undefined {
  const host = displayHost(name);
  if (host.length === 0 || host.length > 253) return undefined;
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return undefined;
  if (/^[0-9]+$/.test(labels.at(-1)!)) return undefined;
  const parsed = parse(host, { allowPrivateDomains: true, extractHostname: false });
  if (!parsed.isIcann && !parsed.isPrivate) return undefined;
  return parsed.domain ?? undefined;
}

/** Stable 16-hex-char id (sha256 prefix) of the anomaly an alert reports. */
export function fingerprint(alert: EgressAlert, opts: FingerprintOptions = {}): string {
  const { source: s, destination: d } = alert;
  // The identity is the workload, whatever its Deployment is called; tag which one we used so a
  // service named like an identity cannot collide with it.
  const who = s.identity ? ['identity', s.identity] : ['service', s.service];
  const domain =
    d.type === 'fqdn' && opts.fqdnBy === 'registrable-domain' ? registrableDomain(d.name) : undefined;
  // A domain is tagged apart from a host, so `evil.com` by domain is never `evil.com` the host.
  const [type, name] =
    domain !== undefined ? ['fqdn-domain', domain] : [d.type, d.type === 'fqdn' ? hostKey(d.name) : d.name];
  // A namespace only means something for in-cluster (service) destinations.
  const namespace = d.type === 'service' ? (d.namespace ?? '') : '';
  const key = JSON.stringify([
    'v1',
    ...who,
    s.namespace,
    type,
    name,
    namespace,
    d.port,
    d.protocol.toLowerCase(),
  ]);
  return digestOf(key);
}

// In a storm most alerts repeat a few anomalies: the sha256 of the same key was about 2 % of the CPU
// of 20,000 single-alert requests. Remembered per key, a bounded number of keys (cleared when full,
// which costs one hash per key again, never a wrong answer).
const DIGESTS_KEPT = 4096;
const digests = new Map<string, string>();

function digestOf(key: string): string {
  const known = digests.get(key);
  if (known !== undefined) return known;
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 16);
  if (digests.size >= DIGESTS_KEPT) digests.clear();
  digests.set(key, digest);
  return digest;
}
