import type { App } from '@slack/bolt';
import { asCodedError } from '../../domain/errors.js';
import { escapeMrkdwn, renderError, renderHelp } from '../blocks/index.js';
import { parseEgressCommand, subcommands } from '../commands.js';
import { actorOf, type SlackDeps } from '../deps.js';
import { contain, postTimeline, release, rotate, statusLine } from './operations.js';

const notYet = (what: string) => `\`/egress ${what}\` is not yet available in this version.`;

/** `/egress …`: ack at once, do the work, answer ephemerally (never a silent failure). */
export function registerCommands(app: App, deps: SlackDeps): void {
  app.command('/egress', async ({ command, ack, respond }) => {
    await ack();
    const actor = actorOf(command.user_id);
    try {
      const cmd = parseEgressCommand(command.text ?? '');
      const say = (text: string) => respond({ response_type: 'ephemeral', text: escapeMrkdwn(text) });
      switch (cmd.name) {
        case 'help':
          await respond({
            response_type: 'ephemeral',
            ...renderHelp(
              Object.values(subcommands).map((s) => ({ usage: s.usage, description: s.description })),
            ),
          });
          return;
        case 'status': {
          if (cmd.id) {
            await say(statusLine(await deps.engine.get(cmd.id)));
            return;
          }
          const open = await deps.store.incidents.list({ activeOnly: true, limit: 20 });
          await say(open.length === 0 ? 'No open incidents.' : open.map(statusLine).join('\n'));
          return;
        }
        case 'ack':
          await deps.engine.acknowledge(cmd.id, actor);
          await say(`You have command of ${cmd.id}.`);
          return;
        case 'contain':
          await say(await contain(deps, cmd.id, actor));
          return;
        case 'release':
          await say(await release(deps, cmd.id, actor));
          return;
        case 'rotate':
          await say(await rotate(deps, cmd.id, actor, cmd.hook));
          return;
        case 'note':
          await deps.engine.get(cmd.id);
          await deps.engine.note(cmd.id, actor, cmd.text);
          await say(`Note added to ${cmd.id}.`);
          return;
        case 'timeline':
          await say(await postTimeline(deps, cmd.id, cmd.format, actor));
          return;
        case 'close':
          await deps.engine.close(cmd.id, actor, cmd.reason);
          await say(`${cmd.id} closed: ${cmd.reason}.`);
          return;
        case 'breakglass':
        case 'grants':
        case 'drill':
          await say(notYet(cmd.name));
          return;
      }
    } catch (err) {
      const coded = asCodedError(err);
      if (!coded.userSafe) deps.log.error({ err, command: command.text }, '/egress failed');
      await respond({
        response_type: 'ephemeral',
        ...renderError(coded.userSafe ? coded.message : 'Something went wrong; the error is in the bot log.'),
      });
    }
  });
}
