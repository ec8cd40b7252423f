import { oneLine } from './escape.js';
import { actorSegment, mrkdwn, plain } from './format.js';
import { ACTION_IDS } from './ids.js';
import { enforceMessage } from './limits.js';
import { fallbackText, richText } from './rich.js';
import type { SlackMessage } from './types.js';

/** The thread message that asks an approver to release containment (two-person rule). */
export function renderReleaseRequest(
  incidentId: string,
  stepTitle: string,
  requestedBy: string,
): SlackMessage {
  // The step's title as the playbook has it.
  const body = richText([
    '🔓 ',
    { text: 'Release requested', bold: true },
    ` for ${oneLine(stepTitle)} of ${incidentId} by `,
    actorSegment(requestedBy),
    '.\nAn approver other than the requester decides; approval undoes exactly what this incident applied.',
  ]);
  return enforceMessage({
    text: fallbackText([`Release of ${oneLine(stepTitle)} requested for ${incidentId}`]),
    blocks: [
      body,
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
