// Validators of an alert's fields: names, Kubernetes names, the port, the destination type. Each
// pushes precise issues and returns undefined on failure.
import type { DestinationType } from '../domain/alert.js';
import type { FieldIssue } from '../domain/errors.js';
import {
  isDnsLabel,
  isDnsSubdomain,
  isServiceName,
  NAMESPACE_MESSAGE,
  POD_MESSAGE,
  SERVICE_MESSAGE,
} from './kube-names.js';
import { kindOf, show, withValue } from './untrusted-values.js';

/** A name (service, namespace, identity, destination) longer than this is not a name. */
export const MAX_NAME_LENGTH = 1024;
/** Senders' one-line descriptions (Falco output, Alertmanager summary) are cut to this. */
export const MAX_SUMMARY_LENGTH = 2000;

/** Messages name the field's meaning; the path (added by the caller) names where it is. */
export function checkName(
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  if (value === undefined || value === null || (value === '' && !opts.required)) {
    if (opts.required) issues.push(withValue({ path, message: `is required (${what})` }, value));
    return undefined;
  }
  if (typeof value !== 'string') {
    issues.push({ path, message: `expected a string (${what}), got ${kindOf(value)}`, value: show(value) });
    return undefined;
  }
  if (value.length > MAX_NAME_LENGTH) {
    issues.push({
      path,
      message: `is ${value.length} characters long: ${what} is at most ${MAX_NAME_LENGTH} characters`,
      value: show(value),
    });
    return undefined;
  }
  if (value.trim() === '') {
    issues.push({ path, message: `must not be empty (${what})`, value: show(value) });
    return undefined;
  }
  return value;
}

/** checkName, then the Kubernetes name rule `valid`; the issue names the rule and shows the value. */
function checkKubeName(
  valid: (name: string) => boolean,
  expected: string,
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  const name = checkName(value, path, what, issues, opts);
  if (name === undefined || valid(name)) return name;
  issues.push({ path, message: expected, value: show(name) });
  return undefined;
}

/** A namespace: a DNS-1123 label (`constructor` is one; `..`, `a/b`, `Prod`, `-x` are not). */
export function checkNamespace(
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  return checkKubeName(isDnsLabel, NAMESPACE_MESSAGE, value, path, what, issues, opts);
}

/** A service (workload) name usable as a label value: never a selector, a path or markup. */
export function checkServiceName(
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  return checkKubeName(isServiceName, SERVICE_MESSAGE, value, path, what, issues, opts);
}

/** A pod name: a DNS-1123 subdomain of at most 253 characters. */
export function checkPodName(
  value: unknown,
  path: string,
  what: string,
  issues: FieldIssue[],
  opts: { required: boolean },
): string | undefined {
  return checkKubeName((n) => isDnsSubdomain(n), POD_MESSAGE, value, path, what, issues, opts);
}

const PORT_MESSAGE = 'expected a port number from 0 to 65535 (a number or a string of digits)';

export function checkPort(value: unknown, path: string, issues: FieldIssue[]): number | undefined {
  if (value === undefined || value === null || value === '') {
    issues.push(withValue({ path, message: 'is required (the destination port, 0–65535)' }, value));
    return undefined;
  }
  let port = Number.NaN;
  if (typeof value === 'number') port = value;
  else if (typeof value === 'string' && /^\d{1,5}$/.test(value)) port = Number(value);
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  issues.push({ path, message: PORT_MESSAGE, value: show(value) });
  return undefined;
}

const DESTINATION_TYPES: readonly DestinationType[] = ['service', 'fqdn', 'ip'];

export function checkDestinationType(
  value: unknown,
  path: string,
  issues: FieldIssue[],
): DestinationType | undefined {
  if (value === undefined || value === null || value === '') {
    issues.push(
      withValue({ path, message: 'is required (the destination type: service, fqdn or ip)' }, value),
    );
    return undefined;
  }
  const lower = typeof value === 'string' ? value.toLowerCase() : undefined;
  const found = DESTINATION_TYPES.find((t) => t === lower);
  if (found) return found;
  issues.push({ path, message: 'expected one of service, fqdn, ip', value: show(value) });
  return undefined;
}
