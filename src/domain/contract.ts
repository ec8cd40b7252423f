import { z } from 'zod';
import { fqdnProblem, normalizeFqdn, parseCidr } from './address.js';

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
