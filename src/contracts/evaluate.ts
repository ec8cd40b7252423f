import {
  cidrContains,
  type IpAddress,
  ipv4Mapped,
  normalizeFqdn,
  parseCidr,
  parseIp,
} from '../domain/address.js';
import type { AlertDestination, AlertSource, EgressAlert } from '../domain/alert.js';
import type { ExternalRule, InternalRule, LoadedContract, Verdict } from '../domain/contract.js';
import { protocolCompatible } from './protocol.js';

// evaluate(contracts, alert) → Verdict. Pure: no I/O, no clock; the same inputs give the same verdict.

type RuleList = 'allowed_internal' | 'allowed_external';

/** A rule whose destination matched the alert's. */
interface Candidate {
  list: RuleList;
  index: number;
  ports: readonly number[];
  protocol: string;
  text: string;
}

/**
 * The contract for an alert's source: same service, and the same namespace or none. A contract
 * naming the namespace wins over one that applies in any namespace; otherwise the first one wins.
 */
export function findContract(
  contracts: readonly LoadedContract[],
  source: Pick<AlertSource, 'service' | 'namespace'>,
): LoadedContract | undefined {
  let anyNamespace: LoadedContract | undefined;
  for (const loaded of contracts) {
    const { service, namespace } = loaded.contract;
    if (service !== source.service) continue;
    if (namespace === source.namespace) return loaded;
    if (namespace === undefined) anyNamespace ??= loaded;
  }
  return anyNamespace;
}

/** One line per rule, as shown in verdicts: `allowed_external[0]: api.stripe.com ports 443 https`. */
export function describeRule(list: 'allowed_internal', index: number, rule: InternalRule): string;
export function describeRule(list: 'allowed_external', index: number, rule: ExternalRule): string;
export function describeRule(list: RuleList, index: number, rule: InternalRule | ExternalRule): string {
  const to =
    'to_service' in rule
      ? `${rule.to_service}.${rule.namespace}`
      : (rule.to_fqdn ?? rule.to_cidr ?? '(no destination)');
  return `${list}[${index}]: ${to} ports ${rule.ports.join(', ')} ${rule.protocol}`;
}

/** `*.stripe.com` matches any deeper subdomain (a.stripe.com, a.b.stripe.com), never stripe.com or evilstripe.com. */
export function fqdnMatches(pattern: string, name: string): boolean {
  const want = normalizeFqdn(pattern);
  const got = normalizeFqdn(name);
  if (got === '' || got.split('.').some((label) => label === '')) return false;
  if (!want.startsWith('*.')) return got === want;
  const suffix = want.slice(1); // `.stripe.com`
  return got.length > suffix.length && got.endsWith(suffix);
}

/** Parse an alert's IP destination; a zone id (`fe80::1%eth0`) is ignored. */
function alertIp(name: string): IpAddress | undefined {
  const percent = name.indexOf('%');
  return parseIp((percent === -1 ? name : name.slice(0, percent)).trim());
}

function ipInRule(rule: ExternalRule, ip: IpAddress): boolean {
  if (rule.to_cidr === undefined) return false;
  const parsed = parseCidr(rule.to_cidr);
  if (!parsed.ok) return false; // cannot happen for a contract that passed the schema
  const mapped = ipv4Mapped(ip);
  return cidrContains(parsed.cidr, ip) || (mapped !== undefined && cidrContains(parsed.cidr, mapped));
}

function candidates(loaded: LoadedContract, dst: AlertDestination, sourceNamespace: string): Candidate[] {
  const { contract } = loaded;
  const out: Candidate[] = [];
  if (dst.type === 'service') {
    // A bare service name resolves in the caller's namespace, as cluster DNS does.
    const namespace = dst.namespace ?? sourceNamespace;
    contract.allowed_internal.forEach((rule, index) => {
      if (rule.to_service === dst.name && rule.namespace === namespace) {
        out.push({
          list: 'allowed_internal',
          index,
          ...rule,
          text: describeRule('allowed_internal', index, rule),
        });
      }
    });
    return out;
  }
  const ip = dst.type === 'ip' ? alertIp(dst.name) : undefined;
  contract.allowed_external.forEach((rule, index) => {
    const hit =
      dst.type === 'fqdn'
        ? rule.to_fqdn !== undefined && fqdnMatches(rule.to_fqdn, dst.name)
        : ip !== undefined && ipInRule(rule, ip);
    if (hit)
      out.push({
        list: 'allowed_external',
        index,
        ...rule,
        text: describeRule('allowed_external', index, rule),
      });
  });
  return out;
}

function describeTarget(dst: AlertDestination, sourceNamespace: string): string {
  if (dst.type === 'service') return `service ${dst.name} in namespace ${dst.namespace ?? sourceNamespace}`;
  return dst.name;
}

/** `443`, `80 and 443`, `80, 443 and 8443`. */
function listOf(items: readonly string[], last = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
}

function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}

export function evaluate(contracts: readonly LoadedContract[], alert: EgressAlert): Verdict {
  const { source, destination: dst } = alert;
  const loaded = findContract(contracts, source);
  if (!loaded) {
    return {
      kind: 'no-contract',
      message: `No egress contract covers service ${source.service} in namespace ${source.namespace}.`,
    };
  }
  const contract = { service: loaded.contract.service, file: loaded.file };
  const who = `${source.service} (namespace ${source.namespace})`;
  const target = describeTarget(dst, source.namespace);
  const seen = `${who} called ${target} on port ${dst.port} over ${dst.protocol}`;

  const matches = candidates(loaded, dst, source.namespace);
  if (matches.length === 0) {
    const notIp =
      dst.type === 'ip' && alertIp(dst.name) === undefined ? ` (${dst.name} is not a valid IP address)` : '';
    return {
      kind: 'violation',
      reason: 'unknown_destination',
      message: `${seen}, a destination its egress contract ${loaded.file} does not list${notIp}.`,
      contract,
    };
  }

  const onPort = matches.filter((c) => c.ports.includes(dst.port));
  const rule = onPort.find((c) => protocolCompatible(dst.protocol, c.protocol));
  if (rule) {
    return {
      kind: 'allowed',
      message: `${seen}, which its egress contract ${loaded.file} allows (${rule.text}).`,
      contract,
      rule: { list: rule.list, index: rule.index, text: rule.text },
    };
  }

  if (onPort.length === 0) {
    const ports = unique(matches.flatMap((c) => c.ports))
      .sort((a, b) => a - b)
      .map(String);
    return {
      kind: 'violation',
      reason: 'port_not_allowed',
      message:
        `${seen}, but its egress contract ${loaded.file} allows that destination only on ` +
        `port${ports.length === 1 ? '' : 's'} ${listOf(ports)}.`,
      contract,
    };
  }

  const protocols = unique(onPort.map((c) => c.protocol));
  return {
    kind: 'violation',
    reason: 'protocol_mismatch',
    message:
      `${seen}, but its egress contract ${loaded.file} allows that destination on port ${dst.port} ` +
      `only over ${listOf(protocols, 'or')}.`,
    contract,
  };
}
