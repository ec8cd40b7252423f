import type { App, BlockAction, ViewSubmitAction } from '@slack/bolt';
import type { GrantRequestInput } from '../../breakglass/ports.js';
import { CodedError } from '../../domain/errors.js';
import type { GrantKind, GrantSpec } from '../../domain/grant.js';
import {
  BG_BLOCKS,
  renderNoticeModal,
  renderRefusalModal,
  renderRequestedModal,
  renderRequestModal,
  renderReviewModal,
} from '../blocks/breakglass-modals.js';
import { escapeInline } from '../blocks/escape.js';
import { shortDuration } from '../blocks/format.js';
import { ACTION_IDS, VIEW_IDS } from '../blocks/ids.js';
import { MODAL_LIMITS } from '../blocks/modal.js';
import {
  choiceOf,
  errorsFromService,
  kindOf,
  onInputBlocks,
  parseRequestForm,
  type StateValues,
  textOf,
} from '../breakglass/form.js';
import { callerOf, grantsOf, type SlackDeps, slackReply } from '../deps.js';
import { ackOnce, notYours, settle, within } from './modal-ack.js';

// The request flow: `/egress breakglass <incident>` or the root message's Break-glass button opens
// the form (views.open with the trigger id); switching the kind redraws it (views.update); submitting
// it validates through the service's preview and shows the review (response_action: update) with
// exactly the rendered objects; submitting the review stores the request, keyed by the view's id so a
// double submit makes one grant. private_metadata is sealed: a submission of a modal the bot did not
// open for this person does nothing.

interface FormData {
  incidentId: string;
  namespace: string;
  drill: boolean;
}

function formData(d: Record<string, unknown> | undefined): FormData | undefined {
  if (!d || typeof d.i !== 'string' || typeof d.n !== 'string' || typeof d.d !== 'boolean') return undefined;
  return { incidentId: d.i, namespace: d.n, drill: d.d };
}

/** Open the request form for an incident (a button or a slash command's trigger id, valid for 3 s). */
export async function openRequestModal(
  deps: SlackDeps,
  incidentId: string,
  user: string,
  triggerId: string,
): Promise<void> {
  const incident = await deps.reader.get(incidentId);
  const grants = grantsOf(deps);
  if (incident.status === 'closed') {
    throw new CodedError(
      'incident_closed',
      `${incident.id} is closed: break-glass is for incidents still being worked`,
    );
  }
  const data = { i: incident.id, n: incident.alert.source.namespace, d: incident.drill };
  await deps.client.views.open({
    trigger_id: triggerId,
    view: renderRequestModal({
      incidentId: data.i,
      namespace: data.n,
      drill: data.d,
      kind: 'egress-exception',
      options: grants.reader.requestOptions(),
      metadata: deps.seal.seal('request', user, data),
    }),
  });
}

