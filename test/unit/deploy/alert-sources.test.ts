// The alert-source examples in deploy/alert-sources/, checked by the senders' own tools where this
// machine has them (amtool, promtool from Debian's prometheus-alertmanager and prometheus packages)
// and against the bot's own parsers and Service: what they send must be what /alerts accepts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigFile } from '../../../src/config/schema.js';
import type { EgressAlert } from '../../../src/domain/alert.js';
import { parseAlertBody } from '../../../src/intake/parse.js';
import { deployDir, kustomize } from './kustomize.js';

// biome-ignore lint/suspicious/noExplicitAny: sender configs, checked field by field below
type Any = Record<string, any>;
const dir = join(deployDir, 'alert-sources');
const read = (f: string) => parse(readFileSync(join(dir, f), 'utf8')) as Any;
const tool = (name: string) => !spawnSync(name, ['--version'], { encoding: 'utf8' }).error;
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
const scratch = () => mkdtempSync(join(tmpdir(), 'alert-sources-'));

/** The bot's Service as rendered: where in-cluster senders post. */
function alertsUrl(): URL {
  const svc = kustomize(join(deployDir, 'base')).find(
    (d) => d.kind === 'Service' && d.metadata.name === 'egress-responder',
  ) as Any;
  const port = svc.spec.ports[0].port === 80 ? '' : `:${svc.spec.ports[0].port}`;
  return new URL(`http://${svc.metadata.name}.${svc.metadata.namespace}.svc${port}/alerts`);
}

function parsed(body: unknown): EgressAlert[] {
  return parseAlertBody(JSON.stringify(body), 'application/json', {
    receivedAt: Date.parse('2026-12-03T09:00:00Z'),
  }).alerts;
}

for (const [name, present] of [
  ['amtool', tool('amtool')],
  ['promtool', tool('promtool')],
] as const) {
  // Loud where a tool is missing: the checks below that need it are skipped, the rest still run.
  if (!present)
    console.warn(
      `${name} not found: install Debian's prometheus-alertmanager / prometheus (bash .ci/run does)`,
    );
}

