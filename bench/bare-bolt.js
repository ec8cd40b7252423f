// A bare Bolt 5 app over HTTP that only acks: the baseline `serve` is measured against (acks,
// start-up, memory). Run as a script (`node bench/bare-bolt.js PORT`) it listens on PORT.
import { fileURLToPath } from 'node:url';
import bolt from '@slack/bolt';
import { SIGNING_SECRET } from './serve-env.js';

export function createBareBolt() {
  const app = new bolt.App({
    token: 'xoxb-bench',
    receiver: new bolt.HTTPReceiver({ signingSecret: SIGNING_SECRET }),
    tokenVerificationEnabled: false,
    botId: 'BBOT',
    botUserId: 'UBOT',
    logLevel: bolt.LogLevel.ERROR,
  });
  app.command('/egress', async ({ ack }) => ack());
  app.action(/.*/, async ({ ack }) => ack());
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const app = createBareBolt();
  await app.start(Number(process.argv[2]));
  process.on('SIGTERM', () => app.stop().then(() => process.exit(0)));
}
