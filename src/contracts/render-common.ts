import { type InternalRule, protocolTransports } from '../domain/contract.js';

// What every part of a render shares: the object shape, names, ports and provenance metadata.

/** Plain Kubernetes JSON, as written to files and sent to the API server. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: Record<string, unknown>;
}

/** Where a rendered object comes from and which contract it belongs to. */
export interface Provenance {
  service: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const PREFIX = 'egress-contract-';

/** Kubernetes object names are DNS subdomains: the contract's `_` becomes `-`. */
export function objectName(...parts: string[]): string {
  return `${PREFIX}${parts.join('-')}`.replaceAll('_', '-');
}

/** Each port on every transport the protocol rides on: `dns` on 53 is UDP/53 and TCP/53. */
export function portsOf(
  rule: Pick<InternalRule, 'ports' | 'protocol'>,
): { protocol: string; port: number }[] {
  const transports = protocolTransports[rule.protocol];
  return rule.ports.flatMap((port) => transports.map((t) => ({ protocol: t.toUpperCase(), port })));
}

export function metadataFor(p: Provenance, name: string, namespace: string): RenderedObject['metadata'] {
  return { name, namespace, labels: { ...p.labels }, annotations: { ...p.annotations } };
}
