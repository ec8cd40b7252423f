import type { AlertmanagerLabelMapping } from '../domain/alertmanager-labels.js';

/** What every parser is told about the request it reads. */
export interface ParseOptions {
  /** Epoch ms when the request arrived; the time of events that carry none. */
  receivedAt: number;
  /** From config: which Alertmanager label carries each egress field. Default: the field's own name. */
  alertmanagerLabels?: AlertmanagerLabelMapping;
  /** Alerts accepted per request (default 1000); more is an error, not a silent cut. */
  maxAlerts?: number;
}
