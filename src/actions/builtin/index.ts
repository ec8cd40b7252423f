import type { ActionDefinition } from '../define.js';
import { contractAttestation } from '../k8s/attest/action.js';
import { noteAdd, notifyMessage, timelineExport } from './communicate.js';
import { contractVerdict, destination, sourceIdentity } from './triage.js';

/** The actions every deployment has. Kubernetes and rotation actions add themselves in their folders. */
export const builtinActions: ActionDefinition[] = [
  sourceIdentity,
  destination,
  contractVerdict,
  contractAttestation,
  noteAdd,
  notifyMessage,
  timelineExport,
];
