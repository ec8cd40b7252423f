import { WebClient } from '@slack/web-api';
import type { Incident } from '../../../src/domain/incident.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { SlackPresenter } from '../../../src/slack/presenter.js';
import { createMemoryStore } from '../../../src/store/memory.js';
import { testEngine } from '../../builders/engine.js';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';
import { eventually } from '../../support/slack-harness.js';

const CHANNEL = 'C0PRESENT';
const yaml = `
id: notify-test
title: Notify test
mode: hard
steps:
  - id: tell
    title: Tell people
    actions:
      - uses: notify.message
        with: { text: "Forensics: evidence is ready <!channel>, run \`egress-cli fetch *x*\`", to: [S0FORENSICS] }
`;

describe('SlackPresenter', () => {
  let fake: FakeSlackApi;
  beforeEach(async () => {
    fake = await startFakeSlackApi();
  });
  afterEach(() => fake.close());

  function setup(coalesceMs = 10) {
    const client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    const store = createMemoryStore();
    const presenter = new SlackPresenter({ client, channel: CHANNEL, log: silentLogger(), coalesceMs });
    const t = testEngine({ yaml, store, observers: [presenter] });
    const opened = (inc: Incident) =>
      t.journal.record({ incident: inc, kind: 'incident.opened', summary: 'opened', key: 'opened' });
    return { t, presenter, opened, start: () => presenter.start({ reader: t.engine, commands: t.engine }) };
  }
  const roots = () => fake.messages(CHANNEL).filter((m) => !m.thread_ts || m.thread_ts === m.ts);

  it('posts a notify.message in the thread as typed (rich_text: backticks intact), its fallback escaped', async () => {
    const { t, presenter, opened, start } = setup();
    start();
    const inc = await t.open({ mode: 'hard', playbook: { id: 'notify-test', file: 'n.yaml' } });
    await opened(inc);
    await presenter.flush();
    await t.engine.advance(inc.id);
    await presenter.flush();
    const root = fake.messages(CHANNEL).find((m) => !m.thread_ts || m.thread_ts === m.ts)!;
    const mega = fake.thread(CHANNEL, root.ts).find((m) => m.text.startsWith(':mega:'));
    expect(mega?.text).toContain('Forensics: evidence is ready &lt;!channel&gt;, run `egress-cli fetch *x*`');
    // What Slack shows: a rich_text block whose literal text element holds the note exactly.
    const [block] = (mega?.blocks ?? []) as { type: string; elements: { elements: unknown[] }[] }[];
    expect(block?.type).toBe('rich_text');
    expect(block?.elements[0]?.elements[0]).toEqual({ type: 'emoji', name: 'mega' });
    expect(JSON.stringify(block?.elements[0]?.elements[1])).toContain(
      'Forensics: evidence is ready <!channel>, run `egress-cli fetch *x*`',
    );
    expect(JSON.stringify(mega)).not.toContain('\u02CB');
  });

  it('a root message Slack refused is retried with backoff until it is posted, once', async () => {
    const { t, presenter, opened, start } = setup();
    start();
    fake.fail('chat.postMessage', 'internal_error', 2);
    const inc = await t.open({ playbook: { id: 'notify-test', file: 'n.yaml' } });
    await opened(inc);
    await eventually(
      async () => (await t.engine.get(inc.id)).slack,
      'the root message after two refusals',
      10_000,
    );
    await presenter.flush();
    expect(roots()).toHaveLength(1);
    // The thread is recorded in the timeline: a change Slack caused, through an engine command.
    expect((await t.store.timeline.read(inc.id)).map((e) => e.kind)).toContain('slack.posted');
  });

  it('catches up an incident that opened while the presenter was not running: root, then what happened before', async () => {
    const { t, presenter, start } = setup();
    const inc = await t.open({ mode: 'hard', playbook: { id: 'notify-test', file: 'n.yaml' } });
    await t.engine.advance(inc.id); // notify.message applied while nobody presented
    start(); // the sweep finds it
    await eventually(async () => (await t.engine.get(inc.id)).slack, 'the swept root message');
    await presenter.flush();
    const thread = fake.thread(CHANNEL, roots()[0]!.ts).map((m) => m.text);
    expect(thread.some((text) => text.startsWith(':rewind: Before this thread existed'))).toBe(true);
    expect(thread.join('\n')).toContain('notify.message done');
  });

  it('a resolved alert is said in the thread, with how to close the incident', async () => {
    const { t, presenter, opened, start } = setup();
    start();
    const inc = await t.open({ playbook: { id: 'notify-test', file: 'n.yaml' } });
    await opened(inc);
    await presenter.flush();
    await t.journal.record({
      incident: inc,
      kind: 'alert.resolved',
      summary: 'Sender reports the alert resolved (alertmanager)',
      key: 'alert:1',
    });
    await presenter.flush();
    const thread = fake.thread(CHANNEL, roots()[0]!.ts).map((m) => m.text);
    expect(thread).toContainEqual(
      `:large_green_circle: Sender reports the alert resolved (alertmanager). If nothing else is open, \`/egress close ${inc.id} resolved\` closes the incident.`,
    );
  });

  it('folds move the root message at most once per five windows; a status change still within one', async () => {
    const { t, presenter, start } = setup(100);
    start();
    const inc = await t.open({ mode: 'hard', playbook: { id: 'notify-test', file: 'n.yaml' } });
    await t.journal.record({ incident: inc, kind: 'incident.opened', summary: 'opened', key: 'opened' });
    await presenter.flush();
    const rootUpdates = () => fake.callsTo('chat.update').filter((c) => c.body.ts === roots()[0]!.ts).length;
    const before = rootUpdates();
    // 30 folds in 300 ms (intake tells the journal with journal.changed): one update, after ~500 ms.
    for (let i = 0; i < 30; i++) {
      await t.journal.changed(await t.engine.get(inc.id));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(rootUpdates()).toBe(before);
    await eventually(() => (rootUpdates() === before + 1 ? true : undefined), 'the folds shown', 2000);
    // A status change is shown within one window, folds or not.
    await t.journal.changed(await t.engine.get(inc.id));
    const acked = await t.engine.acknowledge(inc.id, { actor: 'slack:U0AAA' });
    expect(acked.commander).toBe('slack:U0AAA');
    const t0 = Date.now();
    await eventually(
      () => (rootUpdates() === before + 2 ? true : undefined),
      'the status change shown',
      2000,
    );
    expect(Date.now() - t0).toBeLessThan(400);
  });

  it('many incidents folding at once move their roots about once a window in all, not once each', async () => {
    const { t, presenter, start } = setup(50);
    start();
    const incidents: Incident[] = [];
    for (let i = 0; i < 20; i++) {
      const inc = await t.open({ mode: 'hard', playbook: { id: 'notify-test', file: 'n.yaml' } });
      await t.journal.record({ incident: inc, kind: 'incident.opened', summary: 'opened', key: 'opened' });
      incidents.push(inc);
    }
    await presenter.flush();
    const before = fake.callsTo('chat.update').length;
    // 1.5 s of folds into all 20, each every 20 ms. One window each would be 20 updates every 250 ms
    // (about 120); one window in all is about 30.
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      for (const inc of incidents) await t.journal.changed(inc);
      await new Promise((r) => setTimeout(r, 20));
    }
    const updates = fake.callsTo('chat.update').length - before;
    expect(updates).toBeGreaterThan(0);
    expect(updates).toBeLessThan(60);
    // Nothing is lost: a flush shows every incident's latest state.
    await presenter.flush();
    for (const inc of incidents) {
      const root = roots().find((m) => JSON.stringify(m.blocks).includes(inc.id));
      expect(root).toBeDefined();
    }
  });
});
