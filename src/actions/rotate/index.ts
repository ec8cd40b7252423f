import type { ActionDefinition } from '../define.js';
import { certManagerRenew } from './certmanager.js';
import { k8sJob } from './k8s-job.js';
import { deleteQuarantinedPods } from './k8s-quarantined.js';
import { rolloutRestart } from './k8s-rollout.js';
import { revokeTokenSecrets } from './k8s-tokens.js';
import { rotateWebhook } from './webhook.js';

export { certManagerRenew } from './certmanager.js';
export { k8sJob } from './k8s-job.js';
export { deleteQuarantinedPods } from './k8s-quarantined.js';
export { rolloutRestart } from './k8s-rollout.js';
export { revokeTokenSecrets } from './k8s-tokens.js';
export { rotateWebhook } from './webhook.js';

/** The rotation and revocation actions (issue 5). */
export const rotateActions: ActionDefinition[] = [
  rotateWebhook,
  rolloutRestart,
  revokeTokenSecrets,
  certManagerRenew,
  k8sJob,
  deleteQuarantinedPods,
];

/** What rotation does not cover: stated in the thread and the timeline after the rotation step. */
export const rotationGaps: string[] = [
  'A quarantined pod kept alive for forensics keeps its bound service-account token until the pod is deleted: run k8s.delete-quarantined-pods (behind approval) once evidence is collected.',
  'Cloud session credentials that cannot be revoked stay valid until they expire: add a deny on token issue time (e.g. an IAM condition on aws:TokenIssueTime / revoke sessions issued before now) for the identity.',
];
