import type { App, BlockAction, ButtonAction, CheckboxesAction } from '@slack/bolt';
import { asCodedError } from '../../domain/errors.js';
import { ACTION_IDS, parseChecklistValue, parseStepValue, renderError } from '../blocks/index.js';
import { actorOf, type SlackDeps } from '../deps.js';
import { contain, decideRelease, postTimeline, release, rotate } from './operations.js';

type Respond = (msg: {
  response_type: 'ephemeral';
  text: string;
  replace_original: false;
}) => Promise<unknown>;

/** Buttons and checkboxes. Every handler acks first; engine operations are idempotent, so double clicks are harmless. */
export function registerActions(app: App, deps: SlackDeps): void {
  const run = async (respond: Respond, work: () => Promise<string | undefined>) => {
    try {
      const text = await work();
      if (text) await respond({ response_type: 'ephemeral', text, replace_original: false });
    } catch (err) {
      const coded = asCodedError(err);
      if (!coded.userSafe) deps.log.error({ err }, 'slack action failed');
      const message = coded.userSafe ? coded.message : 'Something went wrong; the error is in the bot log.';
      await respond({ response_type: 'ephemeral', text: renderError(message).text, replace_original: false });
    }
  };

  const button = (id: string, handler: (value: string, actor: string) => Promise<string | undefined>) =>
    app.action<BlockAction<ButtonAction>>(id, async ({ ack, action, body, respond }) => {
      await ack();
      await run(respond as Respond, () => handler(action.value ?? '', actorOf(body.user.id)));
    });

  const stepButton = (
    id: string,
    handler: (incidentId: string, stepId: string, actor: string) => Promise<string | undefined>,
  ) =>
    button(id, async (value, actor) => {
      const parsed = parseStepValue(value);
      if (!parsed) return 'This button is out of date.';
      return handler(parsed.incidentId, parsed.stepId, actor);
    });

  button(ACTION_IDS.ack, async (id, actor) => {
    await deps.engine.acknowledge(id, actor);
    return undefined;
  });
  button(ACTION_IDS.containPreview, (id, actor) => contain(deps, id, actor));
  button(ACTION_IDS.falsePositive, async (id, actor) => {
    await deps.engine.close(id, actor, 'false positive');
    return undefined;
  });
  button(ACTION_IDS.timeline, (id, actor) => postTimeline(deps, id, 'md', actor));
  button(ACTION_IDS.rotate, (id, actor) => rotate(deps, id, actor));
  button(ACTION_IDS.release, (id, actor) => release(deps, id, actor));
  button(ACTION_IDS.releaseApprove, (id, actor) => decideRelease(deps, id, actor, 'approve'));
  button(ACTION_IDS.releaseDeny, (id, actor) => decideRelease(deps, id, actor, 'deny'));
  stepButton(ACTION_IDS.confirm, async (id, step, actor) => {
    await deps.engine.confirm(id, step, actor);
    return undefined;
  });
  stepButton(ACTION_IDS.approve, async (id, step, actor) => {
    await deps.engine.decide(id, step, actor, 'approve');
    return undefined;
  });
  stepButton(ACTION_IDS.deny, async (id, step, actor) => {
    await deps.engine.decide(id, step, actor, 'deny');
    return undefined;
  });

  app.action<BlockAction<CheckboxesAction>>(ACTION_IDS.tick, async ({ ack, action, body, respond }) => {
    await ack();
    const actor = actorOf(body.user.id);
    await run(respond as Respond, async () => {
      for (const option of action.selected_options) {
        const parsed = parseChecklistValue(option.value ?? '');
        if (parsed) await deps.engine.tick(parsed.incidentId, parsed.stepId, parsed.itemId, actor);
      }
      return undefined;
    });
  });
}
