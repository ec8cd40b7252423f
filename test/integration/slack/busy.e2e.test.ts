import { BUSY_TEXT } from '../../../src/slack/work-queue.js';
import { type Bot, bootBot, CHANNEL, eventually } from '../../support/slack-harness.js';

// A burst of commands larger than the work queue admits, through the real Bolt app: every request is
// acked at once (200), and every one gets exactly one answer on its response_url: the work, or "busy,
// try again" with nothing done. Nothing is answered twice, nothing is dropped silently.

const config = `
slack:
  incidentChannel: ${CHANNEL}
  responders: [U0AAA]
  work: { concurrency: 1, queue: 2 }
`;

describe('Slack work after the ack, bounded', () => {
  let bot: Bot;
  beforeAll(async () => {
    bot = await bootBot({ configYaml: config });
  });
  afterAll(async () => {
    await bot.close();
  });

  it('acks a burst of 40 at once and answers each exactly once: the work, or busy with nothing done', async () => {
    const id = await bot.openIncident({
      src_service: 'payments-api',
      src_namespace: 'prod',
      dst_type: 'fqdn',
      dst_name: 'paste.exfil.example.net',
      dst_port: 443,
      protocol: 'https',
    });
    const sent = await Promise.all(Array.from({ length: 40 }, () => bot.slash('U0AAA', `note ${id} burst`)));
    expect(sent.map((s) => s.res.status)).toEqual(Array(40).fill(200));
    const answers = await Promise.all(sent.map((s) => bot.responsesTo(s.responseUrl)));
    expect(answers.every((a) => a.length === 1)).toBe(true);
    const busy = answers.filter((a) => a[0]!.includes(BUSY_TEXT.slice(0, 40))).length;
    const done = answers.filter((a) => a[0]!.includes(`Note added to ${id}`)).length;
    expect(busy).toBeGreaterThan(0);
    expect(done).toBeGreaterThan(0);
    expect(busy + done).toBe(40);
    // Shed means nothing was done: the timeline holds exactly the notes that were answered as added.
    const notes = await eventually(async () => {
      const events = await bot.server.store.timeline.read(id);
      const n = events.filter((e) => e.kind === 'note').length;
      return n === done ? n : undefined;
    }, 'the notes of the admitted commands');
    expect(notes).toBe(done);
  });
});
