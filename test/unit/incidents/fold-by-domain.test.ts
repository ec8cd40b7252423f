import { parseContract } from '../../../src/contracts/load.js';
import type { EgressAlert, ParsedBatch } from '../../../src/domain/alert.js';
import { recordAlerts } from '../../../src/incidents/record-alerts.js';
import { fingerprint } from '../../../src/intake/fingerprint.js';
import { anAlert } from '../../builders/alert.js';
import { testEngine } from '../../builders/engine.js';

// The recorder picks each alert's fingerprint: an FQDN no rule of the source's contract matches folds
// by its registrable domain (intake.fingerprintFqdnBy, default registrable-domain), and the incident
// counts the distinct hosts folded in.

const batch = (alerts: EgressAlert[]): ParsedBatch => ({
  format: 'egress-event',
  alerts,
  items: alerts.map((alert, index) => ({ index, at: `[${index}]`, alert })),
});
const to = (name: string, over: Parameters<typeof anAlert>[0] = {}) =>
  anAlert({ ...over, destination: { type: 'fqdn', name, port: 53, protocol: 'dns', ...over.destination } });

const CONTRACT = parseContract(
  `service: payments-api
namespace: prod
allowed_external:
  - { to_fqdn: "api.evil-example.com", ports: [443], protocol: https }
  - { to_fqdn: "*.cdn.evil-example.com", ports: [443], protocol: https }
`,
  'payments-api.yaml',
);

