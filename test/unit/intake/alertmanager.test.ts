import { readFileSync } from 'node:fs';
import { EgressAlert } from '../../../src/domain/alert.js';
import { AlertmanagerLabelMapping } from '../../../src/domain/alertmanager-labels.js';
import { labelFor, parseAlertmanager } from '../../../src/intake/alertmanager.js';
import { NAMESPACE_MESSAGE, SERVICE_MESSAGE } from '../../../src/intake/kube-names.js';
import { parseAlertBody } from '../../../src/intake/parse.js';
import { rejectedIssues, thrownCoded as rejection } from '../../support/coded.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/alertmanager/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(fixture(name)) as Record<string, unknown>;
/** 2026-11-25T14:10:00.000Z */
const receivedAt = Date.UTC(2026, 10, 25, 14, 10, 0, 0);
const opts = { receivedAt };

/** A minimal valid webhook around the given alerts. */
function webhook(alerts: unknown[]): Record<string, unknown> {
  return { version: '4', receiver: 'egress-responder', status: 'firing', alerts };
}
const labels = {
  alertname: 'EgressOutsideContract',
  src_service: 'payments-api',
  src_namespace: 'prod',
  dst_type: 'fqdn',
  dst_name: 'exfil.example.net',
  dst_port: '443',
  protocol: 'tcp',
};

describe('Alertmanager webhook: the typical group (2 firing, 1 resolved)', () => {
  const batch = parseAlertBody(fixture('typical-group.json'), 'application/json', opts);

  it('is detected as Alertmanager and returns all three alerts, resolved included', () => {
    expect(batch.format).toBe('alertmanager');
    expect(batch.alerts.map((a) => a.state)).toEqual(['firing', 'firing', 'resolved']);
    for (const a of batch.alerts) expect(EgressAlert.safeParse(a).success).toBe(true);
  });

  it('maps a firing alert exactly: labels → fields, startsAt → firstSeen, receipt → lastSeen', () => {
    expect(batch.alerts[0]).toEqual({
      origin: 'alertmanager',
      state: 'firing',
      event: 'EgressOutsideContract',
      source: {
        service: 'payments-api',
        namespace: 'prod',
        identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
      },
      destination: { type: 'fqdn', name: 'exfil.example.net', port: 443, protocol: 'tcp' },
      decision: 'allow',
      policyId: 'egress-default-allow',
      requestId: 'alertmanager:3f5a0b6c2d1e9f47:2026-11-25T14:01:42.318304117Z',
      count: 1,
      firstSeen: '2026-11-25T14:01:42.318Z',
      lastSeen: '2026-11-25T14:10:00.000Z',
      summary:
        'payments-api opened 42 connections to exfil.example.net:443 in 5m (not in its egress contract)',
      extra: {
        'label.cluster': 'prod-eu-west-1',
        'label.prometheus': 'monitoring/k8s',
        'label.severity': 'critical',
        'annotation.runbook_url': 'https://runbooks.example.com/egress/outside-contract',
        generatorURL:
          'https://prometheus.example.com/graph?g0.expr=sum+by+%28src_service%2C+src_namespace%2C+dst_name%2C+dst_port%29+%28increase%28egress_connections_total%7Bcontract%3D%22violation%22%7D%5B5m%5D%29%29+%3E+0&g0.tab=1',
      },
    });
  });

  it('falls back to the description annotation for the summary and reads a service destination', () => {
    const a = batch.alerts[1];
    expect(a?.source).toEqual({ service: 'campaign-mailer', namespace: 'marketing' });
    expect(a?.destination).toEqual({
      type: 'service',
      name: 'orders-api',
      namespace: 'commerce',
      port: 8080,
      protocol: 'grpc',
    });
    expect(a?.summary).toBe(
      'campaign-mailer (marketing) called orders-api.commerce:8080 over gRPC; its contract allows no commerce destinations.',
    );
    // The annotation used as summary is not repeated in extra.
    expect(Object.keys(a?.extra ?? {}).sort()).toEqual([
      'generatorURL',
      'label.cluster',
      'label.prometheus',
      'label.severity',
    ]);
    expect(a?.requestId).toBe('alertmanager:a1b2c3d4e5f60718:2026-11-25T14:02:12.001Z');
  });

  it('takes lastSeen of a resolved alert from endsAt and gives its notification its own request id', () => {
    expect(batch.alerts[2]).toMatchObject({
      state: 'resolved',
      source: { service: 'ledger-worker', namespace: 'finance' },
      destination: { type: 'ip', name: '198.51.100.23', port: 8443, protocol: 'tcp' },
      decision: 'deny',
      firstSeen: '2026-11-25T13:20:00.000Z',
      lastSeen: '2026-11-25T13:58:30.500Z',
      requestId: 'alertmanager:9e8d7c6b5a493827:2026-11-25T13:20:00Z:resolved',
      summary: 'ledger-worker stopped connecting to 198.51.100.23:8443',
    });
  });

  it('gives a re-sent group (next group_interval) the same request ids: a retry, not new observations', () => {
    const later = parseAlertBody(fixture('typical-group.json'), 'application/json', {
      receivedAt: receivedAt + 5 * 60_000,
    });
    expect(later.alerts.map((a) => a.requestId)).toEqual(batch.alerts.map((a) => a.requestId));
    expect(later.alerts[0]?.lastSeen).toBe('2026-11-25T14:15:00.000Z');
  });
});

