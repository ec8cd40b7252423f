import type { EgressContract, InternalRule } from '../domain/contract.js';
import { metadataFor, objectName, type Provenance, portsOf, type RenderedObject } from './render-common.js';
import { API, type RenderOptions } from './render-options.js';

// The mesh and CNI halves of a render. Istio enforces an AuthorizationPolicy where the traffic
// arrives, so the contract's internal rules become ALLOWs on each destination, naming the source's
// principal. Cilium enforces host names (toFQDNs) once it has seen the lookup through its DNS proxy,
// so its policy also lets the pods ask kube-dns for exactly those names.

/** Methods mean something only to a proxy that reads HTTP. */
const HTTP_PROTOCOLS: ReadonlySet<string> = new Set(['http', 'https', 'http2', 'grpc']);

export function principalOf(contract: EgressContract & { namespace: string }, opts: RenderOptions): string {
  const account = contract.identity?.k8s_service_account ?? contract.service;
  return `${opts.trustDomain}/ns/${contract.namespace}/sa/${account}`;
}

function operation(rule: InternalRule) {
  return {
    ports: [...new Set(portsOf(rule).map((p) => String(p.port)))],
    ...(rule.methods === undefined ? {} : { methods: [...rule.methods] }),
  };
}

/** One ALLOW per destination service (its rules grouped), in the order the contract first names them. */
export function authorizationPolicies(
  contract: EgressContract & { namespace: string },
  p: Provenance,
  opts: RenderOptions,
  warnings: string[],
): RenderedObject[] {
  const byDestination = new Map<string, InternalRule[]>();
  for (const rule of contract.allowed_internal) {
    const key = `${rule.namespace}/${rule.to_service}`;
    byDestination.set(key, [...(byDestination.get(key) ?? []), rule]);
    if (rule.methods !== undefined && !HTTP_PROTOCOLS.has(rule.protocol))
      warnings.push(
        `${rule.to_service}.${rule.namespace}: methods on a ${rule.protocol} rule match no request (Istio reads methods from HTTP only)`,
      );
  }
  const principal = principalOf(contract, opts);
  return [...byDestination.values()].map((rules) => {
    const first = rules[0] as InternalRule;
    return {
      ...API.authorization,
      metadata: metadataFor(
        p,
        objectName(first.to_service, 'from', contract.namespace, contract.service),
        first.namespace,
      ),
      spec: {
        selector: { matchLabels: { [opts.appLabel]: first.to_service } },
        action: 'ALLOW',
        rules: rules.map((rule) => ({
          from: [{ source: { principals: [principal] } }],
          to: [{ operation: operation(rule) }],
        })),
      },
    };
  });
}

/** Host-name rules as a CiliumNetworkPolicy; undefined when the contract names no host. */
export function ciliumFqdnPolicy(
  contract: EgressContract & { namespace: string },
  p: Provenance,
  opts: RenderOptions,
): RenderedObject | undefined {
  const hosts = contract.allowed_external.flatMap((rule) =>
    rule.to_fqdn === undefined ? [] : [{ name: rule.to_fqdn, rule }],
  );
  if (hosts.length === 0) return undefined;
  const selector = (name: string) => (name.startsWith('*.') ? { matchPattern: name } : { matchName: name });
  const names = [...new Set(hosts.map((h) => h.name))];
  return {
    ...API.cilium,
    metadata: metadataFor(p, objectName(contract.service, 'fqdn'), contract.namespace),
    spec: {
      endpointSelector: { matchLabels: { [opts.appLabel]: contract.service } },
      egress: [
        {
          toEndpoints: [
            { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } },
          ],
          toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: names.map(selector) } }],
        },
        ...hosts.map(({ name, rule }) => ({
          toFQDNs: [selector(name)],
          toPorts: [
            { ports: portsOf(rule).map((port) => ({ port: String(port.port), protocol: port.protocol })) },
          ],
        })),
      ],
    },
  };
}
