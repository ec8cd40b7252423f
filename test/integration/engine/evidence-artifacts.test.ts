// The artifact port through the engine (no Slack): a drill still collects evidence (read-only) and
// stores it, but writes no files among the real evidence; a name with `..` cannot leave the
// directory; a log over the cap keeps its end with a marker; timeline.export stores its Markdown and
// JSON as artifacts and claims only that. Against the fake Kubernetes API through the real client.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectEvidence, fitLog } from '../../../src/actions/k8s/evidence/index.js';
import { evidencePath } from '../../../src/engine/artifacts.js';
import { testEngine } from '../../builders/engine.js';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { fakeCluster } from '../rotate/context.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let kube: FakeKubeApi;
let dir: string;
beforeAll(async () => {
  kube = await startFakeKubeApi();
});
afterAll(async () => {
  await kube.close();
});
beforeEach(() => {
  kube.reset();
  dir = mkdtempSync(join(tmpdir(), 'evidence-engine-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function quarantined(id: string): string {
  const { pods } = seedDeployment(kube, { namespace: 'prod', name: 'payments-api', replicas: 1 });
  const pod = pods[0]!;
  const m = pod.metadata as { name: string; labels: Record<string, string> };
  kube.put({
    ...pod,
    metadata: {
      ...m,
      labels: { ...m.labels, quarantine: 'true' },
      annotations: { 'egress-responder.io/incident': id },
    },
  });
  kube.setPodLog('prod', m.name, 'line\n'.repeat(10), { container: 'app' });
  return m.name;
}

function engine(maxArtifactBytes?: number) {
  return testEngine({
    actions: [collectEvidence],
    deps: {
      cluster: fakeCluster(kube),
      evidence: { directory: dir, ...(maxArtifactBytes ? { maxArtifactBytes } : {}) },
    },
  });
}

describe('evidence artifacts through the engine', () => {
  it('a drill (dry-run) still collects and stores the evidence, and writes no file into the evidence directory', async () => {
    const t = engine();
    const inc = await t.open({ drill: true });
    const pod = quarantined(inc.id);
    const after = await t.engine.runAction(inc.id, { uses: 'k8s.collect-evidence', with: {} }, 'drill');
    const action = after.steps.at(-1)!.actions[0]!;
    expect(action).toMatchObject({ status: 'applied', dryRun: true });
    const names = (await t.store.artifacts.list(inc.id)).map((a) => a.name);
    // Logs first: the bundle names their sha256.
    expect(names).toEqual([`${pod}.app.log`, `${pod}.evidence.json`]);
    const stored = (await t.store.timeline.read(inc.id)).filter((e) => e.kind === 'artifact.stored');
    expect(stored.map((e) => e.summary)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\[dry-run\] artifact .* not written to the evidence directory: a drill writes no evidence files$/,
        ),
      ]),
    );
    expect(readdirSync(dir)).toEqual([]);
    // Read-only: nothing in the cluster was written.
    expect(kube.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('keeps the end of a log over the cap, with a marker saying what was cut', async () => {
    const t = engine(4096);
    const inc = await t.open();
    const pod = quarantined(inc.id);
    kube.setPodLog(
      'prod',
      pod,
      `${Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n')}\n`,
      {
        container: 'app',
      },
    );
    await t.engine.runAction(inc.id, { uses: 'k8s.collect-evidence', with: {} }, 'system');
    const log = (await t.store.artifacts.get(inc.id, `${pod}.app.log`))!;
    expect(log.bytes.byteLength).toBeLessThanOrEqual(4096);
    expect(log.bytes.toString()).toMatch(
      /^\[egress-responder: log truncated: the first \d+ of \d+ bytes were cut/,
    );
    expect(
      log.bytes
        .toString()
        .trimEnd()
        .endsWith(`line 399 ${'x'.repeat(20)}`),
    ).toBe(true);
    expect(log.artifact.truncated).toMatch(/^first \d+ of \d+ bytes cut \(cap 4096\)$/);
    expect(sha(log.bytes)).toBe(log.artifact.sha256);
  });

  it.each(['../escape.log', '..', 'a/../../b', '/etc/passwd', 'a..b'])(
    'refuses to write %j anywhere (no path tricks)',
    (name) => {
      expect(() => evidencePath(dir, 'EGR-1', name)).toThrow(/refusing to write evidence/);
      expect(() => evidencePath(dir, '..', 'x.log')).toThrow(/refusing to write evidence/);
      expect(evidencePath(dir, 'EGR-1', 'pod.app.log')).toBe(join(dir, 'EGR-1', 'pod.app.log'));
      expect(existsSync(join(dir, '..', 'escape.log'))).toBe(false);
    },
  );

  it('fitLog leaves a log under the cap as it is', () => {
    expect(Buffer.from(fitLog('a\nb\n', 4096).bytes).toString()).toBe('a\nb\n');
    expect(fitLog('a\nb\n', 4096).truncated).toBeUndefined();
  });

  it('timeline.export stores its Markdown and JSON as artifacts, writes them to the directory, and claims no upload', async () => {
    const t = engine();
    const inc = await t.open();
    const after = await t.engine.runAction(inc.id, { uses: 'timeline.export', with: {} }, 'system');
    const outcome = after.steps.at(-1)!.actions[0]!.outcome as {
      summary: string;
      data: { artifacts: { name: string; sha256: string }[] };
    };
    expect(outcome.data.artifacts.map((a) => a.name)).toEqual([
      expect.stringMatching(new RegExp(`^${inc.id}\\.timeline\\..+\\.md$`)),
      expect.stringMatching(new RegExp(`^${inc.id}\\.timeline\\..+\\.json$`)),
    ]);
    expect(outcome.summary).toContain('stored 2 artifacts');
    expect(outcome.summary).not.toMatch(/upload/i);
    for (const a of outcome.data.artifacts) {
      const got = (await t.store.artifacts.get(inc.id, a.name))!;
      expect(sha(got.bytes)).toBe(a.sha256);
      expect(readdirSync(join(dir, inc.id))).toContain(a.name);
    }
  });
});
