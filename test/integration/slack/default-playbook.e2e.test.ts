// The shipped playbook end to end, as responders drive it from Slack, against a fake cluster whose
// controllers behave like the real ones (a Deployment's ReplicaSet adopts, releases and replaces
// pods; a rollout restart replaces what the old ReplicaSet owns): contain → collect evidence →
// rotate keeps the quarantined pods alive and isolated while fresh, unquarantined replacements take
// over; the evidence and its sha256 are in the timeline and the thread; the cleanup deletes the
// quarantined pods only after an approver's approval.
import { createHash } from 'node:crypto';
import { ACTION_IDS } from '../../../src/slack/blocks/ids.js';
import { ALLOW, allowPolicy, trapCluster } from '../../builders/additive-trap.js';
import {
  aDeployment,
  type FakeKubeApi,
  type JsonObject,
  startFakeKubeApi,
} from '../../fakes/kube-api/index.js';
import { type Bot, bootBot, CHANNEL, egressAlert, eventually, tickAll } from '../../support/slack-harness.js';

type Obj = Record<string, unknown>;
const NS = 'prod';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const meta = (o: JsonObject) => o.metadata as Obj & { name: string; labels?: Record<string, string> };

let kube: FakeKubeApi;
let bot: Bot;

beforeEach(async () => {
  kube = await startFakeKubeApi({ controllers: true });
  kube.put(
    aDeployment({ namespace: NS, name: 'payments-api', replicas: 2, labels: { app: 'payments-api' } }),
  );
  kube.put(allowPolicy());
  kube.reconcile();
  bot = await bootBot({ cluster: trapCluster(kube) });
});
afterEach(async () => {
  await bot.close();
  await kube.close();
});

const pods = () => kube.list('Pod', NS);
const isController = (o: JsonObject) =>
  ((meta(o).ownerReferences as Obj[] | undefined) ?? []).some((r) => r.controller === true);

async function tick(id: string, stepId: string, items: string[]) {
  expect((await tickAll(bot, id, stepId, items)).status).toBe(200);
}

const stepStatus = async (id: string, stepId: string) =>
  (await bot.server.engine.get(id)).steps.find((s) => s.id === stepId)?.status;
const until = (id: string, stepId: string, status: string) =>
  eventually(
    async () => ((await stepStatus(id, stepId)) === status ? true : undefined),
    `step ${stepId} ${status}`,
  );

it('contain → evidence → rotate keeps the quarantined pods as evidence; cleanup deletes them only after approval', async () => {
  const original = pods()
    .map((p) => meta(p).name)
    .sort();
  expect(original).toHaveLength(2);
  for (const name of original)
    kube.setPodLog(NS, name, `POST https://paste.exfil.example.net from ${name}\n`);

  const id = await bot.openIncident(egressAlert());
  // Contain: preview from the root message, a responder confirms.
  await bot.click('U0AAA', ACTION_IDS.containPreview, id);
  await until(id, 'contain', 'awaiting_confirmation');
  await bot.click('U0BBB', ACTION_IDS.confirm, `${id}|contain`);
  await until(id, 'contain', 'completed');
  expect((await bot.server.engine.get(id)).status).toBe('contained');

  // The quarantined pods were released by their ReplicaSet; it made two fresh ones.
  const quarantined = pods().filter((p) => meta(p).labels?.quarantine === 'true');
  expect(quarantined.map((p) => meta(p).name).sort()).toEqual(original);
  expect(quarantined.filter(isController)).toEqual([]);
  const fresh = () => pods().filter((p) => !original.includes(meta(p).name));
  expect(fresh()).toHaveLength(2);

  // Triage's checklist lets the playbook go on: evidence is collected by itself, rotation waits.
  await tick(id, 'triage', ['not-a-release', 'scope']);
  await until(id, 'evidence', 'completed');
  await until(id, 'rotate', 'awaiting_confirmation');
  await bot.click('U0BBB', ACTION_IDS.confirm, `${id}|rotate`);
  await until(id, 'rotate', 'awaiting_input');

  // After the rollout restart: the evidence is alive, still quarantined, still isolated.
  for (const name of original) {
    const pod = kube.get('Pod', NS, name)!;
    expect(meta(pod).labels?.quarantine).toBe('true');
    expect(isController(pod)).toBe(false);
  }
  const deny = kube.get('NetworkPolicy', NS, 'quarantine-deny-egress')!;
  expect((deny.spec as Obj).podSelector).toEqual({ matchLabels: { quarantine: 'true' } });
  expect(JSON.stringify((kube.get('NetworkPolicy', NS, ALLOW)!.spec as Obj).podSelector)).toContain(
    'DoesNotExist',
  );
  // The replacements are fresh (made by the restart's new ReplicaSet) and not quarantined.
  const restartedAt = (kube.get('Deployment', NS, 'payments-api')!.spec as { template: JsonObject }).template;
  expect(JSON.stringify(restartedAt)).toContain('kubectl.kubernetes.io/restartedAt');
  expect(fresh()).toHaveLength(2);
  for (const p of fresh()) {
    expect(meta(p).labels?.quarantine).toBeUndefined();
    expect(isController(p)).toBe(true);
  }

  // The evidence bundle and logs: in the timeline with their sha256, uploaded to the thread with the same bytes.
  const rootTs = (await bot.server.engine.get(id)).slack!.ts;
  const stored = (await bot.server.engine.timeline(id)).filter(
    (e) => e.kind === 'artifact.stored' && e.details.uses === 'k8s.collect-evidence',
  );
  const names = stored.map((e) => (e.details.artifact as { name: string }).name).sort();
  expect(names).toEqual(expect.arrayContaining(original.map((p) => `${p}.evidence.json`)));
  await eventually(async () => {
    const up = [...bot.fake.uploads.values()].filter((u) => u.completed && !u.deleted);
    return names.every((n) => up.some((u) => u.filename === n)) ? true : undefined;
  }, 'every evidence file uploaded');
  for (const e of stored) {
    const a = e.details.artifact as { name: string; sha256: string };
    const up = [...bot.fake.uploads.values()].filter(
      (u) => u.completed && !u.deleted && u.filename === a.name,
    );
    expect(up).toHaveLength(1);
    expect(up[0]).toMatchObject({ channel: CHANNEL, threadTs: rootTs });
    expect(sha(up[0]!.content!)).toBe(a.sha256);
  }

  // Rotation's and the hand-off's checklists; the cleanup then waits for an approver.
  await tick(id, 'rotate', ['credentials', 'bindings']);
  await until(id, 'handoff', 'awaiting_input');
  await tick(id, 'handoff', ['evidence']);
  await eventually(async () => {
    const s = await stepStatus(id, 'cleanup');
    return s === 'awaiting_approval' ? true : undefined;
  }, 'the cleanup waits for approval');
  expect(original.every((n) => kube.get('Pod', NS, n))).toBe(true);
  await bot.click('U0CCC', ACTION_IDS.approve, `${id}|cleanup`);
  await until(id, 'cleanup', 'awaiting_confirmation');
  expect(original.every((n) => kube.get('Pod', NS, n))).toBe(true);
  await bot.click('U0AAA', ACTION_IDS.confirm, `${id}|cleanup`);
  await until(id, 'cleanup', 'completed');
  // Only the quarantined pods are gone; the fresh replacements serve on.
  expect(original.filter((n) => kube.get('Pod', NS, n))).toEqual([]);
  expect(fresh()).toHaveLength(2);
}, 60_000);