describe('deploy/alert-sources/alertmanager.yml', () => {
  const am = read('alertmanager.yml');
  const receiver = am.receivers.find((r: Any) => r.name === 'egress-responder');
  const hook = receiver.webhook_configs[0];

  it("posts to the bot's Service at /alerts with its bearer token from a file, resolved alerts, at most what one request may carry", () => {
    expect(new URL(hook.url)).toEqual(alertsUrl());
    expect(hook.http_config.authorization).toEqual({
      type: 'Bearer',
      credentials_file: expect.stringMatching(/^\//),
    });
    expect(hook.send_resolved).toBe(true);
    const defaults = ConfigFile.parse({}).intake;
    expect(hook.max_alerts).toBeGreaterThan(0);
    expect(hook.max_alerts).toBeLessThanOrEqual(defaults.maxAlertsPerRequest);
  });

  (tool('amtool') ? it : it.skip)(
    "passes `amtool check-config`, and routes the rule's alerts (only those) to the bot",
    () => {
      const tmp = scratch();
      const token = join(tmp, 'token');
      writeFileSync(token, 'a-token\n');
      const file = join(tmp, 'alertmanager.yml');
      writeFileSync(
        file,
        readFileSync(join(dir, 'alertmanager.yml'), 'utf8').replace(
          hook.http_config.authorization.credentials_file,
          token,
        ),
      );
      const check = run('amtool', ['check-config', file]);
      expect([check.status, check.stdout]).toEqual([0, expect.stringContaining('SUCCESS')]);
      const rule = read('prometheusrule.yaml').spec.groups[0].rules[0];
      const route = (labels: string[]) =>
        run('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels]).stdout.trim();
      expect(route([`egress_responder=${rule.labels.egress_responder}`, `alertname=${rule.alert}`])).toBe(
        'egress-responder',
      );
      expect(route(['alertname=Watchdog'])).toBe('default');
      // And a typo is refused, so the check above means something.
      writeFileSync(file, readFileSync(file, 'utf8').replace('max_alerts:', 'max_alertz:'));
      expect(run('amtool', ['check-config', file]).status).not.toBe(0);
    },
  );
});

describe('deploy/alert-sources/prometheusrule.yaml', () => {
  const rule = read('prometheusrule.yaml');

  (tool('promtool') ? it : it.skip)('its spec.groups pass `promtool check rules`', () => {
    const file = join(scratch(), 'rules.yml');
    writeFileSync(file, stringify({ groups: rule.spec.groups }));
    const check = run('promtool', ['check', 'rules', file]);
    expect([check.status, check.stdout]).toEqual([0, expect.stringContaining('SUCCESS: 1 rules found')]);
  });

  (tool('promtool') ? it : it.skip)(
    'fires for an external host and not for an in-cluster one (`promtool test rules`), and the bot parses the alert it makes',
    () => {
      const tmp = scratch();
      writeFileSync(join(tmp, 'rules.yml'), stringify({ groups: rule.spec.groups }));
      const series = {
        reporter: 'source',
        source_workload: 'payments-api',
        source_workload_namespace: 'prod',
        source_principal: 'spiffe://cluster.local/ns/prod/sa/payments-api',
      };
      const selector = (labels: Record<string, string>) =>
        `istio_requests_total{${Object.entries(labels)
          .map(([k, v]) => `${k}="${v}"`)
          .join(', ')}}`;
      const external = { ...series, destination_service: 'paste.exfil.example.net' };
      const { reporter: _r, ...kept } = external;
      // What the rule's labels make of the series, by the template rules (`{{ $labels.x }}` → x's value).
      const templated = Object.fromEntries(
        Object.entries(rule.spec.groups[0].rules[0].labels as Record<string, string>).map(([k, v]) => [
          k,
          v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: keyof typeof external) => external[l]),
        ]),
      );
      const labels = { alertname: 'EgressToExternalHost', ...kept, ...templated };
      writeFileSync(
        join(tmp, 'test.yml'),
        stringify({
          rule_files: ['rules.yml'],
          evaluation_interval: '1m',
          tests: [
            {
              interval: '1m',
              input_series: [
                { series: selector(external), values: '0+10x20' },
                {
                  series: selector({ ...series, destination_service: 'orders-api.prod.svc.cluster.local' }),
                  values: '0+10x20',
                },
              ],
              alert_rule_test: [
                {
                  eval_time: '10m',
                  alertname: 'EgressToExternalHost',
                  exp_alerts: [
                    {
                      exp_labels: labels,
                      exp_annotations: { summary: 'prod/payments-api calls paste.exfil.example.net' },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      );
      const t = run('promtool', ['test', 'rules', join(tmp, 'test.yml')]);
      expect([t.status, t.stdout + t.stderr]).toEqual([0, expect.stringContaining('SUCCESS')]);
      // Those labels, as Alertmanager's webhook posts them, are an egress alert to the bot.
      const [alert] = parsed({
        version: '4',
        status: 'firing',
        receiver: 'egress-responder',
        groupLabels: {},
        commonLabels: labels,
        commonAnnotations: {},
        externalURL: 'http://alertmanager:9093',
        alerts: [
          {
            status: 'firing',
            labels,
            annotations: {},
            startsAt: '2026-12-03T08:59:00Z',
            endsAt: '0001-01-01T00:00:00Z',
            fingerprint: 'a1b2c3d4e5f60718',
          },
        ],
      });
      expect(alert).toMatchObject({
        origin: 'alertmanager',
        source: { service: 'payments-api', namespace: 'prod', identity: series.source_principal },
        destination: { type: 'fqdn', name: 'paste.exfil.example.net', port: 443, protocol: 'https' },
      });
    },
  );
});

describe('deploy/alert-sources/falcosidekick.yaml', () => {
  const sidekick = read('falcosidekick.yaml');

  it("uses Falcosidekick's documented webhook settings, posting to /alerts with a bearer token", () => {
    // Falcosidekick's webhook output: address, method, customHeaders, mutualtls, checkcert, minimumpriority.
    const known = ['address', 'method', 'customHeaders', 'mutualtls', 'checkcert', 'minimumpriority'];
    expect(Object.keys(sidekick.webhook).filter((k) => !known.includes(k))).toEqual([]);
    expect(new URL(sidekick.webhook.address)).toEqual(alertsUrl());
    expect(sidekick.webhook.method).toBe('POST');
    expect(sidekick.webhook.customHeaders.Authorization).toMatch(/^Bearer REPLACE-ME-/);
    const priorities = [
      'emergency',
      'alert',
      'critical',
      'error',
      'warning',
      'notice',
      'informational',
      'debug',
    ];
    expect(priorities).toContain(sidekick.webhook.minimumpriority);
  });

  it('the output fields it names for a Falco rule are enough for the bot to read a source and a destination', () => {
    const text = readFileSync(join(dir, 'falcosidekick.yaml'), 'utf8');
    const output = /output: .*\n(?:#\s+.*\n)*/.exec(text)![0];
    const fields = [...output.matchAll(/%([a-z0-9.]+)/g)].map((m) => m[1]!);
    expect(fields).toEqual(expect.arrayContaining(['k8s.pod.name', 'k8s.ns.name', 'fd.rip', 'fd.rport']));
    const values: Record<string, string | number> = {
      'k8s.pod.name': 'payments-api-7c9d8f6b5-x2k4q',
      'k8s.ns.name': 'prod',
      'fd.name': '10.0.3.7:43210->203.0.113.9:443',
      'fd.rip': '203.0.113.9',
      'fd.rport': 443,
      'fd.l4proto': 'tcp',
    };
    const [alert] = parsed({
      uuid: '2f1a6c1e-8d55-4c0b-9a3e-5b9f0d7c1a22',
      output: 'outbound connection',
      priority: 'Notice',
      rule: 'Outbound connection to an unexpected address',
      time: '2026-12-03T08:59:30.123456789Z',
      output_fields: Object.fromEntries(fields.map((f) => [f, values[f]])),
      source: 'syscall',
      hostname: 'node-1',
    });
    expect(alert).toMatchObject({
      origin: 'falcosidekick',
      source: { namespace: 'prod', pod: 'payments-api-7c9d8f6b5-x2k4q' },
      destination: { type: 'ip', name: '203.0.113.9', port: 443, protocol: 'tcp' },
    });
  });
});
