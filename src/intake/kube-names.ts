// Kubernetes names. These values end up in label selectors (`app=<service>`), namespaced API paths
// and Slack text: anything that is not a name Kubernetes itself would accept is refused by intake, so a
// sender can never smuggle a selector (`ledger-db,tier=database`), a path (`..`, `a/b`) or markup in.

/** One DNS-1123 label's characters: lower-case alphanumerics and '-', starting and ending alphanumeric. */
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label (namespaces): at most 63 characters. */
export function isDnsLabel(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

/** A DNS-1123 subdomain (pod and most object names): dot-separated labels, at most `max` characters. */
export function isDnsSubdomain(name: string, max = 253): boolean {
  return name.length <= max && name.split('.').every((label) => DNS_LABEL.test(label));
}

/** A workload name that is also a valid label value (the selector `app=<service>`): a subdomain of at most 63. */
export function isServiceName(name: string): boolean {
  return isDnsSubdomain(name, 63);
}

export const NAMESPACE_MESSAGE =
  "expected a Kubernetes namespace (a DNS-1123 label: lower-case letters, digits and '-', at most 63)";
export const SERVICE_MESSAGE =
  "expected a Kubernetes object name usable as a label value (lower-case letters, digits, '-' and '.', " +
  'starting and ending with a letter or digit, at most 63)';
export const POD_MESSAGE =
  "expected a Kubernetes pod name (a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', " +
  'starting and ending with a letter or digit, at most 253)';
