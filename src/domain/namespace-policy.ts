import { z } from 'zod';
import { CodedError } from './errors.js';
import { matchesAny } from './glob.js';

/** Namespaces the bot must never mutate unless a config says otherwise: the control plane and itself. */
export const defaultDeniedNamespaces = [
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'istio-system',
  'cert-manager',
  'egress-responder',
];

export const NamespacePolicy = z.strictObject({
  allow: z.array(z.string().min(1)).default(['*']),
  deny: z.array(z.string().min(1)).default(defaultDeniedNamespaces),
});
export type NamespacePolicy = z.infer<typeof NamespacePolicy>;

/** Deny wins over allow. */
export function namespaceAllowed(policy: NamespacePolicy, namespace: string): boolean {
  return !matchesAny(policy.deny, namespace) && matchesAny(policy.allow, namespace);
}

export function assertNamespaceAllowed(policy: NamespacePolicy, namespace: string): void {
  if (namespaceAllowed(policy, namespace)) return;
  const why = matchesAny(policy.deny, namespace)
    ? `it matches the deny list (${policy.deny.join(', ')})`
    : `it is not in the allow list (${policy.allow.join(', ')})`;
  throw new CodedError(
    'namespace_refused',
    `Refusing to act in namespace "${namespace}": ${why}. Change namespaces.allow/deny in the config to permit it.`,
  );
}
