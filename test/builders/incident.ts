import type { Incident } from '../../src/domain/incident.js';
import type { TimelineEvent } from '../../src/domain/timeline.js';
import { anAlert } from './alert.js';

const AT = '2026-11-25T14:03:12.123Z';

/**
 * A valid, freshly opened Incident for the default alert (payments-api → exfil.example.net:443/https,
 * no contract, default playbook in soft mode). Top-level fields can be overridden; nested objects are
 * replaced whole.
 */
export function anIncident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-20261125-0001',
    version: 0,
    fingerprint: 'spiffe://cluster.local/ns/prod/sa/payments-api|fqdn:exfil.example.net|443|https',
    status: 'open',
    alert: anAlert(),
    count: 1,
    firstSeen: AT,
    lastSeen: AT,
    verdict: { kind: 'no-contract', message: 'payments-api has no egress contract' },
    playbook: { id: 'egress-anomaly', file: 'playbooks/egress-anomaly.yaml' },
    mode: 'soft',
    drill: false,
    steps: [],
    createdAt: AT,
    updatedAt: AT,
    ...over,
  };
}

/** A valid timeline event (a note on the default incident) with any field overridden. */
export function aTimelineEvent(over: Partial<TimelineEvent> = {}): TimelineEvent {
  return {
    id: 'inc-20261125-0001:note:1',
    at: AT,
    incidentId: 'inc-20261125-0001',
    kind: 'note',
    actor: 'system',
    summary: 'a note',
    details: {},
    ...over,
  };
}
