// The least a Slack Web API can be for the ack benchmark: every method answers `ok: true` at once
// (auth.test with the bot's ids, chat.postMessage with a fresh ts), and response_url POSTs are
// counted. Kept tiny on purpose: the figure is the bot's, not the fake's (test/fakes/slack-api is
// the faithful one, in TypeScript, for tests).
import { createServer } from 'node:http';

export async function startSlackStub() {
  let ts = 1_700_000_000;
  let responses = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0];
      let body = { ok: true };
      if (method === 'auth.test') body = { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0BENCH' };
      else if (method === 'chat.postMessage' || method === 'chat.update')
        body = { ok: true, channel: 'C0BENCH', ts: `${ts++}.000100` };
      else if (method === 'usergroups.users.list') body = { ok: true, users: [] };
      else if (method.startsWith('respond/')) responses++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/api/`;
  return {
    url,
    responseUrl: (id) => `${url}respond/${id}`,
    responses: () => responses,
    close: () => new Promise((r) => server.close(r)),
  };
}
