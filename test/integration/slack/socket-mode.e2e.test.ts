// Socket Mode (SLACK_APP_TOKEN set): Bolt connects out over a WebSocket instead of receiving HTTP.
// The fake Slack API serves apps.connections.open and the socket; /alerts still works over HTTP.
import { startFakeSlackApi } from '../../fakes/slack-api/index.js';
import { bootBot, CHANNEL } from '../../support/slack-harness.js';

describe('Socket Mode', () => {
  it('acks slash commands and clicks over the socket and answers them', async () => {
    const fake = await startFakeSlackApi();
    const bot = await bootBot({ fake, env: { SLACK_APP_TOKEN: 'xapp-1-test' } });
    try {
      await fake.waitForSocket();
      // No HTTP receiver for Slack in Socket Mode.
      expect((await fetch(`${bot.base}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);

      const id = await bot.openIncident({
        src_service: 'payments-api',
        src_namespace: 'prod',
        dst_type: 'fqdn',
        dst_name: 'socket.exfil.example.net',
        dst_port: 443,
        protocol: 'https',
      });
      const helpUrl = fake.responseUrl('socket-help');
      const ack = await fake.socketSend('slash_commands', {
        command: '/egress',
        text: 'status',
        user_id: 'U0AAA',
        channel_id: CHANNEL,
        team_id: fake.team.id,
        response_url: helpUrl,
        trigger_id: '1.2.3',
      });
      expect(ack.envelope_id).toMatch(/^env-/);
      expect((await bot.responsesTo(helpUrl))[0]).toContain(id);

      const clickUrl = fake.responseUrl('socket-click');
      await fake.socketSend('interactive', {
        type: 'block_actions',
        user: { id: 'U0AAA', team_id: fake.team.id },
        team: { id: fake.team.id },
        channel: { id: CHANNEL },
        response_url: clickUrl,
        trigger_id: '1.2.3',
        actions: [{ type: 'button', action_id: 'incident.ack', block_id: 'b', value: id, action_ts: '1.1' }],
      });
      for (let i = 0; i < 100 && (await bot.server.engine.get(id)).status !== 'acknowledged'; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await bot.server.engine.get(id)).commander).toBe('slack:U0AAA');
    } finally {
      await bot.close();
      await fake.close();
    }
  });
});
