import { z } from 'zod';

// Part of the config file (intake.alertmanagerLabels) and read by the Alertmanager parser: it lives
// here so that config/ does not import a parser.

const LabelName = z.string().min(1).max(1024);

/**
 * Our field name → the Alertmanager label that carries it. Every key is optional; a missing key
 * means the label has the field's own name (`src_service` → label `src_service`).
 */
export const AlertmanagerLabelMapping = z.strictObject({
  src_service: LabelName.optional(),
  src_namespace: LabelName.optional(),
  src_identity: LabelName.optional(),
  dst_type: LabelName.optional(),
  dst_name: LabelName.optional(),
  dst_namespace: LabelName.optional(),
  dst_port: LabelName.optional(),
  protocol: LabelName.optional(),
  decision: LabelName.optional(),
  policy_id: LabelName.optional(),
  trace_id: LabelName.optional(),
  request_id: LabelName.optional(),
});
export type AlertmanagerLabelMapping = z.infer<typeof AlertmanagerLabelMapping>;