export function registerBreakglass(app: App, deps: SlackDeps): void {
  // Switching the kind redraws the form for it, keeping duration, reason and ticket.
  app.action<BlockAction>(ACTION_IDS.breakglassKind, async ({ ack, body }) => {
    await ack();
    try {
      const view = body.view;
      const data = formData(deps.seal.open('request', body.user.id, view?.private_metadata));
      if (!view || !data) {
        deps.log.warn(
          { user: body.user.id },
          'slack: break-glass kind switch on a modal not opened for this user',
        );
        return;
      }
      const values = view.state.values as StateValues;
      const duration = choiceOf(values, BG_BLOCKS.duration);
      await deps.client.views.update({
        view_id: view.id,
        hash: view.hash,
        view: renderRequestModal({
          ...data,
          kind: kindOf(values, 'egress-exception'),
          options: grantsOf(deps).reader.requestOptions(),
          metadata: view.private_metadata,
          initial: {
            ...(duration ? { duration } : {}),
            reason: textOf(values, BG_BLOCKS.reason),
            ticket: textOf(values, BG_BLOCKS.ticket),
          },
        }),
      });
    } catch (err) {
      // hash_conflict: the person changed the form again meanwhile; their latest redraw wins.
      slackReply(deps, err, { from: 'breakglass.kind' });
    }
  });

  app.view<ViewSubmitAction>(VIEW_IDS.request, async ({ ack, body, view }) => {
    const answer = ackOnce(ack);
    const user = body.user.id;
    let kind: GrantKind = 'egress-exception';
    try {
      const data = formData(deps.seal.open('request', user, view.private_metadata));
      if (!data) {
        deps.log.warn({ user, view: view.id }, 'slack: break-glass form not opened for this user (metadata)');
        await answer.send(notYours());
        return;
      }
      const values = view.state.values as StateValues;
      kind = kindOf(values, 'egress-exception');
      const form = parseRequestForm(values, { ...data, kind });
      if (!form.ok) {
        await answer.send({ response_action: 'errors', errors: onInputBlocks(form.errors, view.blocks) });
        return;
      }
      const ctx = { kind, sourceKind: choiceOf(values, BG_BLOCKS.source) };
      const outcome = await within(settle(grantsOf(deps).commands.preview(form.input, callerOf(user))));
      if (!outcome) {
        await answer.send({
          response_action: 'errors',
          errors: { [BG_BLOCKS.kind]: 'Checking the request took longer than Slack waits: submit again.' },
        });
        return;
      }
      if (!outcome.ok) {
        const message = slackReply(deps, outcome.error, {
          incident: data.incidentId,
          from: 'breakglass.preview',
        });
        await answer.send({
          response_action: 'errors',
          errors: onInputBlocks(errorsFromService(outcome.error, message, ctx), view.blocks),
        });
        return;
      }
      const preview = outcome.value;
      if (form.input.durationMs > preview.maxDurationMs) {
        await answer.send({
          response_action: 'errors',
          errors: { [BG_BLOCKS.duration]: `at most ${shortDuration(preview.maxDurationMs)} for this kind` },
        });
        return;
      }
      const metadata = deps.seal.seal('review', user, { input: form.input, d: data.drill });
      if (metadata.length > MODAL_LIMITS.privateMetadata) {
        const over = metadata.length - MODAL_LIMITS.privateMetadata;
        await answer.send({
          response_action: 'errors',
          errors: {
            [BG_BLOCKS.reason]: `Too long to carry to the review: shorten the reason (or the other fields) by ${over} characters.`,
          },
        });
        return;
      }
      const { spec, durationMs, reason, ticket } = form.input;
      await answer.send({
        response_action: 'update',
        view: renderReviewModal({
          incidentId: data.incidentId,
          drill: data.drill,
          spec: spec as GrantSpec,
          durationMs,
          reason,
          ...(ticket ? { ticket } : {}),
          preview,
          metadata,
        }),
      });
    } catch (err) {
      const message = slackReply(deps, err, { from: 'breakglass.request' });
      await answer
        .send({ response_action: 'errors', errors: { [BG_BLOCKS.kind]: message } })
        .catch(() => undefined);
    }
  });

  app.view<ViewSubmitAction>(VIEW_IDS.review, async ({ ack, body, view }) => {
    const answer = ackOnce(ack);
    const user = body.user.id;
    try {
      const sealed = deps.seal.open('review', user, view.private_metadata);
      const input = sealed?.input as GrantRequestInput | undefined;
      if (!input || typeof input.incidentId !== 'string') {
        deps.log.warn(
          { user, view: view.id },
          'slack: break-glass review not opened for this user (metadata)',
        );
        await answer.send(notYours());
        return;
      }
      // One modal, one grant: a second submit of this view (double click, retry) is the same request.
      const by = callerOf(user, `slack-view:${view.id}`);
      const settled = settle(grantsOf(deps).commands.request(input, by));
      const toView = (s: Awaited<typeof settled>) =>
        s.ok
          ? renderRequestedModal(s.value)
          : renderRefusalModal(
              'Not requested',
              slackReply(deps, s.error, { incident: input.incidentId, from: 'breakglass.review' }),
            );
      const first = await within(settled);
      if (first) {
        await answer.send({ response_action: 'update', view: toView(first) });
        return;
      }
      await answer.send({
        response_action: 'update',
        view: renderNoticeModal('Recording request', [
          `⏳ Recording the request for ${escapeInline(input.incidentId)}…`,
        ]),
      });
      const late = await settled;
      await deps.client.views.update({ view_id: view.id, view: toView(late) }).catch((err: unknown) => {
        deps.log.warn(
          { err: (err as Error).message, user },
          'slack: could not show the request outcome in its modal',
        );
      });
    } catch (err) {
      const message = slackReply(deps, err, { from: 'breakglass.review' });
      await answer
        .send({
          response_action: 'update',
          view: renderRefusalModal('Not requested', message),
        })
        .catch(() => undefined);
    }
  });
}