describe('Alertmanager webhook: times and ids', () => {
  it('treats the Go zero endsAt of a resolved alert as unset (lastSeen = receipt)', () => {
    const {
      alerts: [a],
    } = parseAlertmanager(
      webhook([
        { status: 'resolved', labels, startsAt: '2026-11-25T13:00:00Z', endsAt: '0001-01-01T00:00:00Z' },
      ]),
      opts,
    );
    expect([a?.state, a?.firstSeen, a?.lastSeen]).toEqual([
      'resolved',
      '2026-11-25T13:00:00.000Z',
      '2026-11-25T14:10:00.000Z',
    ]);
  });

  it('never reports lastSeen before firstSeen when the sender clock is ahead', () => {
    const {
      alerts: [a],
    } = parseAlertmanager(webhook([{ status: 'firing', labels, startsAt: '2026-11-25T14:12:00Z' }]), opts);
    expect([a?.firstSeen, a?.lastSeen]).toEqual(['2026-11-25T14:12:00.000Z', '2026-11-25T14:12:00.000Z']);
  });

  it('uses the request_id label when the alert has no fingerprint, and none when neither exists', () => {
    const { alerts } = parseAlertmanager(
      webhook([
        { status: 'firing', labels: { ...labels, request_id: 'req-7' }, startsAt: '2026-11-25T14:00:00Z' },
        { status: 'firing', labels, startsAt: '2026-11-25T14:00:00Z' },
      ]),
      opts,
    );
    expect(alerts[0]?.requestId).toBe('req-7');
    expect(alerts[1]).not.toHaveProperty('requestId');
    expect(alerts[1]).not.toHaveProperty('summary');
    expect(alerts[1]?.extra).toEqual({});
  });
});

describe('Alertmanager webhook: label mapping', () => {
  const mapping = AlertmanagerLabelMapping.parse({
    src_service: 'app',
    src_namespace: 'namespace',
    dst_type: 'destination_kind',
    dst_name: 'destination',
    dst_port: 'destination_port',
    protocol: 'l4_protocol',
    decision: 'verdict',
  });

  it('reads fields from the configured labels and leaves unmapped fields at their own names', () => {
    expect(labelFor('src_service', mapping)).toBe('app');
    expect(labelFor('trace_id', mapping)).toBe('trace_id');
    expect(labelFor('src_service', undefined)).toBe('src_service');
    const batch = parseAlertBody(fixture('custom-labels.json'), undefined, {
      receivedAt,
      alertmanagerLabels: mapping,
    });
    expect(batch.alerts).toEqual([
      {
        origin: 'alertmanager',
        state: 'firing',
        event: 'CiliumEgressDenied',
        source: { service: 'payments-api', namespace: 'prod' },
        destination: { type: 'fqdn', name: 'exfil.example.net', port: 443, protocol: 'tcp' },
        decision: 'DROPPED',
        requestId: 'alertmanager:c0ffee0123456789:2026-11-25T14:01:42.318+01:00',
        count: 1,
        firstSeen: '2026-11-25T13:01:42.318Z',
        lastSeen: '2026-11-25T14:10:00.000Z',
        summary: 'Cilium dropped egress from payments-api to exfil.example.net:443',
        extra: {
          'label.severity': 'warning',
          generatorURL: 'https://prometheus.example.com/graph?g0.expr=hubble_drop_total&g0.tab=1',
        },
      },
    ]);
  });

  it('names the mapped label in errors', () => {
    const body = json('custom-labels.json');
    const alert = (body.alerts as Array<{ labels: Record<string, string> }>)[0]!;
    alert.labels.destination_port = '80443';
    delete (alert.labels as Record<string, string | undefined>).app;
    const err = rejection(() => parseAlertmanager(body, { receivedAt, alertmanagerLabels: mapping }));
    expect(err.issues).toEqual([
      { path: 'alerts[0].labels.app', message: 'is required (the source service name)' },
      {
        path: 'alerts[0].labels.destination_port',
        message: 'expected a port number from 0 to 65535 (a number or a string of digits)',
        value: '"80443"',
      },
    ]);
  });

  it('does not find a mapped label on Object.prototype', () => {
    const m = AlertmanagerLabelMapping.parse({ src_service: 'constructor' });
    const err = rejection(() =>
      parseAlertmanager(webhook([{ status: 'firing', labels, startsAt: '2026-11-25T14:00:00Z' }]), {
        receivedAt,
        alertmanagerLabels: m,
      }),
    );
    expect(err.issues).toEqual([
      { path: 'alerts[0].labels.constructor', message: 'is required (the source service name)' },
    ]);
  });

  it('reads a label value named like an Object.prototype property as a plain name', () => {
    const m = AlertmanagerLabelMapping.parse({ src_namespace: 'constructor', src_service: '__proto__' });
    const { src_namespace: _ns, src_service: _svc, ...rest } = labels;
    const own: Record<string, string> = { ...rest, constructor: 'constructor' };
    Object.defineProperty(own, '__proto__', { value: 'tostring', enumerable: true });
    const body = JSON.stringify(
      webhook([{ status: 'firing', labels: own, startsAt: '2026-11-25T14:00:00Z' }]),
    );
    const [alert] = parseAlertBody(body, undefined, { receivedAt, alertmanagerLabels: m }).alerts;
    expect(alert?.source).toEqual({ service: 'tostring', namespace: 'constructor' });
  });

  it('rejects a misspelt mapping key (strict schema)', () => {
    const res = AlertmanagerLabelMapping.safeParse({ src_servce: 'app', dst_port: '' });
    expect(res.success).toBe(false);
    expect(res.error?.issues.map((i) => [i.code, i.path.join('.')])).toEqual([
      ['too_small', 'dst_port'],
      ['unrecognized_keys', ''],
    ]);
  });
});

