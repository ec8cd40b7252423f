import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trapCluster } from '../../builders/additive-trap.js';
import { CONTAIN_YAML } from '../../builders/breakglass.js';
import { type FakeKubeApi, seedDeployment, startFakeKubeApi } from '../../fakes/kube-api/index.js';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';
import { redisUrl, testRedisClient } from '../../support/redis.js';
import { type Bot, bootBot, CHANNEL, egressAlert, eventually, tickAll } from '../../support/slack-harness.js';

// Two replicas of the whole bot (Bolt over HTTP, engine, worker, presenter) on one Redis and one
// Slack workspace, both running, as two pods behind one Service: an incident is worked by one of
// them at a time, whichever replica a request reaches. What must hold: one root message per
// incident, the playbook's actions run once, an SLA reminder fires once, an Events API retry that
// lands on the other replica is dropped there, and a button pressed on both at once acts once.

const DB = 12; // a database of its own: the replicas use the default key prefix
// The break-glass tests' hard-mode containment, then a triage step that waits for people with a 1 s SLA.
const PLAYBOOK = `${CONTAIN_YAML}  - id: triage
    title: Triage
    sla: 1s
    actions:
      - uses: triage.destination
      - uses: triage.contract-verdict
    checklist:
      - id: looked
        text: Someone looked at the destination
`;

let dir: string;
let fake: FakeSlackApi;
let kube: FakeKubeApi;
let a: Bot;
let b: Bot;
const url = () => `${redisUrl()}/${DB}`;

async function flush(): Promise<void> {
  const raw = testRedisClient(url());
  await raw.flushdb().finally(() => raw.quit());
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'egress-two-replicas-'));
  mkdirSync(join(dir, 'playbooks'));
  writeFileSync(join(dir, 'playbooks', 'two-replicas.yaml'), PLAYBOOK);
  await flush();
  fake = await startFakeSlackApi();
  kube = await startFakeKubeApi();
  seedDeployment(kube, { namespace: 'prod', name: 'payments-api', replicas: 3 });
  const configYaml = [
    'slack:',
    `  incidentChannel: ${CHANNEL}`,
    '  responders: [U0AAA, U0BBB]',
    '  approvers: [U0CCC, U0DDD]',
    `playbooks: ${join(dir, 'playbooks')}`,
    'engine: { resumeAfter: 2s, lockTtl: 2s, workEvery: 100ms }',
    '',
  ].join('\n');
  // Each replica has a Kubernetes client of its own, as two pods would.
  const boot = () => bootBot({ fake, configYaml, cluster: trapCluster(kube), env: { REDIS_URL: url() } });
  [a, b] = await Promise.all([boot(), boot()]);
}, 30_000);

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([fake?.close(), kube?.close()]);
  await flush();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const threadOf = (rootTs: string) =>
  fake.messages(CHANNEL).filter((m) => m.thread_ts === rootTs && m.ts !== rootTs);
const flushBoth = () => Promise.all([a.server.slack.presenter.flush(), b.server.slack.presenter.flush()]);

