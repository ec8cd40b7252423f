import type { TimelineKind } from '../../../src/domain/timeline.js';
import { countEvent } from '../../../src/observability/event-metrics.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { anIncident, aTimelineEvent } from '../../builders/incident.js';

// The journal tells observers of each new event once; these counters follow from the event kinds.

it('actions by id and outcome, drills, resumes and grant endings; other kinds count nothing', async () => {
  const m = createMetrics({ process: false });
  const real = anIncident({ drill: false });
  const drill = anIncident({ drill: true });
  const ev = (kind: TimelineKind, details = {}) => aTimelineEvent({ kind, details });
  countEvent(m, ev('incident.opened'), drill);
  countEvent(m, ev('incident.opened'), real);
  countEvent(m, ev('action.applied', { uses: 'k8s.quarantine', action: 'q1' }), real);
  countEvent(m, ev('action.failed', { uses: 'k8s.deny-egress' }), drill);
  countEvent(m, ev('action.reverted', { action: 'k8s.quarantine' }), real);
  countEvent(m, ev('engine.resumed'), real);
  countEvent(m, ev('grant.expired'), real);
  countEvent(m, ev('grant.removal_failed'), real);
  countEvent(m, ev('note'), real);
  const text = await m.render();
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#') && !/ 0$/.test(l));
  expect(lines.sort()).toEqual(
    [
      'egress_responder_actions_total{action="k8s.deny-egress",outcome="failed",drill="true"} 1',
      'egress_responder_actions_total{action="k8s.quarantine",outcome="applied",drill="false"} 1',
      'egress_responder_actions_total{action="k8s.quarantine",outcome="reverted",drill="false"} 1',
      'egress_responder_drills_total 1',
      'egress_responder_grant_removal_failures_total 1',
      'egress_responder_grants_ended_total{how="expired"} 1',
      'egress_responder_incidents_opened_total{drill="false"} 1',
      'egress_responder_incidents_opened_total{drill="true"} 1',
      'egress_responder_resumes_total 1',
    ].sort(),
  );
});
