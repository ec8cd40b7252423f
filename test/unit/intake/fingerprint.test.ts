import { fingerprint } from '../../../src/intake/fingerprint.js';
import { anAlert } from '../../builders/alert.js';

describe('fingerprint: the same anomaly', () => {
  it('is 16 lower-case hex characters and stable across calls', () => {
    const fp = fingerprint(anAlert());
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(anAlert())).toBe(fp);
  });

  it('pins the value of a known alert (changing the key breaks folding of open incidents)', () => {
    expect(fingerprint(anAlert())).toBe(fingerprint(anAlert({ origin: 'alertmanager' })));
    // sha256(JSON ["v1","identity",<spiffe id>,"prod","fqdn","exfil.example.net","",443,"https"]), first 16 hex.
    expect(fingerprint(anAlert())).toBe('045b99790e628ccf');
  });

  it('gives the same answers past the cap of digests it remembers (5,000 anomalies, twice)', () => {
    const alerts = Array.from({ length: 5000 }, (_, i) =>
      anAlert({
        destination: { type: 'ip', name: `198.51.${i >> 8}.${i & 255}`, port: 443, protocol: 'tcp' },
      }),
    );
    const first = alerts.map((a) => fingerprint(a));
    expect(new Set(first).size).toBe(5000);
    expect(alerts.map((a) => fingerprint(a))).toEqual(first);
    expect(fingerprint(anAlert())).toBe('045b99790e628ccf');
  });

  it('ignores times, counts, request and trace ids, state, origin, summary, decision and extra', () => {
    const base = fingerprint(anAlert());
    expect(
      fingerprint(
        anAlert({
          origin: 'falcosidekick',
          state: 'resolved',
          event: 'other',
          firstSeen: '2027-01-01T00:00:00.000Z',
          lastSeen: '2027-01-02T00:00:00.000Z',
          count: 99,
          requestId: 'r-2',
          traceId: 't-2',
          decision: 'deny',
          policyId: 'p-2',
          summary: 'different words',
          extra: { anything: 'else' },
          source: { pod: 'payments-api-7d9f8b6c5d-x2x7q' },
        }),
      ),
    ).toBe(base);
  });

  it('treats DNS names case-insensitively and ignores a trailing root dot', () => {
    const base = fingerprint(anAlert());
    expect(fingerprint(anAlert({ destination: { name: 'EXFIL.Example.NET' } }))).toBe(base);
    expect(fingerprint(anAlert({ destination: { name: 'exfil.example.net.' } }))).toBe(base);
  });

  it('ignores a namespace on a non-service destination (it carries no meaning there)', () => {
    expect(fingerprint(anAlert({ destination: { namespace: 'edge' } }))).toBe(fingerprint(anAlert()));
  });
});

describe('fingerprint: different anomalies', () => {
  const base = fingerprint(anAlert());

  it.each([
    ['port', { destination: { port: 8443 } }],
    ['protocol', { destination: { protocol: 'tcp' } }],
    ['destination name', { destination: { name: 'other.example.net' } }],
    ['destination type', { destination: { type: 'ip' as const, name: 'exfil.example.net' } }],
    ['source namespace', { source: { namespace: 'staging' } }],
    ['identity', { source: { identity: 'spiffe://cluster.local/ns/prod/sa/other' } }],
  ])('differ by %s', (_what, over) => {
    expect(fingerprint(anAlert(over))).not.toBe(base);
  });

  it('separates service destinations in different namespaces', () => {
    const svc = (namespace: string) =>
      fingerprint(
        anAlert({
          destination: { type: 'service', name: 'orders-api', namespace, port: 8080, protocol: 'grpc' },
        }),
      );
    expect(svc('commerce')).not.toBe(svc('staging'));
    expect(svc('commerce')).toBe(svc('commerce'));
  });
});

describe('fingerprint: identity is preferred over service', () => {
  it('folds alerts with the same identity whatever the service is called', () => {
    expect(fingerprint(anAlert({ source: { service: 'payments-api-canary' } }))).toBe(fingerprint(anAlert()));
  });

  it('uses the service when there is no identity, and then the service name matters', () => {
    const noId = (service: string) => {
      const a = anAlert({ source: { service } });
      delete a.source.identity;
      return fingerprint(a);
    };
    expect(noId('payments-api')).toBe(noId('payments-api'));
    expect(noId('payments-api')).not.toBe(noId('checkout'));
    // With and without identity are different keys: an identity-less sender is a different view.
    expect(noId('payments-api')).not.toBe(fingerprint(anAlert()));
  });

  it('cannot confuse a service named like an identity with that identity', () => {
    const identity = 'spiffe://cluster.local/ns/prod/sa/payments-api';
    const byService = anAlert({ source: { service: identity } });
    delete byService.source.identity;
    expect(fingerprint(byService)).not.toBe(fingerprint(anAlert({ source: { identity } })));
  });
});
