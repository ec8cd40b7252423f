export { containmentGaps } from './common.js';
export { denyEgress } from './deny-egress.js';
export { detachQuarantined } from './detach-quarantined.js';
export { l7Deny, NO_MESH_REASON } from './l7-deny.js';
export { quarantine } from './quarantine.js';
