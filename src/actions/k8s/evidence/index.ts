import type { ActionDefinition } from '../../define.js';
import { collectEvidence } from './collect-evidence.js';

export { collectEvidence, fitLog } from './collect-evidence.js';

/** Evidence of the quarantined pods, for the forensics hand-off (read-only). */
export const k8sEvidenceActions: ActionDefinition[] = [collectEvidence];
