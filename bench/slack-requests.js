// Signed Slack requests as Slack sends them, for the benchmarks that drive `serve` through its front
// door: `/egress help`, `/egress status <id>` and a Take command click, each fresh (unique trigger
// and response ids, so the replay guard lets it through).
import { createHmac } from 'node:crypto';
import { CHANNEL, SIGNING_SECRET } from './serve-env.js';

export function signedHeaders(body, contentType = 'application/x-www-form-urlencoded') {
  const ts = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return {
    'content-type': contentType,
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': `v0=${sig}`,
  };
}

let seq = 0;
/** `kind`: help | status | click; `server`: { stubUrl, incident } from the server process. */
export function slackRequest(kind, server) {
  const n = `${process.pid}-${seq++}`;
  const responseUrl = `${server.stubUrl}respond/${n}`;
  if (kind === 'click') {
    const payload = {
      type: 'block_actions',
      user: { id: 'U0BENCH', username: 'bench', team_id: 'T0BENCH' },
      team: { id: 'T0BENCH', domain: 'bench' },
      channel: { id: CHANNEL, name: 'incidents' },
      container: { type: 'message', channel_id: CHANNEL, message_ts: '1700000000.000100' },
      trigger_id: `1.${n}`,
      response_url: responseUrl,
      actions: [
        {
          type: 'button',
          action_id: 'incident.ack',
          block_id: 'b',
          value: server.incident,
          action_ts: '1.1',
        },
      ],
    };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    return { body, headers: signedHeaders(body) };
  }
  const body = new URLSearchParams({
    command: '/egress',
    text: kind === 'help' ? 'help' : `status ${server.incident}`,
    user_id: 'U0BENCH',
    user_name: 'bench',
    channel_id: CHANNEL,
    team_id: 'T0BENCH',
    response_url: responseUrl,
    trigger_id: `1.${n}`,
  }).toString();
  return { body, headers: signedHeaders(body) };
}
