import { WebClient } from '@slack/web-api';
import { silentLogger } from '../../../src/observability/logger.js';
import { SlackPresenter } from '../../../src/slack/presenter.js';
import { createMemoryStore } from '../../../src/store/memory.js';
import { testEngine } from '../../builders/engine.js';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';

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
        with: { text: "Forensics: evidence is ready <!channel>", to: [S0FORENSICS] }
`;

describe('SlackPresenter', () => {
  let fake: FakeSlackApi;
  beforeEach(async () => {
    fake = await startFakeSlackApi();
  });
  afterEach(() => fake.close());

  function setup() {
    const client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    const store = createMemoryStore();
    const presenter = new SlackPresenter({
      client,
      channel: CHANNEL,
      store,
      log: silentLogger(),
      coalesceMs: 10,
    });
    const t = testEngine({ yaml, store, deps: { observers: [presenter] } });
    presenter.attach(t.engine);
    return { t, presenter };
  }

  it('posts a notify.message in the thread, escaped', async () => {
    const { t, presenter } = setup();
    const inc = await t.open({ mode: 'hard', playbook: { id: 'notify-test', file: 'n.yaml' } });
    await t.engine.record(inc, 'incident.opened', 'opened', {}, { id: `${inc.id}:opened` });
    await presenter.flush();
    await t.engine.advance(inc.id);
    await presenter.flush();
    const root = fake.messages(CHANNEL).find((m) => !m.thread_ts || m.thread_ts === m.ts)!;
    const mega = fake.thread(CHANNEL, root.ts).find((m) => m.text.startsWith(':mega:'));
    expect(mega?.text).toContain('Forensics: evidence is ready &lt;!channel&gt;');
  });

  it('a failed root post is retried with the next update instead of leaving the incident threadless', async () => {
    const { t, presenter } = setup();
    fake.fail('chat.postMessage', 'internal_error', 1);
    const inc = await t.open({ playbook: { id: 'notify-test', file: 'n.yaml' } });
    await t.engine.record(inc, 'incident.opened', 'opened', {}, { id: `${inc.id}:opened` });
    await presenter.flush();
    expect((await t.engine.get(inc.id)).slack).toBeUndefined();
    await t.engine.acknowledge(inc.id, 'slack:U1');
    await presenter.flush();
    const slack = (await t.engine.get(inc.id)).slack;
    expect(slack?.ts).toBeDefined();
    expect(fake.messages(CHANNEL).filter((m) => !m.thread_ts || m.thread_ts === m.ts)).toHaveLength(1);
  });
});