describe('Alertmanager webhook: Kubernetes names in labels', () => {
  it('rejects a service label that would smuggle a selector, and namespaces that are not labels, naming each label', () => {
    const alert = (l: Record<string, string>) => ({
      status: 'firing',
      labels: l,
      startsAt: '2026-11-25T14:00:00Z',
    });
    const err = rejection(() =>
      parseAlertmanager(
        webhook([
          alert({ ...labels, src_service: 'ledger-db,tier=database' }),
          alert({ ...labels, src_namespace: '..' }),
          alert({ ...labels, dst_type: 'service', dst_name: 'orders-api', dst_namespace: 'a/b' }),
        ]),
        opts,
      ),
    );
    expect(err.issues).toEqual([
      { path: 'alerts[0].labels.src_service', message: SERVICE_MESSAGE, value: '"ledger-db,tier=database"' },
      { path: 'alerts[1].labels.src_namespace', message: NAMESPACE_MESSAGE, value: '".."' },
      { path: 'alerts[2].labels.dst_namespace', message: NAMESPACE_MESSAGE, value: '"a/b"' },
    ]);
  });

  it('never reads a label or annotation through a __proto__ key or Object.prototype', () => {
    const { src_namespace: _ns, ...rest } = labels;
    // As JSON text, so `__proto__` is an own key, as a sender's body would make it.
    const proto = (json: string, inner: string) => json.replace(/^\{/, `{"__proto__":${inner},`);
    const smuggled = proto(JSON.stringify(rest), '{"src_namespace":"prod"}');
    const annotations = proto('{"toString":"t"}', '{"summary":"smuggled"}');
    const alert = (l: string) =>
      `{"status":"firing","startsAt":"2026-11-25T14:00:00Z","labels":${l},"annotations":${annotations}}`;
    const body = `{"version":"4","status":"firing","alerts":[${alert(smuggled)},${alert(JSON.stringify(labels))}]}`;
    const batch = parseAlertBody(body, undefined, opts);
    expect(rejectedIssues(batch).map((i) => [i.path, i.message])).toEqual([
      ['alerts[0].labels.src_namespace', 'is required (the source namespace)'],
    ]);
    expect(batch.alerts[0]?.source.namespace).toBe('prod');
    expect(batch.alerts[0]?.summary).toBeUndefined();
    expect(batch.alerts[0]?.extra['annotation.toString']).toBe('t');
  });

  it('names the mapped label when its value is not a namespace', () => {
    const m = AlertmanagerLabelMapping.parse({ src_namespace: 'kubernetes_namespace' });
    const { src_namespace: _ns, ...rest } = labels;
    const body = webhook([
      {
        status: 'firing',
        labels: { ...rest, kubernetes_namespace: 'Prod' },
        startsAt: '2026-11-25T14:00:00Z',
      },
    ]);
    expect(rejection(() => parseAlertmanager(body, { receivedAt, alertmanagerLabels: m })).issues).toEqual([
      { path: 'alerts[0].labels.kubernetes_namespace', message: NAMESPACE_MESSAGE, value: '"Prod"' },
    ]);
  });
});

describe('Alertmanager webhook: bad input', () => {
  it('rejects payload version "3", naming the field', () => {
    const err = rejection(() => parseAlertBody(fixture('version-3.json'), 'application/json', opts));
    expect(err.code).toBe('alert_invalid');
    expect(err.message).toBe('Rejected: not a valid Alertmanager webhook (payload version 4)');
    expect(err.issues).toEqual([
      {
        path: 'version',
        message: 'expected "4": this bot reads Alertmanager webhook payload version 4',
        value: '"3"',
      },
    ]);
  });

  it('keeps the valid alert of a group, listing every bad field of every bad alert', () => {
    const batch = parseAlertBody(fixture('bad-alerts.json'), 'application/json', opts);
    expect(batch.items.map((i) => [i.at, i.alert !== undefined])).toEqual([
      ['alerts[0]', false],
      ['alerts[1]', false],
      ['alerts[2]', false],
      ['alerts[3]', false],
      ['alerts[4]', true],
    ]);
    expect(rejectedIssues(batch)).toEqual([
      { path: 'alerts[0].labels.src_namespace', message: 'is required (the source namespace)' },
      { path: 'alerts[0].labels.dst_port', message: 'is required (the destination port, 0–65535)' },
      { path: 'alerts[1].labels.dst_type', message: 'expected one of service, fqdn, ip', value: '"dns"' },
      {
        path: 'alerts[1].labels.dst_port',
        message: 'expected a port number from 0 to 65535 (a number or a string of digits)',
        value: '"https"',
      },
      { path: 'alerts[2].status', message: 'expected "firing" or "resolved"', value: '"pending"' },
      {
        path: 'alerts[2].labels.dst_namespace',
        message: 'is required when dst_type is service (the destination namespace)',
      },
      {
        path: 'alerts[2].startsAt',
        message: 'expected an RFC 3339 time with a zone (2026-11-25T14:03:12Z)',
        value: '"yesterday"',
      },
      {
        path: 'alerts[3].labels.dst_port',
        message: 'expected a string (label and annotation values are strings)',
        value: '443',
      },
    ]);
  });

  it('reports missing startsAt/labels and a non-object alert', () => {
    const err = rejection(() => parseAlertmanager(webhook([{ status: 'firing' }, 'x']), opts));
    expect(err.issues).toEqual([
      { path: 'alerts[0].labels', message: 'expected an object of name → string value' },
      { path: 'alerts[0].startsAt', message: 'expected an RFC 3339 time (when the alert started)' },
      { path: 'alerts[1]', message: 'expected an object (one Alertmanager alert)', value: '"x"' },
    ]);
  });

  it('rejects an empty startsAt and a bad endsAt on a resolved alert', () => {
    const err = rejection(() =>
      parseAlertmanager(
        webhook([
          { status: 'firing', labels, startsAt: '' },
          { status: 'resolved', labels, startsAt: '2026-11-25T13:00:00Z', endsAt: 'soon' },
        ]),
        opts,
      ),
    );
    expect(err.issues).toEqual([
      { path: 'alerts[0].startsAt', message: 'is required (an RFC 3339 time)', value: '""' },
      {
        path: 'alerts[1].endsAt',
        message: 'expected an RFC 3339 time with a zone (2026-11-25T14:03:12Z)',
        value: '"soon"',
      },
    ]);
  });

  it('rejects an empty alerts array and more alerts than maxAlerts', () => {
    const empty = rejection(() => parseAlertmanager(webhook([]), opts));
    expect(empty.issues).toEqual([{ path: 'alerts', message: 'is empty: expected at least one alert' }]);
    const alert = { status: 'firing', labels, startsAt: '2026-11-25T14:00:00Z' };
    const many = rejection(() =>
      parseAlertmanager(webhook([alert, alert, alert]), { receivedAt, maxAlerts: 2 }),
    );
    expect(many.message).toBe('Too many alerts in one request: 3, the limit is 2');
    expect(many.issues).toEqual([
      { path: 'alerts', message: 'carries 3 alerts; at most 2 are accepted per request (split the batch)' },
    ]);
  });

  it('cuts a long summary to 2000 characters', () => {
    const {
      alerts: [a],
    } = parseAlertmanager(
      webhook([
        {
          status: 'firing',
          labels,
          annotations: { summary: 's'.repeat(3000) },
          startsAt: '2026-11-25T14:00:00Z',
        },
      ]),
      opts,
    );
    expect(a?.summary).toBe('s'.repeat(2000));
  });
});
