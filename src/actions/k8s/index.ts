import type { ActionDefinition } from '../define.js';
import { denyEgress, detachQuarantined, l7Deny, quarantine } from './contain/index.js';

export { containmentGaps } from './contain/index.js';

/** Kubernetes containment, in the order a playbook runs them: quarantine, deny-egress, detach-quarantined, l7-deny. */
export const k8sContainActions: ActionDefinition[] = [quarantine, denyEgress, detachQuarantined, l7Deny];