describe('two replicas on one Redis and one Slack workspace', () => {
  let id = '';
  let rootTs = '';

  it('an alert opens one incident with one root message; its containment changes the cluster once', async () => {
    const rootsBefore = a.rootMessages().length;
    id = await a.openIncident(egressAlert({ dst_name: 'paste.two-replicas.example.net' }));
    const triage = await eventually(
      async () => {
        const s = (await b.server.engine.get(id)).steps.find((x) => x.id === 'triage');
        return s?.status === 'awaiting_input' ? s : undefined;
      },
      'triage waiting for its checklist',
      10_000,
    );
    expect(triage.actions.map((x) => [x.uses, x.status])).toEqual([
      ['triage.destination', 'applied'],
      ['triage.contract-verdict', 'applied'],
    ]);
    expect((await a.server.engine.get(id)).status).toBe('contained');
    // Each object written once, by one replica: three pods labelled, one policy applied (a second
    // run of the step would repeat each write, as idempotent as it is).
    const writes = kube
      .requestsMatching({ method: ['PATCH', 'POST', 'PUT'] })
      .filter((r) => r.query.dryRun === undefined)
      .map((r) => `${r.method} ${r.path}`);
    expect(writes.filter((w) => w.includes('/pods/'))).toHaveLength(3);
    expect(writes.filter((w) => w.includes('quarantine-deny-egress'))).toHaveLength(1);
    expect(new Set(writes).size).toBe(writes.length);
    await flushBoth();
    const roots = a.rootMessages().slice(rootsBefore);
    expect(roots).toHaveLength(1);
    rootTs = roots[0]!.ts;
    expect((await a.server.engine.get(id)).slack?.ts).toBe(rootTs);
    const timeline = await a.server.store.timeline.read(id);
    expect(new Set(timeline.map((e) => e.id)).size).toBe(timeline.length);
    expect(timeline.filter((e) => e.kind === 'incident.opened')).toHaveLength(1);
    expect(timeline.filter((e) => e.kind === 'step.started')).toHaveLength(2);
  });

  it('the SLA reminder fires once, on one replica, and is posted once', async () => {
    // Both workers look every 100 ms for ~2 s past the 1 s SLA.
    await eventually(
      async () => (await a.server.store.timeline.read(id)).some((e) => e.kind === 'sla.breached'),
      'the SLA breach',
      10_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    await flushBoth();
    const breaches = (await b.server.store.timeline.read(id)).filter((e) => e.kind === 'sla.breached');
    expect(breaches).toHaveLength(1);
    const lines = threadOf(rootTs).filter((m) => String(m.text).includes('SLA breached'));
    expect(lines).toHaveLength(1);
    // The line says which step waits for what, and whom it concerns (no commander yet: the responders).
    expect(lines[0]!.text).toContain('Triage');
    expect(lines[0]!.text).toContain('<@U0AAA> <@U0BBB> (responders)');
  });

  it('an Events API retry that lands on the other replica is dropped: one note, one reply', async () => {
    const before = threadOf(rootTs).length;
    const mention = {
      type: 'app_mention',
      user: 'U0AAA',
      text: '<@UBOT> note the proxy shows 2 GB out',
      channel: CHANNEL,
      ts: `${Math.floor(Date.now() / 1000)}.000200`,
      thread_ts: rootTs,
    };
    const eventId = 'Ev0TWOREPLICAS1';
    expect((await a.event(mention, { eventId })).status).toBe(200);
    // Slack did not see the 200 in time and retries, this time through the other pod; and once more.
    expect((await b.event(mention, { eventId, retryNum: 1 })).status).toBe(200);
    expect((await a.event(mention, { eventId, retryNum: 2 })).status).toBe(200);
    await eventually(() => threadOf(rootTs).some((m) => m.text === 'Noted in the timeline.'), 'the reply');
    await new Promise((r) => setTimeout(r, 500));
    await flushBoth();
    const notes = (await a.server.store.timeline.read(id)).filter((e) => e.kind === 'note');
    expect(notes.map((n) => n.summary)).toEqual(['the proxy shows 2 GB out']);
    expect(
      threadOf(rootTs)
        .slice(before)
        .filter((m) => m.text === 'Noted in the timeline.'),
    ).toHaveLength(1);
  });

  it('a checklist ticked on both replicas at once (two responders, same item) is ticked once', async () => {
    const [ra, rb] = await Promise.all([
      tickAll(a, id, 'triage', ['looked'], { user: 'U0AAA' }),
      tickAll(b, id, 'triage', ['looked'], { user: 'U0BBB' }),
    ]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    await eventually(async () => {
      const s = (await a.server.engine.get(id)).steps.find((x) => x.id === 'triage');
      return s?.status === 'completed' ? s : undefined;
    }, 'triage completed');
    await new Promise((r) => setTimeout(r, 500));
    const timeline = await b.server.store.timeline.read(id);
    expect(timeline.filter((e) => e.kind === 'checklist.ticked')).toHaveLength(1);
    expect(timeline.filter((e) => e.kind === 'step.completed' && e.details.step === 'triage')).toHaveLength(
      1,
    );
  });
});
