import type { App, RespondFn, SlashCommand } from '@slack/bolt';
import { CodedError } from '../../domain/errors.js';
import type { Caller } from '../../engine/ports.js';
import {
  drillStartedText,
  renderDrillPicker,
  renderError,
  renderHelp,
  richMessage,
} from '../blocks/index.js';
import { parseEgressCommand, subcommands } from '../commands.js';
import { afterAck, callerOf, type SlackDeps, slackReply } from '../deps.js';
import { openRequestModal } from './breakglass.js';
import { listGrants } from './grants.js';
import { contain, postTimeline, release, rotate, statusLine } from './operations.js';

/** `/egress …`: ack at once, then the work in the work queue's turn, answered ephemerally (never a silent failure). */
export function registerCommands(app: App, deps: SlackDeps): void {
  app.command('/egress', async ({ command, ack, respond }) => {
    await ack();
    // The trigger id is unique per invocation: what the command records is keyed by it.
    const by = callerOf(command.user_id, command.trigger_id);
    // Our answers quote what people typed (ids, reasons, notes): shown as typed, backticks and all.
    const say = (text: string) => respond({ response_type: 'ephemeral', ...richMessage([text]) });
    await afterAck(deps, say, () => answer(command, by, say, respond));
  });

  /** What the command asks for, answered ephemerally (an error too). */
  const answer = async (
    command: SlashCommand,
    by: Caller,
    say: (text: string) => Promise<unknown>,
    respond: RespondFn,
  ): Promise<void> => {
    let incident: string | undefined;
    try {
      const cmd = parseEgressCommand(command.text ?? '');
      incident = 'id' in cmd ? cmd.id : undefined;
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
            await say(statusLine(await deps.commands.view(cmd.id, by)));
            return;
          }
          const open = await deps.commands.viewOpen(by, 20);
          await say(open.length === 0 ? 'No open incidents.' : open.map(statusLine).join('\n'));
          return;
        }
        case 'ack':
          await deps.commands.acknowledge(cmd.id, by);
          await say(`You have command of ${cmd.id}.`);
          return;
        case 'contain':
          await say(await contain(deps, cmd.id, by));
          return;
        case 'release':
          await say(await release(deps, cmd.id, by));
          return;
        case 'rotate':
          await say(await rotate(deps, cmd.id, by, cmd.hook));
          return;
        case 'note':
          await deps.commands.note(cmd.id, by, cmd.text);
          await say(`Note added to ${cmd.id}.`);
          return;
        case 'timeline':
          await say(await postTimeline(deps, cmd.id, cmd.format, by));
          return;
        case 'close':
          await deps.commands.close(cmd.id, by, cmd.reason);
          await say(`${cmd.id} closed: ${cmd.reason}.`);
          return;
        case 'breakglass': {
          // Slack does not run slash commands in threads today; if a payload ever names its thread, it is the incident's.
          const threadTs = typeof command.thread_ts === 'string' ? command.thread_ts : undefined;
          const target =
            cmd.id ?? (threadTs ? (await deps.reader.byThread(command.channel_id, threadTs))?.id : undefined);
          if (!target) {
            throw new CodedError(
              'command_invalid',
              'name the incident: `/egress breakglass <id>` (or press Break-glass on its root message)',
            );
          }
          incident = target;
          await openRequestModal(deps, target, command.user_id, command.trigger_id);
          return;
        }
        case 'grants':
          await respond({ response_type: 'ephemeral', ...(await listGrants(deps, by.actor, cmd.all)) });
          return;
        case 'drill': {
          if (!deps.drills)
            throw new CodedError('request_refused', 'drills are not set up in this deployment');
          if (!cmd.scenario) {
            await respond({ response_type: 'ephemeral', ...renderDrillPicker(deps.drills.scenarios()) });
            return;
          }
          const started = await deps.drills.start(cmd.scenario, by);
          await say(drillStartedText(started.scenario, started.incidents));
          return;
        }
      }
    } catch (err) {
      await respond({
        response_type: 'ephemeral',
        ...renderError(slackReply(deps, err, { incident, command: (command.text ?? '').slice(0, 200) })),
      }).catch(() => undefined);
    }
  };
}
