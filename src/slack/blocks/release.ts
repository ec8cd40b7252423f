import { escapeInline } from './escape.js';
import { actorText, idText, mrkdwn, plain } from './format.js';
import { ACTION_IDS } from './ids.js';
import { enforceMessage } from './limits.js';
import type { SlackMessage } from './types.js';

/** The thread message that asks an approver to release containment (two-person rule). */
export function renderReleaseRequest(
  incidentId: string,
  stepTitle: string,
  requestedBy: string,
): SlackMessage {
  const body = `🔓 *Release requested* for ${escapeInline(stepTitle)} of ${idText(incidentId)} by ${actorText(requestedBy)}.\nAn approver other than the requester decides; approval undoes exactly what this incident applied.`;
  return enforceMessage({
    text: `Release of ${escapeInline(stepTitle)} requested for ${escapeInline(incidentId)}`,
    blocks: [
      { type: 'section', text: mrkdwn(body) },
      {
        type: 'actions',
        block_id: `release|${incidentId}`,
        elements: [
          {
            type: 'button',
            action_id: ACTION_IDS.releaseApprove,
            text: plain('Approve release'),
            value: incidentId,
            style: 'primary',
            confirm: {
              title: plain('Release containment?'),
              text: mrkdwn('Labels, policies and remedies this incident applied are undone.'),
              confirm: plain('Release'),
              deny: plain('Cancel'),
            },
          },
          {
            type: 'button',
            action_id: ACTION_IDS.releaseDeny,
            text: plain('Deny'),
            value: incidentId,
            style: 'danger',
          },
        ],
      },
    ],
  });
}
