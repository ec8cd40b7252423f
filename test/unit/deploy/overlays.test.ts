// Every overlay, rendered with `kubectl kustomize`, is a deployment that can start: the pod's security
// settings, probes on the server's real paths, the config and its ConfigMaps valid for `validate`,
// the bot's NetworkPolicy exactly what `contracts render` makes of its own contract, no namespace
// assumed, no Secret overwritten.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { main } from '../../../src/cli/index.js';
import { parseConfig, readEnv } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { SLACK_EVENTS_PATH } from '../../../src/server/http.js';
import {
  composeKustomization,
  deployDir,
  hasKubectl,
  type KubeDoc,
  kustomize,
  overlays,
} from './kustomize.js';

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests, checked field by field below
type Any = Record<string, any>;
const BOT_CONTRACT = 'egress-responder.yaml';
const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const find = (docs: KubeDoc[], kind: string, name?: string) =>
  docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name)) as Any[];
const one = (docs: KubeDoc[], kind: string, name: string): Any => {
  const found = find(docs, kind, name);
  expect([kind, name, found.length]).toEqual([kind, name, 1]);
  return found[0]!;
};
const container = (docs: KubeDoc[]) =>
  one(docs, 'Deployment', 'egress-responder').spec.template.spec.containers[0] as Any;

/** The ConfigMaps as the pod sees them, in a temp dir; the config's mount paths pointed there. */
function mounted(docs: KubeDoc[]): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-mount-'));
  const spec = one(docs, 'Deployment', 'egress-responder').spec.template.spec;
  const at: Record<string, string> = {};
  for (const m of spec.containers[0].volumeMounts) {
    const vol = spec.volumes.find((v: Any) => v.name === m.name);
    if (!vol.configMap) continue;
    const cm = one(docs, 'ConfigMap', vol.configMap.name);
    const local = join(dir, m.name);
    mkdirSync(local);
    for (const [key, value] of Object.entries(cm.data as Record<string, string>))
      writeFileSync(join(local, key), value);
    at[m.mountPath] = local;
  }
  const args = container(docs).args as string[];
  const configPath = args[args.indexOf('--config') + 1]!;
  const configDir = configPath.slice(0, configPath.lastIndexOf('/'));
  expect(Object.keys(at)).toContain(configDir);
  const config = parse(readFileSync(join(at[configDir]!, 'config.yaml'), 'utf8')) as Any;
  for (const key of ['playbooks', 'contracts']) {
    expect([key, Object.keys(at)]).toEqual([key, expect.arrayContaining([config[key]])]);
    config[key] = at[config[key]];
  }
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(config));
  return { dir, config: file };
}

