// Pure Block Kit renderers: everything shown in Slack is built here, escaped, and cut to Block Kit's
// limits in one place (limits.ts).

export {
  BG_BLOCKS,
  durationChoices,
  renderExtendModal,
  renderNoticeModal,
  renderReasonModal,
  renderRefusalModal,
  renderRequestedModal,
  renderRequestModal,
  renderReviewModal,
} from './breakglass-modals.js';
export { DRILL_MARK, drillStartedText, markDrill, markDrillComment, renderDrillPicker } from './drill.js';
export { renderError, renderNotice, renderRefusal } from './ephemeral.js';
export { escapeCode, escapeEntities, escapeInline, escapeMrkdwn, inlineCode, truncate } from './escape.js';
export { actorSegment, actorText, mrkdwn, plain, slackDate } from './format.js';
export { grantButtons, renderGrantMessage } from './grant.js';
export {
  type GrantPermissions,
  isAnnouncedGrantEvent,
  renderGrantAnnouncement,
  renderGrantList,
} from './grant-list.js';
export { describeGrantSpec, grantKindLabels, grantStatusLabels, utcText } from './grant-text.js';
export { renderHelp, type SubcommandHelp } from './help.js';
export {
  ACTION_IDS,
  type ActionId,
  checklistValue,
  GRANT_ID,
  parseChecklistValue,
  parseStepValue,
  stepValue,
  VIEW_IDS,
} from './ids.js';
export {
  type IncidentAction,
  type IncidentView,
  incidentActions,
  incidentView,
  renderIncidentRoot,
  statusEmoji,
} from './incident.js';
export { BlockLimitError, type EnforceOptions, enforceLimits, enforceMessage, LIMITS } from './limits.js';
export { enforceModal, type ModalView } from './modal.js';
export { renderReleaseRequest } from './release.js';
export { fallbackText, richMessage, richText, type Segment } from './rich.js';
export {
  actionSummary,
  type PlanSummary,
  renderPreview,
  renderStep,
  renderVerification,
  stepHeadline,
  stepStatusEmoji,
  stepStatusLabels,
} from './steps.js';
export { renderTimelineMessage, timelineLine } from './timeline.js';
export type { Block, SlackMessage } from './types.js';
