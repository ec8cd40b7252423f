// action_ids and button/option values: the contract between the renderers and the listeners.
// Ids in values are joined with `|`; incident ids and playbook slugs never contain one.

export const ACTION_IDS = {
  /** Root message: take command (value = incident id). */
  ack: 'incident.ack',
  /** Root message: plan containment and show the preview (value = incident id). */
  containPreview: 'incident.contain.preview',
  /** Root message: close as a false positive, behind a confirm dialog (value = incident id). */
  falsePositive: 'incident.false_positive',
  /** Root message: post the timeline (value = incident id). */
  timeline: 'incident.timeline',
  /** Root message: run the rotation step now (value = incident id). */
  rotate: 'incident.rotate',
  /** Root message: ask for containment to be released; an approver decides (value = incident id). */
  release: 'incident.release',
  /** Release request message: an approver (not the requester) approves or denies (value = incident id). */
  releaseApprove: 'release.approve',
  releaseDeny: 'release.deny',
  /** Step message: checklist checkboxes (option value = `<incidentId>|<stepId>|<itemId>`). */
  tick: 'step.tick',
  /** Step message: confirm a soft-mode step's destructive actions (value = `<incidentId>|<stepId>`). */
  confirm: 'step.confirm',
  /** Step message: approve / deny (value = `<incidentId>|<stepId>`). */
  approve: 'step.approve',
  deny: 'step.deny',
  /** Root message: open the break-glass request modal for this incident (value = incident id). */
  breakglass: 'incident.breakglass',
  /** Grant message and `/egress grants`: value = the grant id only; everything else is read from the store. */
  grantApprove: 'grant.approve',
  /** Opens a modal for the required reason. */
  grantDeny: 'grant.deny',
  /** Opens a modal for the reason. */
  grantRevoke: 'grant.revoke',
  /** Opens a modal: extra duration and reason. */
  grantExtend: 'grant.extend',
  /** `/egress drill` picker: start this scenario (value = scenario id). */
  drillStart: 'drill.start',
  /** Request modal: the kind radio buttons (dispatch_action: the modal is redrawn for that kind). */
  breakglassKind: 'breakglass.kind',
} as const;
export type ActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

/** callback_ids of the break-glass modals. */
export const VIEW_IDS = {
  /** The request form (kind, what, duration, reason, ticket). */
  request: 'breakglass.request',
  /** The rendered objects and warnings; submitting it stores the request. */
  review: 'breakglass.review',
  deny: 'breakglass.deny',
  revoke: 'breakglass.revoke',
  extend: 'breakglass.extend',
} as const;

/** What a grant button's value must be: a grant id and nothing else. */
export const GRANT_ID = /^bg-[0-9a-f]{10}$/;

const SEP = '|';

export function stepValue(incidentId: string, stepId: string): string {
  return `${incidentId}${SEP}${stepId}`;
}

export function parseStepValue(value: string): { incidentId: string; stepId: string } | undefined {
  const parts = value.split(SEP);
  if (parts.length !== 2 || parts.some((p) => p === '')) return undefined;
  return { incidentId: parts[0] as string, stepId: parts[1] as string };
}

export function checklistValue(incidentId: string, stepId: string, itemId: string): string {
  return `${incidentId}${SEP}${stepId}${SEP}${itemId}`;
}

export function parseChecklistValue(
  value: string,
): { incidentId: string; stepId: string; itemId: string } | undefined {
  const parts = value.split(SEP);
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  return { incidentId: parts[0] as string, stepId: parts[1] as string, itemId: parts[2] as string };
}
