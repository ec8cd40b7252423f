import { z } from 'zod';

// The egress contract file format (one YAML file per service). Strict objects: a typo in an
// allow-list key must fail loudly, never silently drop a rule. Values are checked as strictly as
// keys: a rule that could never match (a misspelt protocol, a malformed CIDR) is an error too.

// ---------------------------------------------------------------------------------------------
// Protocols: a table of data, not a chain of ifs.

export const Transport = z.enum(['tcp', 'udp', 'sctp']);
export type Transport = z.infer<typeof Transport>;

/**
 * Every protocol a contract rule may name, and the transport(s) it rides on. An L4-only sender
 * (Falco sees `tcp`, not `https`) is compatible with any rule whose protocol rides on that
 * transport. Add a row here to allow a new protocol in contracts.
 */
export const protocolTransports = {
  tcp: ['tcp'],
  udp: ['udp'],
  sctp: ['sctp'],
  http: ['tcp'],
  https: ['tcp'],
  http2: ['tcp'],
  grpc: ['tcp'],
  tls: ['tcp'],
  mysql: ['tcp'],
  postgres: ['tcp'],
  redis: ['tcp'],
  mongodb: ['tcp'],
  kafka: ['tcp'],
  amqp: ['tcp'],
  smtp: ['tcp'],
  ssh: ['tcp'],
  ldap: ['tcp'],
  dns: ['udp', 'tcp'],
  ntp: ['udp'],
  quic: ['udp'],
} as const satisfies Record<string, readonly Transport[]>;

export type Protocol = keyof typeof protocolTransports;
export const protocolNames = Object.keys(protocolTransports) as Protocol[];

/** Other spellings of the same protocol, accepted in contracts and alerts alike. */
export const protocolAliases: Readonly<Record<string, Protocol>> = {
  h2: 'http2',
  postgresql: 'postgres',
};

/** Lower-case and resolve aliases: `HTTPS` → `https`, `h2` → `http2`. Unknown names pass through lower-cased. */
export function normalizeProtocol(name: string): string {
  const lower = name.trim().toLowerCase();
  return Object.hasOwn(protocolAliases, lower) ? protocolAliases[lower]! : lower;
}

export function isKnownProtocol(name: string): name is Protocol {
  return Object.hasOwn(protocolTransports, name);
}

// ---------------------------------------------------------------------------------------------
// IP addresses and CIDRs, in plain TypeScript (domain/ imports no node:*), shared by the schema
// and the evaluator so that what validates is exactly what matches.

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

// ---------------------------------------------------------------------------------------------
// The schema

const Port = z
  .number({
    error: (iss) =>
      typeof iss.input === 'string'
        ? 'expected a port number from 1 to 65535 (a number, not a string)'
        : 'expected a port number from 1 to 65535',
  })
  .int({ error: 'expected a whole port number from 1 to 65535' })
  .min(1, { error: 'expected a port number from 1 to 65535' })
  .max(65535, { error: 'expected a port number from 1 to 65535' });

const Ports = z
  .array(Port, {
    error: (iss) =>
      iss.input === undefined
        ? 'required: the ports, e.g. [443]'
        : 'expected a list of port numbers, e.g. [443]',
  })
  .min(1, { error: 'expected at least one port' });

/** A required non-empty string, with messages that say what it is for. */
function text(what: string) {
  return z
    .string({
      error: (iss) => (iss.input === undefined ? `required: ${what}` : `expected ${what} (a string)`),
    })
    .trim()
    .min(1, { error: `expected ${what}, got an empty string`, abort: true });
}

const ServiceName = (what: string) =>
  text(what).regex(/^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$/, {
    error: `expected ${what}: lower-case letters, digits, '-', '.' or '_'`,
  });

const NamespaceName = (what: string) =>
  text(what).regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    error: `expected ${what}: a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)`,
  });

const ProtocolName = z
  .string({
    error: (iss) =>
      iss.input === undefined
        ? 'required: the protocol, e.g. https or tcp'
        : 'expected a protocol name (a string)',
  })
  .transform(normalizeProtocol)
  .refine(isKnownProtocol, { error: `expected one of: ${protocolNames.join(', ')}` })
  .transform((p) => p as Protocol);

/** HTTP methods an internal rule may narrow to; rendered into the destination's AuthorizationPolicy. */
export const HttpMethod = z
  .string({ error: 'expected an HTTP method such as GET (a string)' })
  .transform((m) => m.trim().toUpperCase())
  .refine((m) => /^[A-Z]{1,20}$/.test(m), { error: 'expected an HTTP method such as GET or POST' });

