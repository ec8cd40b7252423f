import type { App, BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import { CodedError } from '../../domain/errors.js';
import { type Grant, liveGrantStatuses } from '../../domain/grant.js';
import type { Caller } from '../../engine/ports.js';
import {
  BG_BLOCKS,
  renderExtendModal,
  renderNoticeModal,
  renderReasonModal,
  renderRefusalModal,
} from '../blocks/breakglass-modals.js';
import { idText } from '../blocks/format.js';
import { grantStatusLabels, utcText } from '../blocks/grant-text.js';
import { ACTION_IDS, GRANT_ID, VIEW_IDS } from '../blocks/ids.js';
import { renderError, renderGrantList, type SlackMessage } from '../blocks/index.js';
import { durationOf, reasonError, type StateValues, textOf } from '../breakglass/form.js';
import type { Purpose } from '../breakglass/seal.js';
import { afterAck, callerOf, grantsOf, type SlackDeps, slackReply } from '../deps.js';
import { ackOnce, notYours, type Settled, settle, within } from './modal-ack.js';

// A grant's buttons (its thread message, and `/egress grants`) and the small modals behind them. A
// button's value is only the grant id; the grant is read from the store, and a button acts only on
// the grant whose message it is on (the list's Revoke and Extend aside). Roles are the service's to
// enforce: its refusals come back as the usual ephemeral answer. Every listener acks first and never throws.

type Respond = (msg: {
  response_type: 'ephemeral';
  text: string;
  replace_original: false;
}) => Promise<unknown>;

const RECENT_MS = 24 * 3_600_000;

/** Where the click came from must be the grant's own message (or, for revoke/extend, the ephemeral list). */
function bindingProblem(grant: Grant, body: BlockAction, fromList: boolean): string | undefined {
  const c = body.container as { is_ephemeral?: unknown; message_ts?: unknown; channel_id?: unknown };
  if (c.is_ephemeral === true)
    return fromList ? undefined : `decide ${grant.id} on its message in the incident thread`;
  const channel = body.channel?.id ?? (typeof c.channel_id === 'string' ? c.channel_id : undefined);
  const ts = typeof c.message_ts === 'string' ? c.message_ts : body.message?.ts;
  if (grant.message && grant.message.channel === channel && grant.message.ts === ts) return undefined;
  return `this button is not on ${grant.id}'s message: use the buttons on its message in the incident thread`;
}

function approvedText(g: Grant): string {
  if (g.status === 'pending')
    return `👍 Your approval of ${g.id} is recorded: ${g.approvals.length} of ${g.approvalsRequired}.`;
  if (g.status === 'active' && g.extension)
    return `👍 Your approval of ${g.id}'s extension is recorded: ${g.extension.approvals.length} of ${g.approvalsRequired}.`;
  if (g.status === 'active' && g.expiresAt)
    return `🔓 ${g.id} is active${g.drill ? ' (DRILL, dry run)' : ''} and ends ${utcText(g.expiresAt)}.${g.verification ? ` ${g.verification}` : ''}`;
  return `${g.id}: ${grantStatusLabels[g.status]}.`;
}

/** `/egress grants [all]`: live grants (and with `all` those that ended in the last day), with the buttons this person may use. */
export async function listGrants(
  deps: SlackDeps,
  actor: string,
  all: boolean,
  now = Date.now(),
): Promise<SlackMessage> {
  if (deps.access && !deps.access.has(actor, 'viewer')) {
    throw new CodedError('not_authorized', 'listing break-glass grants needs the viewer role');
  }
  const grants = await grantsOf(deps).reader.list({ live: !all, limit: 50 });
  const shown = all
    ? grants.filter((g) => {
        if (liveGrantStatuses.includes(g.status)) return true;
        const at = Date.parse(g.ended?.at ?? g.denial?.at ?? g.requestExpiresAt);
        return now - at <= RECENT_MS;
      })
    : grants;
  const has = (role: 'approver' | 'responder') => deps.access?.has(actor, role) ?? true;
  return renderGrantList(shown, {
    now,
    all,
    may: (g) => ({
      revoke: g.requester === actor || has('approver'),
      extend: g.requester === actor || has('responder'),
    }),
  });
}

export function registerGrantActions(app: App, deps: SlackDeps): void {
  const reply = (respond: Respond, text: string) =>
    respond({ response_type: 'ephemeral', text, replace_original: false }).catch(() => undefined);

  /** A grant button: ack, check the value is a grant id and the click is on its message, then act. */
  const grantButton = (
    id: string,
    opts: { fromList: boolean },
    handler: (grant: Grant, body: BlockAction<ButtonAction>, by: Caller) => Promise<string | undefined>,
  ) =>
    app.action<BlockAction<ButtonAction>>(id, async ({ ack, action, body, respond }) => {
      await ack();
      const value = action.value ?? '';
      await afterAck(
        deps,
        (text) => reply(respond as Respond, text),
        async () => {
          try {
            if (!GRANT_ID.test(value)) {
              deps.log.warn(
                { user: body.user.id, action: id },
                'slack: grant button with a value that is no grant id',
              );
              await reply(respond as Respond, 'This button is out of date.');
              return;
            }
            const grant = await grantsOf(deps).reader.get(value);
            const problem = bindingProblem(grant, body, opts.fromList);
            if (problem) {
              deps.log.warn(
                { user: body.user.id, grant: value, action: id },
                'slack: grant button not on its grant message',
              );
              throw new CodedError('request_refused', problem);
            }
            const by = callerOf(body.user.id, `${body.user.id}:${action.action_ts ?? body.trigger_id}`);
            const text = await handler(grant, body, by);
            if (text) await reply(respond as Respond, text);
          } catch (err) {
            const text = renderError(slackReply(deps, err, { from: id, grant: value.slice(0, 40) })).text;
            await reply(respond as Respond, text);
          }
        },
      );
    });

  const openModal = async (
    triggerId: string,
    view: Parameters<SlackDeps['client']['views']['open']>[0]['view'],
  ) => {
    await deps.client.views.open({ trigger_id: triggerId, view });
  };
  const sealed = (purpose: Purpose, body: BlockAction, grant: Grant) =>
    deps.seal.seal(purpose, body.user.id, { g: grant.id });

  grantButton(ACTION_IDS.grantApprove, { fromList: false }, async (grant, _body, by) =>
    approvedText(await grantsOf(deps).commands.approve(grant.id, by)),
  );

  grantButton(ACTION_IDS.grantDeny, { fromList: false }, async (grant, body) => {
    if (grant.status !== 'pending' && !(grant.status === 'active' && grant.extension)) {
      return `${grant.id} is ${grantStatusLabels[grant.status]}: there is nothing to deny.`;
    }
    await openModal(
      body.trigger_id,
      renderReasonModal({ callbackId: VIEW_IDS.deny, grant, metadata: sealed('deny', body, grant) }),
    );
    return undefined;
  });

  grantButton(ACTION_IDS.grantRevoke, { fromList: true }, async (grant, body) => {
    if (!liveGrantStatuses.includes(grant.status))
      return `${grant.id} has already ended (${grantStatusLabels[grant.status]}).`;
    await openModal(
      body.trigger_id,
      renderReasonModal({ callbackId: VIEW_IDS.revoke, grant, metadata: sealed('revoke', body, grant) }),
    );
    return undefined;
  });

  grantButton(ACTION_IDS.grantExtend, { fromList: true }, async (grant, body) => {
    if (grant.status !== 'active')
      return `${grant.id} is ${grantStatusLabels[grant.status]}: only an active grant can be extended.`;
    if (grant.extension) return `An extension of ${grant.id} is already waiting for approval.`;
    const maxDurationMs = grantsOf(deps).reader.requestOptions().maxDurationMs[grant.spec.kind];
    await openModal(
      body.trigger_id,
      renderExtendModal({ grant, maxDurationMs, metadata: sealed('extend', body, grant) }),
    );
    return undefined;
  });

  /** A grant modal's submission: open its seal, read the form, run the command within Slack's wait. */
  const grantModal = (
    callbackId: string,
    purpose: Purpose,
    run: (
      grantId: string,
      by: Caller,
      values: StateValues,
    ) => { errors: Record<string, string> } | { work: Promise<Grant> },
    done: (grant: Grant) => string,
  ) =>
    app.view<ViewSubmitAction>(callbackId, async ({ ack, body, view }) => {
      const answer = ackOnce(ack);
      const user = body.user.id;
      try {
        const grantId = deps.seal.open(purpose, user, view.private_metadata)?.g;
        if (typeof grantId !== 'string' || !GRANT_ID.test(grantId)) {
          deps.log.warn(
            { user, view: view.id, purpose },
            'slack: grant modal not opened for this user (metadata)',
          );
          await answer.send(notYours());
          return;
        }
        const step = run(grantId, callerOf(user, `slack-view:${view.id}`), view.state.values as StateValues);
        if ('errors' in step) {
          await answer.send({ response_action: 'errors', errors: step.errors });
          return;
        }
        const settled = settle(step.work);
        const outcome = await within(settled);
        if (outcome && !outcome.ok) {
          const message = slackReply(deps, outcome.error, { from: callbackId, grant: grantId });
          await answer.send({ response_action: 'errors', errors: { [BG_BLOCKS.reason]: message } });
          return;
        }
        const notice = (s: Settled<Grant> | undefined) =>
          s !== undefined && !s.ok
            ? renderRefusalModal(
                'Break-glass',
                slackReply(deps, s.error, { from: callbackId, grant: grantId }),
              )
            : renderNoticeModal(
                'Break-glass',
                s === undefined ? [`⏳ Working on ${idText(grantId)}…`] : [done(s.value)],
              );
        await answer.send({ response_action: 'update', view: notice(outcome) });
        if (outcome) return;
        const late = await settled;
        await deps.client.views.update({ view_id: view.id, view: notice(late) }).catch(() => undefined);
      } catch (err) {
        const message = slackReply(deps, err, { from: callbackId });
        await answer
          .send({ response_action: 'errors', errors: { [BG_BLOCKS.reason]: message } })
          .catch(() => undefined);
      }
    });

  grantModal(
    VIEW_IDS.deny,
    'deny',
    (id, by, values) => {
      const reason = textOf(values, BG_BLOCKS.reason);
      const bad = reasonError(reason, true);
      return bad
        ? { errors: { [BG_BLOCKS.reason]: bad } }
        : { work: grantsOf(deps).commands.deny(id, by, reason) };
    },
    (g) =>
      `⛔ ${idText(g.id)}: ${grantStatusLabels[g.status]}${g.status === 'active' ? ' (its extension was denied)' : ''}.`,
  );

  grantModal(
    VIEW_IDS.revoke,
    'revoke',
    (id, by, values) => {
      const reason = textOf(values, BG_BLOCKS.reason);
      const bad = reasonError(reason, false);
      if (bad) return { errors: { [BG_BLOCKS.reason]: bad } };
      return { work: grantsOf(deps).commands.revoke(id, by, reason || `revoked early by ${by.actor}`) };
    },
    (g) => `⏹️ ${idText(g.id)}: ${grantStatusLabels[g.status]}. Its end is announced in the incident thread.`,
  );

  grantModal(
    VIEW_IDS.extend,
    'extend',
    (id, by, values) => {
      const reason = textOf(values, BG_BLOCKS.reason);
      const durationMs = durationOf(values);
      const errors: Record<string, string> = {};
      const bad = reasonError(reason, true);
      if (bad) errors[BG_BLOCKS.reason] = bad;
      if (durationMs === undefined) errors[BG_BLOCKS.duration] = 'choose how much longer';
      if (Object.keys(errors).length > 0 || durationMs === undefined) return { errors };
      return { work: grantsOf(deps).commands.requestExtension(id, by, durationMs, reason) };
    },
    (g) =>
      `⏩ Extension of ${idText(g.id)} requested: approvers other than you decide on its message in the thread.`,
  );
}
