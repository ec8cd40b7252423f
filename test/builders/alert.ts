import type { EgressAlert } from '../../src/domain/alert.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** A valid EgressAlert (payments-api calling an unknown FQDN) with any field overridden. */
export function anAlert(over: DeepPartial<EgressAlert> = {}): EgressAlert {
  const base: EgressAlert = {
    origin: 'egress-event',
    state: 'firing',
    event: 'egress.connect',
    source: {
      service: 'payments-api',
      namespace: 'prod',
      identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
    },
    destination: { type: 'fqdn', name: 'exfil.example.net', port: 443, protocol: 'https' },
    decision: 'allow',
    count: 1,
    firstSeen: '2026-11-25T14:03:12.123Z',
    lastSeen: '2026-11-25T14:03:12.123Z',
    extra: {},
  };
  return {
    ...base,
    ...over,
    source: { ...base.source, ...over.source },
    destination: { ...base.destination, ...over.destination },
    extra: { ...base.extra, ...(over.extra as Record<string, string> | undefined) },
  } as EgressAlert;
}
