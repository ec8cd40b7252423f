import type { App, BlockAction, ButtonAction, CheckboxesAction } from '@slack/bolt';
import { CodedError } from '../../domain/errors.js';
import type { Caller } from '../../engine/ports.js';
import {
  ACTION_IDS,
  drillStartedText,
  parseChecklistValue,
  parseStepValue,
  renderError,
} from '../blocks/index.js';
import { afterAck, callerOf, type SlackDeps, slackReply } from '../deps.js';
import { openRequestModal } from './breakglass.js';
import { contain, decideRelease, postTimeline, release, rotate } from './operations.js';

type Respond = (msg: {
  response_type: 'ephemeral';
  text: string;
  replace_original: false;
}) => Promise<unknown>;

/** Where a click came from: the channel of the message its button is on. */
function channelOf(body: BlockAction): string | undefined {
  return body.channel?.id ?? body.container?.channel_id;
}

/**
 * Buttons and checkboxes. Every handler acks first; engine commands are idempotent (and keyed by the
 * click), so double clicks are harmless. A click counts only in the incident's own channel.
 */
export function registerActions(app: App, deps: SlackDeps): void {
  /** A click's work, after its ack, in the work queue's turn; its answer (or error) ephemeral. */
  const run = (respond: Respond, incidentId: string | undefined, work: () => Promise<string | undefined>) => {
    const tell = (text: string) => respond({ response_type: 'ephemeral', text, replace_original: false });
    return afterAck(deps, tell, async () => {
      try {
        const text = await work();
        if (text) await tell(text);
      } catch (err) {
        const text = renderError(slackReply(deps, err, { incident: incidentId, from: 'button' })).text;
        await tell(text).catch(() => undefined);
      }
    });
  };

  /** A button on an incident's messages is honoured only in the incident's thread's channel. */
  const sameChannel = async (incidentId: string, body: BlockAction) => {
    const incident = await deps.reader.get(incidentId);
    const channel = channelOf(body);
    if (incident.slack && channel !== incident.slack.channel) {
      deps.log.warn(
        { incident: incidentId, channel, user: body.user.id },
        'slack: click from another channel refused',
      );
      throw new CodedError(
        'request_refused',
        `this button belongs to ${incidentId}'s thread in another channel`,
      );
    }
  };

  const requestOf = (body: BlockAction, actionTs: string | undefined) =>
    `${body.user.id}:${actionTs ?? body.trigger_id}`;

  type ButtonHandler = (incidentId: string, by: Caller, value: string) => Promise<string | undefined>;
  const quiet = (p: Promise<unknown>) => p.then(() => undefined);
  /** A step's button: its value names the step as well (`<incident>|<step>`). */
  const onStep =
    (
      handler: (incidentId: string, stepId: string, by: Caller) => Promise<string | undefined>,
    ): ButtonHandler =>
    async (_incidentId, by, value) => {
      const parsed = parseStepValue(value);
      if (!parsed) return 'This button is out of date.';
      return handler(parsed.incidentId, parsed.stepId, by);
    };
  /**
   * The incident's and its steps' buttons, by action id. One Bolt listener for all of them: Bolt runs
   * every registered listener's matchers for every request, so eleven listeners cost each click
   * eleven times the matching work before its ack.
   */
  const buttons: Record<string, ButtonHandler> = {
    [ACTION_IDS.ack]: (id, by) => quiet(deps.commands.acknowledge(id, by)),
    [ACTION_IDS.containPreview]: (id, by) => contain(deps, id, by),
    [ACTION_IDS.falsePositive]: (id, by) => quiet(deps.commands.close(id, by, 'false positive')),
    [ACTION_IDS.timeline]: (id, by) => postTimeline(deps, id, 'md', by),
    [ACTION_IDS.rotate]: (id, by) => rotate(deps, id, by),
    [ACTION_IDS.release]: (id, by) => release(deps, id, by),
    [ACTION_IDS.releaseApprove]: (id, by) => decideRelease(deps, id, by, 'approve'),
    [ACTION_IDS.releaseDeny]: (id, by) => decideRelease(deps, id, by, 'deny'),
    [ACTION_IDS.confirm]: onStep((id, step, by) => quiet(deps.commands.confirm(id, step, by))),
    [ACTION_IDS.approve]: onStep((id, step, by) => quiet(deps.commands.decide(id, step, by, 'approve'))),
    [ACTION_IDS.deny]: onStep((id, step, by) => quiet(deps.commands.decide(id, step, by, 'deny'))),
  };
  const buttonIds = new RegExp(
    `^(?:${Object.keys(buttons)
      .map((k) => k.replace(/[.]/g, '\\.'))
      .join('|')})$`,
  );
  app.action<BlockAction<ButtonAction>>({ action_id: buttonIds }, async ({ ack, action, body, respond }) => {
    await ack();
    const handler = Object.hasOwn(buttons, action.action_id) ? buttons[action.action_id] : undefined;
    if (!handler) return;
    const value = action.value ?? '';
    const incidentId = parseStepValue(value)?.incidentId ?? value;
    await run(respond as Respond, incidentId, async () => {
      await sameChannel(incidentId, body);
      return handler(incidentId, callerOf(body.user.id, requestOf(body, action.action_ts)), value);
    });
  });

  // The drill picker's Start: the scenario id is looked up again; the click's id keys the run.
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.drillStart, async ({ ack, action, body, respond }) => {
    await ack();
    await run(respond as Respond, undefined, async () => {
      if (!deps.drills) throw new CodedError('request_refused', 'drills are not set up in this deployment');
      const started = await deps.drills.start(
        action.value ?? '',
        callerOf(body.user.id, requestOf(body, action.action_ts)),
      );
      return drillStartedText(started.scenario, started.incidents);
    });
  });

  // The root message's Break-glass: the request form, for this incident, opened with the click's trigger id.
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.breakglass, async ({ ack, action, body, respond }) => {
    await ack();
    const incidentId = action.value ?? '';
    await run(respond as Respond, incidentId, async () => {
      await sameChannel(incidentId, body);
      await openRequestModal(deps, incidentId, body.user.id, body.trigger_id);
      return undefined;
    });
  });

  app.action<BlockAction<CheckboxesAction>>(ACTION_IDS.tick, async ({ ack, action, body, respond }) => {
    await ack();
    const ticks = action.selected_options
      .map((o) => parseChecklistValue(o.value ?? ''))
      .filter((p) => p !== undefined);
    const incidentId = ticks[0]?.incidentId;
    await run(respond as Respond, incidentId, async () => {
      if (incidentId) await sameChannel(incidentId, body);
      for (const t of ticks) {
        await deps.commands.tick(
          t.incidentId,
          t.stepId,
          t.itemId,
          callerOf(body.user.id, requestOf(body, action.action_ts)),
        );
      }
      return undefined;
    });
  });
}