describe('folding FQDN alerts by registrable domain', () => {
  it('2000 unique subdomains of one domain open one incident with the exact distinct-host count', async () => {
    const t = testEngine();
    const alerts = Array.from({ length: 2000 }, (_, i) =>
      to(`${i}.x7f.tunnel-example.net`, { requestId: `q-${i}` }),
    );
    // And 500 repeats of hosts already seen: alerts counted, hosts not.
    alerts.push(
      ...Array.from({ length: 500 }, (_, i) => to(`${i}.X7F.tunnel-example.net.`, { requestId: `r-${i}` })),
    );
    const results = await recordAlerts(t.recorder(), batch(alerts), { concurrency: 16 });
    expect(results.filter((r) => r.status === 'opened')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'folded')).toHaveLength(2499);
    const incidents = await t.store.incidents.list();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ count: 2500 });
    expect(incidents[0]?.hosts).toMatchObject({ domain: 'tunnel-example.net', count: 2000, capped: false });
    expect(incidents[0]?.hosts?.sample).toHaveLength(5);
    const events = await t.store.timeline.read(incidents[0]!.id);
    expect(events.find((e) => e.kind === 'incident.opened')?.summary).toContain(
      'Alerts to other hosts of tunnel-example.net the contract does not name fold into it',
    );
    const folded = events.filter((e) => e.kind === 'alert.folded');
    expect(folded).toHaveLength(2499);
    expect(folded[0]?.summary).toMatch(
      /^Alert to \d+\.x7f\.tunnel-example\.net folded in \(\d+ alerts, last seen /,
    );
  });

  it('a host an exact contract rule names keeps its own fingerprint, and so does a wildcard match', async () => {
    const t = testEngine();
    const recorder = t.recorder({ contracts: () => [CONTRACT] });
    const https = { destination: { port: 443, protocol: 'https' } };
    const [named] = await recordAlerts(recorder, batch([to('api.evil-example.com', https)]));
    const [cdn] = await recordAlerts(recorder, batch([to('img.cdn.evil-example.com', https)]));
    const unknown = await recordAlerts(
      recorder,
      batch([
        to('a.evil-example.com', https),
        to('b.evil-example.com', https),
        to('c.cdn2.evil-example.com', https),
      ]),
      { concurrency: 1 },
    );
    expect(unknown.map((r) => r.status)).toEqual(['opened', 'folded', 'folded']);
    const ids = new Set([named!.id, cdn!.id, unknown[0]!.id]);
    expect(ids.size).toBe(3);
    const byId = async (id: string | null) => t.store.incidents.get(id!);
    expect((await byId(named!.id))?.verdict.kind).toBe('allowed');
    expect((await byId(named!.id))?.fingerprint).toBe(fingerprint(to('api.evil-example.com', https)));
    expect((await byId(named!.id))?.hosts).toEqual({
      count: 1,
      capped: false,
      sample: ['api.evil-example.com'],
    });
    expect((await byId(cdn!.id))?.verdict.kind).toBe('allowed');
    expect((await byId(unknown[0]!.id))?.hosts).toMatchObject({ domain: 'evil-example.com', count: 3 });
    // A port violation on a named host: a rule matched the host, so it keeps its own incident too.
    const [port] = await recordAlerts(
      recorder,
      batch([to('api.evil-example.com', { destination: { port: 8443, protocol: 'https' } })]),
    );
    expect(ids.has(port!.id)).toBe(false);
    expect((await byId(port!.id))?.verdict).toMatchObject({ kind: 'violation', reason: 'port_not_allowed' });
  });

  it('fingerprintFqdnBy: host keeps one incident per host', async () => {
    const t = testEngine();
    const recorder = t.recorder({ fqdnFingerprint: 'host' });
    const results = await recordAlerts(
      recorder,
      batch([to('a.tunnel-example.net'), to('b.tunnel-example.net')]),
    );
    expect(results.map((r) => r.status)).toEqual(['opened', 'opened']);
    const incidents = await t.store.incidents.list();
    expect(incidents.map((i) => i.hosts?.domain)).toEqual([undefined, undefined]);
  });

  it('IP and in-cluster service destinations keep their fingerprints and record no hosts', async () => {
    const t = testEngine();
    const ip = anAlert({ destination: { type: 'ip', name: '169.254.169.254', port: 80, protocol: 'http' } });
    const svc = anAlert({
      destination: { type: 'service', name: 'ledger-db', namespace: 'prod', port: 5432, protocol: 'tcp' },
    });
    const [a, b] = await recordAlerts(t.recorder(), batch([ip, svc]));
    for (const [r, alert] of [
      [a, ip],
      [b, svc],
    ] as const) {
      const incident = await t.store.incidents.get(r!.id!);
      expect(incident?.fingerprint).toBe(fingerprint(alert));
      expect(incident?.hosts).toBeUndefined();
    }
  });

  it('hostile names are recorded without throwing; those with no registrable domain count as their host', async () => {
    const t = testEngine();
    const names = [
      'constructor.com',
      '..',
      `${'x'.repeat(300)}.evil.com`,
      'UPPER.EVIL.COM',
      'trailing.evil.com.',
      'xn--e1afmkfd.xn--p1ai',
      'a.пример.рф',
      'localhost',
      'co.uk',
      '__proto__',
    ];
    const results = await recordAlerts(t.recorder(), batch(names.map((n) => to(n))), { concurrency: 1 });
    expect(results.every((r) => r.status === 'opened' || r.status === 'folded')).toBe(true);
    const hostsOf = async (i: number) => (await t.store.incidents.get(results[i]!.id!))?.hosts;
    // UPPER.EVIL.COM and trailing.evil.com. fold into one evil.com incident; the 300-char label is its own host.
    expect(results[4]).toMatchObject({ status: 'folded', id: results[3]!.id });
    expect(await hostsOf(3)).toEqual({
      domain: 'evil.com',
      count: 2,
      capped: false,
      sample: ['upper.evil.com', 'trailing.evil.com'],
    });
    expect((await hostsOf(2))?.domain).toBeUndefined();
    // Unicode and punycode spellings of one domain are one incident, shown in ASCII.
    expect(results[6]).toMatchObject({ status: 'folded', id: results[5]!.id });
    expect((await hostsOf(5))?.sample).toEqual(['xn--e1afmkfd.xn--p1ai', 'a.xn--e1afmkfd.xn--p1ai']);
    for (const i of [1, 7, 8, 9]) expect((await hostsOf(i))?.domain).toBeUndefined();
  });
});
