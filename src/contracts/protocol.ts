import { isKnownProtocol, normalizeProtocol, protocolTransports, Transport } from '../domain/contract.js';

const transports: ReadonlySet<string> = new Set(Transport.options);

function ridesOn(protocol: string, transport: string): boolean {
  return isKnownProtocol(protocol) && (protocolTransports[protocol] as readonly string[]).includes(transport);
}

/**
 * Whether traffic an alert reports as `alertProtocol` is covered by a rule allowing `ruleProtocol`.
 * All the knowledge is in `protocolTransports`:
 * - the same protocol (case-insensitive, aliases resolved) is always compatible;
 * - an L4-only report (`tcp`, `udp`: the sender could not see L7) is compatible with any rule
 *   whose protocol rides on that transport;
 * - a rule naming a bare transport covers every L7 protocol that rides on it;
 * - two different L7 protocols never are: `http` does not satisfy an `https` rule.
 */
export function protocolCompatible(alertProtocol: string, ruleProtocol: string): boolean {
  const seen = normalizeProtocol(alertProtocol);
  const allowed = normalizeProtocol(ruleProtocol);
  if (seen === allowed) return true;
  if (transports.has(seen)) return ridesOn(allowed, seen);
  if (transports.has(allowed)) return ridesOn(seen, allowed);
  return false;
}
