import { basename } from 'node:path';
import type { EgressContract, ExternalRule, InternalRule, LoadedContract } from '../domain/contract.js';
import { contractSha256 } from './canonical.js';
import { metadataFor, objectName, type Provenance, portsOf, type RenderedObject } from './render-common.js';
import { authorizationPolicies, ciliumFqdnPolicy } from './render-mesh.js';
import {
  API,
  CONTRACT_ANNOTATIONS,
  CONTRACT_LABEL,
  MANAGED_BY_LABEL,
  MANAGER,
  NAMESPACE_NAME_LABEL,
  type RenderOptions,
} from './render-options.js';

// A contract as the objects that enforce it (pure: the same contract and options always give the
// same objects, in the same order). One deny-by-default egress NetworkPolicy for the service's pods
// with one allow per rule, a CiliumNetworkPolicy for host names where Cilium enforces them, and an
// Istio ALLOW on each internal destination for the service's principal.

export type { RenderedObject } from './render-common.js';

export interface ContractRender {
  /** The contract's file name, as in the annotation. */
  file: string;
  service: string;
  namespace: string | undefined;
  sha256: string;
  objects: RenderedObject[];
  /** Rendered, with a caveat a reviewer must read (an FQDN allowed by its CIDRs). */
  warnings: string[];
  /** Not rendered at all (no namespace, a name Kubernetes cannot hold). */
  problems: string[];
}

const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

const DNS_PEER = {
  namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};
const DNS_PORTS = [
  { protocol: 'UDP', port: 53 },
  { protocol: 'TCP', port: 53 },
];

function provenance(loaded: LoadedContract, sha256: string): Provenance {
  const { contract } = loaded;
  const meta = contract.metadata ?? {};
  const ticket = meta.change_ticket;
  const owner = meta.owner_team ?? meta.owner;
  return {
    service: contract.service,
    labels: { [MANAGED_BY_LABEL]: MANAGER, [CONTRACT_LABEL]: contract.service },
    annotations: {
      [CONTRACT_ANNOTATIONS.file]: basename(loaded.file),
      [CONTRACT_ANNOTATIONS.sha256]: sha256,
      ...(ticket === undefined ? {} : { [CONTRACT_ANNOTATIONS.ticket]: String(ticket) }),
      ...(owner === undefined ? {} : { [CONTRACT_ANNOTATIONS.owner]: String(owner) }),
    },
  };
}

function internalEgress(rule: InternalRule, appLabel: string) {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: rule.namespace } },
        podSelector: { matchLabels: { [appLabel]: rule.to_service } },
      },
    ],
    ports: portsOf(rule),
  };
}

/** An external rule as NetworkPolicy egress: its CIDR, or the CIDRs given for a host name. */
function externalEgress(rule: ExternalRule, opts: RenderOptions, warnings: string[]) {
  const cidrs = rule.to_cidr !== undefined ? [rule.to_cidr] : opts.fqdn === 'cidrs' ? rule.cidrs : undefined;
  if (rule.to_fqdn !== undefined && opts.fqdn === 'cidrs') {
    warnings.push(
      cidrs === undefined
        ? `${rule.to_fqdn}: not rendered; a plain NetworkPolicy cannot name a host (give the rule's cidrs, or render with --fqdn cilium where Cilium enforces FQDNs)`
        : `${rule.to_fqdn}: allowed by the CIDRs the contract gives (${cidrs.join(', ')}); FQDNs need a CNI that enforces them (--fqdn cilium)`,
    );
  }
  if (cidrs === undefined) return [];
  return [{ to: cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: portsOf(rule) }];
}

function networkPolicy(
  contract: EgressContract & { namespace: string },
  p: Provenance,
  opts: RenderOptions,
  warnings: string[],
): RenderedObject {
  const egress = [
    ...(opts.dns ? [{ to: [DNS_PEER], ports: DNS_PORTS }] : []),
    ...contract.allowed_internal.map((rule) => internalEgress(rule, opts.appLabel)),
    ...contract.allowed_external.flatMap((rule) => externalEgress(rule, opts, warnings)),
  ];
  return {
    ...API.networkPolicy,
    metadata: metadataFor(p, objectName(contract.service), contract.namespace),
    spec: {
      podSelector: { matchLabels: { [opts.appLabel]: contract.service } },
      policyTypes: ['Egress'],
      egress,
    },
  };
}

/** Why this contract cannot become objects, or undefined when it can. */
function renderProblem(contract: EgressContract, opts: RenderOptions): string | undefined {
  if (contract.namespace === undefined)
    return 'the contract names no namespace, so there is nowhere to put its policies (add namespace:)';
  const tooLong = [contract.service, ...contract.allowed_internal.map((r) => r.to_service)].find(
    (name) => !LABEL_VALUE.test(name),
  );
  if (tooLong !== undefined)
    return `service name "${tooLong}" cannot be a label value (${opts.appLabel}: at most 63 characters)`;
  return undefined;
}

export function renderContract(loaded: LoadedContract, opts: RenderOptions): ContractRender {
  const { contract } = loaded;
  const sha256 = contractSha256(contract);
  const base = {
    file: basename(loaded.file),
    service: contract.service,
    namespace: contract.namespace,
    sha256,
  };
  const problem = renderProblem(contract, opts);
  if (problem !== undefined || contract.namespace === undefined)
    return { ...base, objects: [], warnings: [], problems: [problem ?? 'no namespace'] };
  const scoped = { ...contract, namespace: contract.namespace };
  const p = provenance(loaded, sha256);
  const warnings: string[] = [];
  const objects = [networkPolicy(scoped, p, opts, warnings)];
  const cilium = opts.fqdn === 'cilium' ? ciliumFqdnPolicy(scoped, p, opts) : undefined;
  if (cilium) objects.push(cilium);
  if (contract.requirements?.authz_policy !== 'disabled')
    objects.push(...authorizationPolicies(scoped, p, opts, warnings));
  return { ...base, objects, warnings, problems: [] };
}

/** Every contract, in the order loaded (file name order). */
export function renderContracts(contracts: readonly LoadedContract[], opts: RenderOptions): ContractRender[] {
  return contracts.map((c) => renderContract(c, opts));
}
