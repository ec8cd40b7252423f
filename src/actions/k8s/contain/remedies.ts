// What k8s.deny-egress does about allow-policies that keep the pods talking (NetworkPolicies are
// additive: the deny-all policy alone does not stop a pod another policy allows). One row per
// remedy, each with its plan, drift, apply, the view a dry run verifies, and revert.
import { cniDeny } from './remedy-cni-deny.js';
import { detach } from './remedy-detach.js';
import { isolate } from './remedy-isolate.js';
import { reportOnly } from './remedy-report-only.js';
import type { RemedyKind, RemedyStrategy } from './remedy-strategy.js';

export const remedies: Record<RemedyKind, RemedyStrategy> = {
  'report-only': reportOnly,
  isolate,
  detach,
  'cni-deny': cniDeny,
};