export const InternalRule = z.strictObject({
  to_service: ServiceName('the destination service name'),
  namespace: NamespaceName("the destination service's namespace"),
  ports: Ports,
  protocol: ProtocolName,
  /** Absent: any method. Only an L7 authorization policy can enforce it (contracts render). */
  methods: z
    .array(HttpMethod, { error: 'expected a list of HTTP methods, e.g. [GET, POST]' })
    .min(1, { error: 'expected at least one method (or leave methods out for any)' })
    .optional(),
});
export type InternalRule = z.infer<typeof InternalRule>;

const Fqdn = text('a host name').superRefine((name, ctx) => {
  const problem = fqdnProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const CidrText = text('a CIDR').superRefine((value, ctx) => {
  const res = parseCidr(value);
  if (!res.ok) ctx.addIssue({ code: 'custom', message: res.problem });
});

/**
 * `to_fqdn` may be a wildcard (`*.stripe.com`: any deeper subdomain, never stripe.com itself);
 * `to_cidr` covers IP destinations (IPv4 or IPv6). Exactly one of them per rule.
 */
export const ExternalRule = z
  .strictObject({
    to_fqdn: Fqdn.transform(normalizeFqdn).optional(),
    to_cidr: CidrText.optional(),
    /**
     * With to_fqdn: the addresses the host name resolves to, for clusters whose CNI cannot enforce
     * FQDNs (a plain NetworkPolicy then allows these CIDRs instead of the name).
     */
    cidrs: z.array(CidrText, { error: 'expected a list of CIDRs' }).min(1).optional(),
    ports: Ports,
    protocol: ProtocolName,
  })
  .superRefine((rule, ctx) => {
    if (rule.cidrs !== undefined && rule.to_fqdn === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['cidrs'],
        message:
          'cidrs goes with to_fqdn (the addresses of that host); a to_cidr rule already names its CIDR',
      });
    }
    if (rule.to_fqdn !== undefined && rule.to_cidr !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a rule names exactly one destination: to_fqdn or to_cidr, not both',
      });
    } else if (rule.to_fqdn === undefined && rule.to_cidr === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a rule needs a destination: to_fqdn or to_cidr' });
    }
  });
export type ExternalRule = z.infer<typeof ExternalRule>;

const Requirement = z.enum(['required', 'optional', 'disabled'], {
  error: 'expected one of: required, optional, disabled',
});

export const EgressContract = z.strictObject(
  {
    service: ServiceName('the name of the service this contract is for'),
    /** The namespace the service runs in; absent = the contract applies in any namespace. */
    namespace: NamespaceName('the namespace the service runs in').optional(),
    identity: z
      .strictObject({
        k8s_service_account: text('a service account name').optional(),
        spiffe_id: text('a SPIFFE id').optional(),
      })
      .optional(),
    allowed_internal: z.array(InternalRule, { error: 'expected a list of rules' }).default([]),
    allowed_external: z.array(ExternalRule, { error: 'expected a list of rules' }).default([]),
    requirements: z
      .strictObject({
        mtls: Requirement.optional(),
        authz_policy: Requirement.optional(),
        audit_logs: Requirement.optional(),
      })
      .optional(),
    /** Free-form ownership data (owner_team, change_ticket, review_interval_days …): informative only. */
    metadata: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]), {
        error: 'expected a mapping of names to strings, numbers or booleans',
      })
      .optional(),
  },
  { error: 'expected a mapping with service, allowed_internal, allowed_external …' },
);
export type EgressContract = z.infer<typeof EgressContract>;

/** A contract as loaded: where it came from matters for audit annotations and error messages. */
export interface LoadedContract {
  file: string;
  contract: EgressContract;
}

export const ViolationReason = z.enum(['unknown_destination', 'port_not_allowed', 'protocol_mismatch']);
export type ViolationReason = z.infer<typeof ViolationReason>;

const ContractRef = z.strictObject({ service: z.string(), file: z.string() });

export const Verdict = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('violation'),
    reason: ViolationReason,
    message: z.string(),
    contract: ContractRef,
  }),
  z.strictObject({
    kind: z.literal('allowed'),
    message: z.string(),
    contract: ContractRef,
    /** Which rule matched: list name and index, and the rule itself. */
    rule: z.strictObject({
      list: z.enum(['allowed_internal', 'allowed_external']),
      index: z.number().int().min(0),
      text: z.string(),
    }),
  }),
  z.strictObject({ kind: z.literal('no-contract'), message: z.string() }),
]);
export type Verdict = z.infer<typeof Verdict>;
export type VerdictKind = Verdict['kind'];
