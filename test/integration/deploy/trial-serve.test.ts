// The trial overlay, started as its pod would start: `serve` with the args, environment and numeric
// user the rendered Deployment gives it, reading its config, playbooks and contracts from directories
// laid out as the kubelet lays out ConfigMap volumes (files as symlinks through `..data`), against a
// private redis-server and the local fake Slack Web API in Socket Mode. It answers the probes, takes
// an alert as the example Alertmanager receiver would post it, and on SIGTERM turns unready, then
// exits within the pod's grace period.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';
import { findAlertmanagerBinary } from '../../support/alertmanager.js';
import { freePort, type PrivateRedis, startRedisServer } from '../../support/redis.js';
import { deployDir, hasKubectl, type KubeDoc, kustomize } from '../../unit/deploy/kustomize.js';
import { builtPackage } from '../crash/build.js';

// biome-ignore lint/suspicious/noExplicitAny: a rendered manifest, read field by field
type Any = Record<string, any>;
const TOKEN = 'trial-alert-token-0123456789';

/** A ConfigMap as its volume: `..<stamp>/<key>` files, `..data` → the stamp, `<key>` → `..data/<key>`. */
function configMapVolume(dir: string, data: Record<string, string>): void {
  const stamp = '..2026_12_03_09_00_00.000000001';
  mkdirSync(join(dir, stamp), { recursive: true });
  for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, stamp, key), value);
  symlinkSync(stamp, join(dir, '..data'));
  for (const key of Object.keys(data)) symlinkSync(join('..data', key), join(dir, key));
}

