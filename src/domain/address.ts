// IP addresses, CIDRs and host names for the egress contract, in plain TypeScript (domain/
// imports no node:*). One module shared by the contract schema and the evaluator, so that what
// validates is exactly what matches.

export interface IpAddress {
  version: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: readonly number[];
}

export interface Cidr extends IpAddress {
  prefix: number;
}

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function ipv4Bytes(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const part of parts) {
    if (!DEC_OCTET.test(part)) return undefined; // no leading zeros: `010` is octal to some parsers
    const n = Number(part);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** Colon-separated hex groups; the last one may be a dotted IPv4 when `allowV4Tail`. */
function ipv6Groups(text: string, allowV4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  const out: number[] = [];
  for (const [i, group] of groups.entries()) {
    if (allowV4Tail && i === groups.length - 1 && group.includes('.')) {
      const v4 = ipv4Bytes(group);
      if (!v4) return undefined;
      out.push(...v4);
    } else {
      if (!HEX_GROUP.test(group)) return undefined;
      const n = Number.parseInt(group, 16);
      out.push(n >> 8, n & 0xff);
    }
  }
  return out;
}

function ipv6Bytes(text: string): number[] | undefined {
  const gap = text.indexOf('::');
  if (gap === -1) {
    const bytes = ipv6Groups(text, true);
    return bytes?.length === 16 ? bytes : undefined;
  }
  if (text.includes('::', gap + 1)) return undefined;
  const head = ipv6Groups(text.slice(0, gap), false);
  const tail = ipv6Groups(text.slice(gap + 2), true);
  if (!head || !tail || head.length + tail.length > 14) return undefined; // `::` stands for ≥ 1 group
  return [...head, ...new Array<number>(16 - head.length - tail.length).fill(0), ...tail];
}

/** Parse a literal IPv4 (dotted decimal) or IPv6 address; zone ids (`%eth0`) are not accepted. */
export function parseIp(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const bytes = ipv6Bytes(text);
    return bytes ? { version: 6, bytes } : undefined;
  }
  const bytes = ipv4Bytes(text);
  return bytes ? { version: 4, bytes } : undefined;
}

/** `::ffff:a.b.c.d` → the IPv4 address a.b.c.d; anything else → undefined. */
export function ipv4Mapped(ip: IpAddress): IpAddress | undefined {
  if (ip.version !== 6) return undefined;
  const b = ip.bytes;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
  if (b[10] !== 0xff || b[11] !== 0xff) return undefined;
  return { version: 4, bytes: b.slice(12) };
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; problem: string };

/** Parse `address/prefix`. Host bits must be zero, so a typo in the prefix does not widen the range unnoticed. */
export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf('/');
  if (slash === -1) {
    const hint = parseIp(text)
      ? ` such as ${text}/${text.includes(':') ? 128 : 32} for a single address`
      : ' such as 203.0.113.0/24';
    return { ok: false, problem: `expected a CIDR (address/prefix)${hint}` };
  }
  const ip = parseIp(text.slice(0, slash));
  if (!ip) return { ok: false, problem: 'expected a CIDR whose address is a valid IPv4 or IPv6 address' };
  const max = ip.version === 4 ? 32 : 128;
  const prefixText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) {
    return { ok: false, problem: `expected a prefix length from 0 to ${max} after the /` };
  }
  const prefix = Number(prefixText);
  const network = maskBytes(ip.bytes, prefix);
  if (network.some((byte, i) => byte !== ip.bytes[i])) {
    return {
      ok: false,
      problem: `host bits are set; the network is ${formatIp({ version: ip.version, bytes: network })}/${prefix}`,
    };
  }
  return { ok: true, cidr: { ...ip, prefix } };
}

function maskBytes(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((byte, i) => {
    const bits = Math.min(8, Math.max(0, prefix - i * 8));
    return byte & ((0xff << (8 - bits)) & 0xff);
  });
}

/** True when `ip` lies inside `cidr` (same address family only). */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.version !== ip.version) return false;
  const masked = maskBytes(ip.bytes, cidr.prefix);
  return masked.every((byte, i) => byte === cidr.bytes[i]);
}

/** Dotted decimal for IPv4, uncompressed lower-case hex groups for IPv6 (messages only). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return ip.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

// ---------------------------------------------------------------------------------------------
// Host names

/** Lower-case and drop one trailing dot: `API.Stripe.com.` → `api.stripe.com`. */
export function normalizeFqdn(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Why `to_fqdn` is unusable, or undefined when it is fine. `*.` is allowed as the whole first label only. */
export function fqdnProblem(raw: string): string | undefined {
  const name = normalizeFqdn(raw);
  if (parseIp(name)) return 'this is an IP address; use to_cidr (e.g. x.x.x.x/32) for IP destinations';
  const wildcard = name.startsWith('*.');
  const labels = (wildcard ? name.slice(2) : name).split('.');
  if (name.length > 253 || labels.some((label) => !LABEL.test(label))) {
    return name.includes('*')
      ? 'expected a host name; a wildcard must be the whole first label, as in *.stripe.com'
      : 'expected a host name such as api.stripe.com (letters, digits, dashes; dot-separated)';
  }
  if (wildcard && labels.length < 2) {
    return `a wildcard must sit under a domain with at least two labels (*.${labels[0]} would allow a whole top-level domain)`;
  }
  return undefined;
}
