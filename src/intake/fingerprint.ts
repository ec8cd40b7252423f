// What makes two alerts "the same anomaly": who (identity, else service) in which namespace,
// talking to which destination on which port and protocol. Never times, counts or request ids.
import { createHash } from 'node:crypto';
import type { EgressAlert } from '../domain/alert.js';

/** Stable 16-hex-char id (sha256 prefix) of the anomaly an alert reports. */
export function fingerprint(alert: EgressAlert): string {
  const { source: s, destination: d } = alert;
  // The identity is the workload, whatever its Deployment is called; tag which one we used so a
  // service named like an identity cannot collide with it.
  const who = s.identity ? ['identity', s.identity] : ['service', s.service];
  // DNS names are case-insensitive and may carry the root dot.
  const name = d.type === 'fqdn' ? d.name.toLowerCase().replace(/\.$/, '') : d.name;
  // A namespace only means something for in-cluster (service) destinations.
  const namespace = d.type === 'service' ? (d.namespace ?? '') : '';
  const key = JSON.stringify([
    'v1',
    ...who,
    s.namespace,
    d.type,
    name,
    namespace,
    d.port,
    d.protocol.toLowerCase(),
  ]);
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