(hasKubectl ? describe : describe.skip)('deploy/overlays/trial, started as its pod', () => {
  let redis: PrivateRedis;
  let slack: FakeSlackApi;
  let proc: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let base: string;
  let output = '';
  let pod: Any;
  let config: Any;

  beforeAll(async () => {
    // DEPLOY_PACKAGE_ROOT: run the same checks on another package tree (e.g. one with production dependencies only).
    const root = process.env.DEPLOY_PACKAGE_ROOT ?? (await builtPackage(resolve('.'))).root;
    chmodSync(root, 0o755); // the pod's user is not the owner of the files, as in the image
    [redis, slack] = await Promise.all([startRedisServer(), startFakeSlackApi()]);
    const docs = kustomize(join(deployDir, 'overlays', 'trial')) as (KubeDoc & Any)[];
    pod = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'egress-responder')!.spec.template
      .spec;
    const c = pod.containers[0];
    // The volumes, each where the pod mounts it (under a temp dir: paths in the config are rewritten to match).
    const mounts = mkdtempSync(join(tmpdir(), 'trial-pod-'));
    chmodSync(mounts, 0o755);
    const at = (p: string) => join(mounts, p);
    for (const m of c.volumeMounts) {
      const vol = pod.volumes.find((v: Any) => v.name === m.name);
      if (!vol.configMap) continue;
      const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === vol.configMap.name)!;
      configMapVolume(at(m.mountPath), cm.data as Record<string, string>);
    }
    const configArg = c.args[c.args.indexOf('--config') + 1] as string;
    config = parse(readFileSync(at(configArg), 'utf8'));
    const rewritten = { ...config, playbooks: at(config.playbooks), contracts: at(config.contracts) };
    const configFile = join(mounts, 'config.yaml');
    writeFileSync(configFile, stringify(rewritten));
    // The Secret, with test values for every key the pod reads.
    const secret: Record<string, string> = {
      'redis-url': redis.url,
      'slack-bot-token': 'xoxb-trial-bot-token',
      'slack-signing-secret': 'trial-signing-secret',
      'slack-app-token': 'xapp-trial-app-token',
      'alert-webhook-token': TOKEN,
    };
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', SLACK_API_URL: slack.url };
    for (const e of c.env as Any[]) env[e.name] = e.value ?? secret[e.valueFrom.secretKeyRef.key];
    const port = await freePort();
    env.PORT = String(port);
    base = `http://127.0.0.1:${port}`;
    const args = c.args.map((a: string) => (a === configArg ? configFile : a));
    proc = spawn(process.execPath, [join(root, 'bin', 'egress-responder.js'), ...args], {
      env,
      uid: pod.securityContext.runAsUser,
      gid: pod.securityContext.runAsGroup,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((done) => proc.once('exit', (code, signal) => done({ code, signal })));
    const listening = new Promise<void>((ready, fail) => {
      const t = setTimeout(() => fail(new Error(`serve did not listen within 20 s:\n${output}`)), 20_000);
      const on = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes(`listening on :${port}`)) {
          clearTimeout(t);
          ready();
        }
      };
      proc.stdout!.on('data', on);
      proc.stderr!.on('data', on);
      void exited.then(() => fail(new Error(`serve exited:\n${output}`)));
    });
    await listening;
  }, 120_000);

  afterAll(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await Promise.all([slack?.close(), redis?.kill()]);
  });

  it('runs as the numeric user the pod names, in Socket Mode, and answers both probes on Redis', async () => {
    expect(pod.securityContext.runAsUser).toBe(10001);
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)/m.exec(status)![1]).toBe('10001');
    await slack.waitForSocket(10_000);
    const live = await fetch(`${base}${pod.containers[0].livenessProbe.httpGet.path}`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${base}${pod.containers[0].readinessProbe.httpGet.path}`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', store: 'redis' }]);
    // Started, the process fits its memory request (what the scheduler reserves), far below its limit.
    const rss =
      Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]) * 1024;
    const mi = (q: string) => Number(/^(\d+)Mi$/.exec(q)![1]) * 2 ** 20;
    console.log(`trial pod process RSS after start: ${(rss / 2 ** 20).toFixed(1)} MiB`);
    expect(rss).toBeLessThan(mi(pod.containers[0].resources.requests.memory));
    expect(rss).toBeLessThan(mi(pod.containers[0].resources.limits.memory) / 2);
  });

  it("takes the example rule's alert as Alertmanager posts it (bearer token) and opens its thread in the incident channel", async () => {
    const rule = (parse(readFileSync(join(deployDir, 'alert-sources', 'prometheusrule.yaml'), 'utf8')) as Any)
      .spec.groups[0].rules[0];
    const labels = {
      alertname: rule.alert,
      egress_responder: 'true',
      src_service: 'demo-api',
      src_namespace: config.namespaces.allow[0],
      src_identity: `spiffe://cluster.local/ns/${config.namespaces.allow[0]}/sa/demo-api`,
      dst_type: rule.labels.dst_type,
      dst_name: 'paste.exfil.example.net',
      dst_port: rule.labels.dst_port,
      protocol: rule.labels.protocol,
      decision: rule.labels.decision,
    };
    const body = JSON.stringify({
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
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          fingerprint: '0f1e2d3c4b5a6978',
        },
      ],
    });
    const post = (auth?: string) =>
      fetch(`${base}/alerts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
        body,
      });
    expect((await post()).status).toBe(401);
    const res = await post(`Bearer ${TOKEN}`);
    expect(res.status).toBeLessThan(300);
    const [call] = await slack.waitForCalls('chat.postMessage', 1, 15_000);
    expect(call!.body.channel).toBe(config.slack.incidentChannel);
    expect(JSON.stringify(call!.body)).toContain('paste.exfil.example.net');
  });

  const amBin = findAlertmanagerBinary();
  if (!amBin)
    console.warn('Alertmanager binary not found: install prometheus-alertmanager (bash .ci/run does)');
  (amBin ? it : it.skip)(
    'a real Alertmanager on deploy/alert-sources/alertmanager.yml delivers to the bot with the token from its credentials_file',
    async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'trial-am-'));
      const example = parse(
        readFileSync(join(deployDir, 'alert-sources', 'alertmanager.yml'), 'utf8'),
      ) as Any;
      // What changes for the test: where it posts, the token file, and timings short enough for a test.
      const hook = example.receivers.find((r: Any) => r.name === 'egress-responder').webhook_configs[0];
      expect(new URL(hook.url).pathname).toBe('/alerts');
      hook.url = `${base}/alerts`;
      writeFileSync(join(tmp, 'token'), `${TOKEN}\n`);
      hook.http_config.authorization.credentials_file = join(tmp, 'token');
      Object.assign(example.route.routes[0], { group_wait: '100ms', group_interval: '1s' });
      writeFileSync(join(tmp, 'alertmanager.yml'), stringify(example));
      const port = await freePort();
      const am = spawn(
        amBin!,
        [
          `--config.file=${join(tmp, 'alertmanager.yml')}`,
          `--storage.path=${join(tmp, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--cluster.listen-address=',
        ],
        { stdio: 'ignore' },
      );
      try {
        const api = `http://127.0.0.1:${port}`;
        for (let i = 0; i < 100; i++) {
          if ((await fetch(`${api}/-/ready`).catch(() => undefined))?.ok) break;
          await new Promise((d) => setTimeout(d, 100));
        }
        const before = slack.callsTo('chat.postMessage').length;
        const ns = config.namespaces.allow[0];
        const labels = {
          alertname: 'EgressToExternalHost',
          egress_responder: 'true',
          src_service: 'demo-worker',
          src_namespace: ns,
          dst_type: 'fqdn',
          dst_name: 'drop.exfil.example.org',
          dst_port: '443',
          protocol: 'https',
        };
        const posted = await fetch(`${api}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify([{ labels, annotations: { summary: 'from a real Alertmanager' } }]),
        });
        expect(posted.status).toBe(200);
        // Other threads may be posting too: wait for a root message about this destination.
        const about = () =>
          slack
            .callsTo('chat.postMessage')
            .slice(before)
            .find((c) => !c.body.thread_ts && JSON.stringify(c.body).includes('drop.exfil.example.org'));
        for (let i = 0; i < 150 && !about(); i++) await new Promise((d) => setTimeout(d, 100));
        expect(about()?.body.channel).toBe(config.slack.incidentChannel);
      } finally {
        am.kill('SIGTERM');
      }
    },
    30_000,
  );

  it('on SIGTERM turns unready first, then exits 0 within the grace period', async () => {
    const started = Date.now();
    proc.kill('SIGTERM');
    let unready = 0;
    for (let i = 0; i < 40 && unready === 0; i++) {
      const r = await fetch(`${base}/readyz`).catch(() => undefined);
      if (r?.status === 503) unready = Date.now() - started;
      else await new Promise((d) => setTimeout(d, 100));
    }
    expect(unready).toBeGreaterThan(0);
    const { code } = await exited;
    const took = Date.now() - started;
    expect(code).toBe(0);
    expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace on the way out
    expect(took).toBeLessThan(pod.terminationGracePeriodSeconds * 1000);
  }, 60_000);
});