(hasKubectl ? describe : describe.skip)('deploy/ overlays (kubectl kustomize)', () => {
  const rendered = Object.fromEntries(
    overlays.map((o) => [o, kustomize(join(deployDir, 'overlays', o))]),
  ) as Record<(typeof overlays)[number], KubeDoc[]>;
  const base = kustomize(join(deployDir, 'base'));
  const all = { base, ...rendered };
  const cases = Object.keys(all).map((k) => [k]);

  it.each(cases)('%s: two or more replicas in a pod the kubelet can run as non-root, read-only', (name) => {
    const docs = all[name as keyof typeof all];
    const deploy = one(docs, 'Deployment', 'egress-responder');
    expect(deploy.spec.replicas).toBeGreaterThanOrEqual(2);
    const pod = deploy.spec.template.spec;
    const uid = Number(/^USER (\d+):(\d+)$/m.exec(readFileSync(join(deployDir, 'Dockerfile'), 'utf8'))![1]);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: uid,
      fsGroup: uid,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const c = container(docs);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits).toMatchObject({ memory: expect.any(String) });
    expect(pod.topologySpreadConstraints.map((t: Any) => t.topologyKey)).toContain('kubernetes.io/hostname');
    for (const t of pod.topologySpreadConstraints)
      expect(t.labelSelector.matchLabels).toEqual(deploy.spec.selector.matchLabels);
    // Every volume that is not a ConfigMap is scratch space (the root filesystem is read-only).
    expect(pod.volumes.filter((v: Any) => !v.configMap).map((v: Any) => Object.keys(v).sort())).toEqual([
      ['emptyDir', 'name'],
    ]);
  });

  it.each(cases)(
    "%s: every pod meets Pod Security's `restricted` profile, which the bot's namespace enforces",
    (name) => {
      const docs = all[name as keyof typeof all];
      const ns = one(docs, 'Namespace', 'egress-responder');
      expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
      const pods = find(docs, 'Deployment').map((d) => [d.metadata.name, d.spec.template.spec] as const);
      expect(pods.length).toBeGreaterThan(0);
      for (const [workload, pod] of pods) {
        expect([workload, pod.securityContext.runAsNonRoot, pod.securityContext.seccompProfile]).toEqual([
          workload,
          true,
          { type: 'RuntimeDefault' },
        ]);
        expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
        for (const c of pod.containers) {
          expect([
            workload,
            c.securityContext.allowPrivilegeEscalation,
            c.securityContext.capabilities.drop,
          ]).toEqual([workload, false, ['ALL']]);
        }
        expect(pod.hostNetwork ?? false).toBe(false);
        expect(pod.volumes.filter((v: Any) => v.hostPath)).toEqual([]);
      }
    },
  );

  it.each(cases)('%s: probes ask the server itself on the port it listens on', async (name) => {
    const docs = all[name as keyof typeof all];
    const c = container(docs);
    const port = Number(c.env.find((e: Any) => e.name === 'PORT').value);
    expect(c.ports).toEqual([{ name: 'http', containerPort: port }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    // The paths are the server's: its route table names them (test/integration/deploy starts it).
    const server = readFileSync(join(packageRoot, 'src', 'server', 'http.ts'), 'utf8');
    for (const p of ['/healthz', '/readyz']) expect(server).toMatch(new RegExp(`'${p}': \\{\\s*GET:`));
    // The grace period covers the config's drain and shutdown bound.
    const { config } = mounted(docs);
    const loaded = parseConfig(readFileSync(config, 'utf8'), config, tmpdir(), readEnv({}));
    const grace = one(docs, 'Deployment', 'egress-responder').spec.template.spec
      .terminationGracePeriodSeconds;
    expect(grace * 1000).toBeGreaterThan(loaded.shutdown.grace);
  });

  it.each(cases)('%s: the Service, the PodDisruptionBudget and the spread select the pods', (name) => {
    const docs = all[name as keyof typeof all];
    const labels = one(docs, 'Deployment', 'egress-responder').spec.template.metadata.labels;
    const selects = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    expect(selects(one(docs, 'Service', 'egress-responder').spec.selector)).toBe(true);
    const pdb = one(docs, 'PodDisruptionBudget', 'egress-responder');
    expect(pdb.spec.minAvailable).toBe(1);
    expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
  });

  it.each(cases)(
    '%s: the config, playbooks and contracts as mounted pass `validate`, manifests included',
    async (name) => {
      const docs = all[name as keyof typeof all];
      const { dir, config } = mounted(docs);
      const manifests = join(dir, 'rendered.yaml');
      writeFileSync(manifests, docs.map((d) => stringify(d)).join('---\n'));
      const r = await cli(['validate', '--config', config, '--manifests', manifests]);
      expect([r.code, r.err]).toEqual([0, '']);
      expect(r.out).toMatch(/1 playbook\(s\)/);
      expect(r.out).toMatch(/ok {2}contract egress-responder /);
    },
  );

  it.each(cases)(
    "%s: the bot's NetworkPolicy is what `contracts render` makes of its mounted contract",
    async (name) => {
      const docs = all[name as keyof typeof all];
      const { dir } = mounted(docs);
      const contracts = join(dir, 'contracts');
      const only = join(dir, 'bot-contract');
      mkdirSync(only);
      writeFileSync(join(only, BOT_CONTRACT), readFileSync(join(contracts, BOT_CONTRACT)));
      const r = await cli(['contracts', 'render', '--contracts', only, '--format', 'json']);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.out) as Any;
      const objects = (Array.isArray(out) ? out : (out.items ?? [out])) as Any[];
      const policy = objects.find((o) => o.kind === 'NetworkPolicy')!;
      const deployed = one(docs, 'NetworkPolicy', policy.metadata.name);
      expect(deployed).toEqual(policy);
      // Whatever else it allows, it is the bot's pods it selects, and DNS is among what they may reach.
      const labels = one(docs, 'Deployment', 'egress-responder').spec.template.metadata.labels;
      expect(Object.entries(deployed.spec.podSelector.matchLabels).every(([k, v]) => labels[k] === v)).toBe(
        true,
      );
      expect(deployed.spec.egress.some((e: Any) => e.ports.some((p: Any) => p.port === 53))).toBe(true);
    },
  );

  it.each(cases)('%s: renders no Secret, and every key the pod reads is in the Secret template', (name) => {
    const docs = all[name as keyof typeof all];
    expect(find(docs, 'Secret')).toEqual([]);
    const template = parse(readFileSync(join(deployDir, 'base', 'secret.template.yaml'), 'utf8')) as Any;
    const keys = container(docs)
      .env.filter((e: Any) => e.valueFrom?.secretKeyRef)
      .map((e: Any) => e.valueFrom.secretKeyRef);
    for (const ref of keys)
      expect([ref.name, Object.keys(template.stringData)]).toEqual([
        template.metadata.name,
        expect.arrayContaining([ref.key]),
      ]);
  });

  it.each(cases)(
    '%s: every namespace it writes into is one it creates or a target namespace it lists',
    (name) => {
      const docs = all[name as keyof typeof all];
      const created = find(docs, 'Namespace').map((n) => n.metadata.name);
      const targets = find(docs, 'RoleBinding')
        .filter((b) => b.roleRef.name === 'egress-responder')
        .map((b) => b.metadata.namespace);
      const defaults = ['istio-system']; // components/l7-deny: the mesh's own namespace
      const used = [...new Set(docs.map((d) => d.metadata.namespace).filter((n) => n !== undefined))];
      expect(
        used.filter((n) => !created.includes(n) && !targets.includes(n) && !defaults.includes(n)),
      ).toEqual([]);
      expect(used).not.toContain('prod');
    },
  );

  it('the trial is self-contained: its Redis, Socket Mode, and a namespace of its own; no Ingress', () => {
    const docs = rendered.trial;
    const created = find(docs, 'Namespace').map((n) => n.metadata.name);
    const used = [...new Set(docs.map((d) => d.metadata.namespace).filter((n) => n !== undefined))];
    expect(used.filter((n) => !created.includes(n))).toEqual([]);
    expect(find(docs, 'Ingress')).toEqual([]);
    const env = container(docs).env as Any[];
    expect(env.find((e) => e.name === 'SLACK_APP_TOKEN')!.valueFrom.secretKeyRef.key).toBe('slack-app-token');
    // The Secret template's redis-url is the trial Redis's Service.
    const url = new URL(
      (parse(readFileSync(join(deployDir, 'base', 'secret.template.yaml'), 'utf8')) as Any).stringData[
        'redis-url'
      ],
    );
    const svc = one(docs, 'Service', 'redis');
    expect(url.hostname).toBe(`${svc.metadata.name}.${svc.metadata.namespace}.svc`);
    expect(Number(url.port)).toBe(svc.spec.ports[0].port);
    const redis = one(docs, 'Deployment', 'redis').spec.template;
    expect(Object.entries(svc.spec.selector).every(([k, v]) => redis.metadata.labels[k] === v)).toBe(true);
    expect(redis.spec.securityContext.runAsNonRoot).toBe(true);
    expect(redis.spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it("the trial's Redis and the bot's NetworkPolicies let exactly the bot reach it on its port", () => {
    const docs = rendered.trial;
    const labelsOf = (name: string) => one(docs, 'Deployment', name).spec.template.metadata.labels;
    const matches = (sel: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(sel).every(([k, v]) => labels[k] === v);
    const port = one(docs, 'Deployment', 'redis').spec.template.spec.containers[0].ports[0].containerPort;
    // The bot's egress allows that port to pods with the Redis labels, in the Redis namespace.
    const botPolicy = find(docs, 'NetworkPolicy').find((p) =>
      matches(p.spec.podSelector.matchLabels, labelsOf('egress-responder')),
    )!;
    const toRedis = botPolicy.spec.egress.filter((e: Any) =>
      e.to.some((t: Any) => t.podSelector && matches(t.podSelector.matchLabels, labelsOf('redis'))),
    );
    expect(toRedis.flatMap((e: Any) => e.ports.map((p: Any) => p.port))).toContain(port);
    // The Redis policy admits the bot's pods on that port and nothing else.
    const redisPolicy = one(docs, 'NetworkPolicy', 'redis');
    expect(matches(redisPolicy.spec.podSelector.matchLabels, labelsOf('redis'))).toBe(true);
    expect(redisPolicy.spec.ingress).toHaveLength(1);
    const [rule] = redisPolicy.spec.ingress;
    expect(
      rule.from.map((f: Any) => matches(f.podSelector.matchLabels, labelsOf('egress-responder'))),
    ).toEqual([true]);
    expect(rule.ports).toEqual([{ port, protocol: 'TCP' }]);
    expect(redisPolicy.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(redisPolicy.spec.egress).toEqual([]);
  });

  it("production publishes only Slack's path through the Ingress, to the bot's Service, and pulls from a registry", () => {
    const docs = rendered.production;
    const ing = one(docs, 'Ingress', 'egress-responder');
    const paths = ing.spec.rules.flatMap((r: Any) => r.http.paths);
    expect(paths.map((p: Any) => p.path)).toEqual([SLACK_EVENTS_PATH]);
    expect(paths[0].backend.service).toEqual({ name: 'egress-responder', port: { name: 'http' } });
    expect(ing.spec.tls[0].hosts).toEqual(ing.spec.rules.map((r: Any) => r.host));
    expect(container(docs).env.map((e: Any) => e.name)).not.toContain('SLACK_APP_TOKEN');
    expect(container(docs).image).toMatch(/^[a-z0-9.-]+\.[a-z]+\/.+:\d+\.\d+\.\d+$/);
    // The Slack app manifest's request URLs use the same path.
    const manifest = readFileSync(join(deployDir, 'slack-app-manifest.yaml'), 'utf8');
    const urls = [...manifest.matchAll(/(?:url|request_url): (\S+)/g)].map((m) => new URL(m[1]!).pathname);
    expect(urls.length).toBe(3);
    expect(new Set(urls)).toEqual(new Set([SLACK_EVENTS_PATH]));
  });

  it("the base names the image `egress-responder` at the package's version, and `images:` sets any registry and tag", () => {
    expect(container(base).image).toBe(`egress-responder:${pkg.version}`);
    const dir = composeKustomization({
      resources: ['base'],
      extra:
        'images:\n  - { name: egress-responder, newName: registry.internal:5000/sec/bot, newTag: "9.9.9" }',
    });
    expect(container(kustomize(dir)).image).toBe('registry.internal:5000/sec/bot:9.9.9');
  });

  it("the base's playbook ConfigMap carries the default playbook unchanged", () => {
    const cm = one(
      base,
      'ConfigMap',
      find(base, 'ConfigMap').find((c) => c.metadata.name.startsWith('egress-responder-playbooks'))!.metadata
        .name,
    );
    expect(cm.data['egress-anomaly.yaml']).toBe(
      readFileSync(join(packageRoot, 'playbooks', 'egress-anomaly.yaml'), 'utf8'),
    );
  });
});

describe('deploy/base/secret.template.yaml', () => {
  it('holds placeholders only: a Secret of the right name, no value that could be a real token', () => {
    const docs = parseAllDocuments(readFileSync(join(deployDir, 'base', 'secret.template.yaml'), 'utf8')).map(
      (d) => d.toJS() as Any,
    );
    expect(docs).toHaveLength(1);
    expect(docs[0]!.metadata).toEqual({ name: 'egress-responder', namespace: 'egress-responder' });
    for (const [key, value] of Object.entries(docs[0]!.stringData as Record<string, string>)) {
      const ok = /^REPLACE-ME-/.test(value) || (key === 'redis-url' && !new URL(value).password);
      expect([key, ok]).toEqual([key, true]);
    }
  });
});

(hasKubectl ? describe : describe.skip)('deploy/components/servicemonitor', () => {
  it("scrapes the server's /metrics through the bot's Service and its named port", () => {
    const docs = kustomize(
      composeKustomization({ resources: ['base'], components: ['components/servicemonitor'] }),
    );
    const sm = one(docs, 'ServiceMonitor', 'egress-responder');
    const svc = one(docs, 'Service', 'egress-responder');
    expect(sm.metadata.namespace).toBe(svc.metadata.namespace);
    const labels = svc.metadata.labels as Record<string, string>;
    expect(Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => labels[k] === v)).toBe(true);
    // Only this Service carries those labels in the namespace, so no other endpoint is scraped by mistake.
    const selected = find(docs, 'Service').filter((s) =>
      Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    expect(selected.map((s) => s.metadata.name)).toEqual(['egress-responder']);
    expect(sm.spec.endpoints.map((e: Any) => e.port)).toEqual(svc.spec.ports.map((p: Any) => p.name));
    const server = readFileSync(join(packageRoot, 'src', 'server', 'http.ts'), 'utf8');
    for (const e of sm.spec.endpoints) expect(server).toMatch(new RegExp(`'${e.path}': \\{\\s*GET:`));
  });
});

describe('deploy/slack-app-manifest.socket-mode.yaml', () => {
  it('is the HTTP manifest without its request URLs, with Socket Mode on', () => {
    const http = parse(readFileSync(join(deployDir, 'slack-app-manifest.yaml'), 'utf8')) as Any;
    const socket = parse(readFileSync(join(deployDir, 'slack-app-manifest.socket-mode.yaml'), 'utf8')) as Any;
    expect([http.settings.socket_mode_enabled, socket.settings.socket_mode_enabled]).toEqual([false, true]);
    const withoutUrls = structuredClone(http);
    for (const c of withoutUrls.features.slash_commands) delete c.url;
    delete withoutUrls.settings.event_subscriptions.request_url;
    delete withoutUrls.settings.interactivity.request_url;
    withoutUrls.settings.socket_mode_enabled = true;
    expect(socket).toEqual(withoutUrls);
    expect(JSON.stringify(socket)).not.toContain('https://');
  });
});
