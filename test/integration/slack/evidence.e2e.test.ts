// Evidence for the forensics hand-off, end to end: a real bot (Bolt over HTTP, engine, presenter)
// against the fake Slack Web API and the fake Kubernetes API. `/egress rotate <id> k8s.collect-evidence`
// (the playbook's hand-off action, run ad hoc) collects each quarantined pod's bundle and logs; every
// artifact is in the timeline with its sha256, uploaded once to the incident's thread with the same
// bytes, and written to the evidence directory; a second presenter (a restart, another replica)
// uploads nothing again; a failed upload is retried and said so in the thread.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import { silentLogger } from '../../../src/observability/logger.js';
import { SlackPresenter } from '../../../src/slack/presenter.js';
import { trapCluster } from '../../builders/additive-trap.js';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import {
  type Bot,
  bootBot,
  CHANNEL,
  defaultConfigYaml,
  egressAlert,
  eventually,
} from '../../support/slack-harness.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
type Obj = Record<string, unknown>;

let kube: FakeKubeApi;
let bot: Bot;
let dir: string;

/** Quarantine the seeded pods for `id` as k8s.quarantine would: label and incident annotation, with statuses. */
function quarantine(id: string, pods: Obj[]): string[] {
  return pods.map((pod, n) => {
    const m = pod.metadata as Obj & { name: string; labels: Record<string, string> };
    kube.put({
      ...pod,
      metadata: {
        ...m,
        labels: { ...m.labels, quarantine: 'true' },
        annotations: { 'egress-responder.io/incident': id },
      },
      spec: {
        ...(pod.spec as Obj),
        nodeName: 'node-a',
        // A password put straight into the spec, and one by reference: the bundle keeps only a digest of the first.
        containers: [
          {
            name: 'app',
            image: 'registry.example/app:1.0',
            env: [
              { name: 'DB_PASSWORD', value: 'hunter2-literal' },
              { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'payments', key: 'api-key' } } },
            ],
          },
        ],
      },
      status: {
        phase: 'Running',
        hostIP: '10.0.0.7',
        containerStatuses: [
          {
            name: 'app',
            image: 'registry.example/app:1.0',
            imageID: `registry.example/app@sha256:${'ab'.repeat(32)}`,
            restartCount: n === 0 ? 1 : 0,
          },
        ],
      },
    });
    return m.name;
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'evidence-'));
  kube = await startFakeKubeApi();
  kube.put({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: 'prod', name: 'payments-allow' },
    spec: { podSelector: { matchLabels: { app: 'payments-api' } }, policyTypes: ['Egress'], egress: [] },
  });
  kube.put({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: 'prod', name: 'other-app' },
    spec: { podSelector: { matchLabels: { app: 'orders' } }, policyTypes: ['Egress'] },
  });
  bot = await bootBot({
    cluster: trapCluster(kube),
    configYaml: `${defaultConfigYaml}\nevidence: { directory: ${JSON.stringify(dir)} }\n`,
  });
});
afterEach(async () => {
  await bot.close();
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

async function collect(): Promise<{ id: string; pods: string[]; rootTs: string }> {
  const id = await bot.openIncident(egressAlert());
  const { pods } = seedDeployment(kube, { namespace: 'prod', name: 'payments-api', replicas: 2 });
  const names = quarantine(id, pods);
  kube.setPodLog('prod', names[0]!, 'GET /health 200\nPOST https://paste.exfil.example.net 201\n', {
    container: 'app',
  });
  kube.setPodLog('prod', names[0]!, 'panic: before the restart\n', { container: 'app', previous: true });
  kube.setPodLog('prod', names[1]!, 'only current\n', { container: 'app' });
  const podUid = ((kube.get('Pod', 'prod', names[0]!)!.metadata as Obj).uid as string) ?? '';
  kube.put({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { namespace: 'prod', name: 'ev-backoff' },
    involvedObject: { kind: 'Pod', namespace: 'prod', name: names[0], uid: podUid },
    reason: 'BackOff',
    message: 'Back-off restarting failed container',
    type: 'Warning',
  });
  await bot.server.slack.presenter.flush();
  const rootTs = (await bot.server.engine.get(id)).slack!.ts;
  const { res, responseUrl } = await bot.slash('U0AAA', `rotate ${id} k8s.collect-evidence`);
  expect(res.status).toBe(200);
  expect((await bot.responsesTo(responseUrl))[0]).toContain('stored 5 artifacts');
  return { id, pods: names, rootTs };
}

const completed = () => [...bot.fake.uploads.values()].filter((u) => u.completed && !u.deleted);

describe('k8s.collect-evidence through Slack, with the evidence directory', () => {
  it('records each artifact with its sha256, uploads the same bytes to the thread once, and writes the same files', async () => {
    const { id, pods, rootTs } = await collect();
    const artifacts = await bot.server.store.artifacts.list(id);
    expect(artifacts.map((a) => a.name).sort()).toEqual(
      [
        `${pods[0]}.app.log`,
        `${pods[0]}.app.previous.log`,
        `${pods[0]}.evidence.json`,
        `${pods[1]}.app.log`,
        `${pods[1]}.evidence.json`,
      ].sort(),
    );
    await eventually(() => completed().length === artifacts.length || undefined, 'every upload', 10_000);
    await bot.server.slack.presenter.flush();
    const events = await bot.server.engine.timeline(id);
    for (const a of artifacts) {
      const { bytes } = (await bot.server.store.artifacts.get(id, a.name))!;
      const stored = events.filter(
        (e) => e.kind === 'artifact.stored' && (e.details.artifact as Obj).name === a.name,
      );
      expect(stored).toHaveLength(1);
      expect(stored[0]!.details.artifact).toMatchObject({
        size: bytes.byteLength,
        sha256: sha(bytes),
        path: join(dir, id, a.name),
      });
      expect(sha(readFileSync(join(dir, id, a.name)))).toBe(a.sha256);
      const up = completed().filter((u) => u.filename === a.name);
      expect(up).toHaveLength(1);
      expect(up[0]).toMatchObject({ channel: CHANNEL, threadTs: rootTs });
      expect(sha(up[0]!.content!)).toBe(a.sha256);
      const recorded = events.filter((e) => e.kind === 'slack.uploaded' && e.details.name === a.name);
      expect(recorded).toHaveLength(1);
      expect(recorded[0]!.details).toMatchObject({
        sha256: a.sha256,
        file_id: up[0]!.fileId,
        thread_ts: rootTs,
      });
    }
    // The thread lists what was uploaded, with the sha256 (the comment of each file's message).
    const thread = bot.fake.messages(CHANNEL).filter((m) => m.thread_ts === rootTs && m.files?.length);
    expect(thread.map((m) => m.text).join('\n')).toContain(artifacts[0]!.sha256);

    // The bundle is what the pod was.
    const bundle = JSON.parse(
      (await bot.server.store.artifacts.get(id, `${pods[0]}.evidence.json`))!.bytes.toString('utf8'),
    );
    expect(bundle.pod.metadata.name).toBe(pods[0]);
    // A literal env value never leaves the cluster: not in the store, the thread or the directory.
    expect(bundle.redacted).toEqual(['app.env.DB_PASSWORD']);
    expect(bundle.pod.spec.containers[0].env).toEqual([
      {
        name: 'DB_PASSWORD',
        value: `[redacted: sha256 ${sha(new TextEncoder().encode('hunter2-literal'))}]`,
      },
      { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'payments', key: 'api-key' } } },
    ]);
    for (const u of completed()) expect(Buffer.from(u.content!).toString('utf8')).not.toContain('hunter2');
    for (const a of artifacts) expect(readFileSync(join(dir, id, a.name), 'utf8')).not.toContain('hunter2');
    expect(bundle.owners.map((o: Obj) => `${o.kind}:${o.found}`)).toEqual([
      'ReplicaSet:true',
      'Deployment:true',
    ]);
    expect(bundle.node).toMatchObject({ name: 'node-a', hostIP: '10.0.0.7' });
    expect(bundle.images[0].imageID).toContain('@sha256:');
    expect(bundle.networkPolicies.map((p: Obj) => (p.metadata as Obj).name)).toEqual(['payments-allow']);
    expect(bundle.events.map((e: Obj) => e.reason)).toEqual(['BackOff']);
    const second = JSON.parse(
      (await bot.server.store.artifacts.get(id, `${pods[1]}.evidence.json`))!.bytes.toString('utf8'),
    );
    expect(second.logs).toContainEqual({
      container: 'app',
      previous: true,
      none: 'no previous instance (the container has not restarted)',
    });
    expect((await bot.server.store.artifacts.get(id, `${pods[0]}.app.previous.log`))!.bytes.toString()).toBe(
      'panic: before the restart\n',
    );

    // A second presenter over the same engine (a restart, another replica) uploads nothing again.
    const before = bot.fake.callsTo('files.getUploadURLExternal').length;
    const again = new SlackPresenter({
      client: new WebClient('xoxb-test-token', { slackApiUrl: bot.fake.url, retryConfig: { retries: 0 } }),
      channel: CHANNEL,
      log: silentLogger(),
      coalesceMs: 10,
    });
    again.start({ reader: bot.server.engine, commands: bot.server.engine });
    await new Promise((r) => setTimeout(r, 200));
    await again.flush();
    expect(bot.fake.callsTo('files.getUploadURLExternal').length).toBe(before);
    expect(completed()).toHaveLength(artifacts.length);
  });

  it('retries a failed upload, says so in the thread, and records the upload once it happened', async () => {
    bot.fake.fail('files.getUploadURLExternal', 'internal_error', 1);
    const { id, rootTs } = await collect();
    const artifacts = await bot.server.store.artifacts.list(id);
    await eventually(
      () => completed().length === artifacts.length || undefined,
      'every upload after a retry',
      15_000,
    );
    await bot.server.slack.presenter.flush();
    const said = bot.fake
      .messages(CHANNEL)
      .filter((m) => m.thread_ts === rootTs && m.text.includes('Could not upload'));
    expect(said).toHaveLength(1);
    expect(said[0]!.text).toContain('retrying');
    const uploaded = (await bot.server.engine.timeline(id)).filter((e) => e.kind === 'slack.uploaded');
    expect(uploaded.map((e) => e.details.name).sort()).toEqual(artifacts.map((a) => a.name).sort());
  });
});
