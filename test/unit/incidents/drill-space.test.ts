import type { EgressAlert, ParsedBatch } from '../../../src/domain/alert.js';
import { recordAlerts } from '../../../src/incidents/record-alerts.js';
import { anAlert } from '../../builders/alert.js';
import { testEngine } from '../../builders/engine.js';

// In a shared store (a Slack drill runs next to real incidents), a drill's alerts live in their own
// fingerprint and request-id space: a drill never folds into the real incident of the same anomaly,
// a real alert never folds into a drill (where everything is a dry-run and nothing would be
// contained), and the same scenario played twice is two drills.

const batch = (alerts: EgressAlert[]): ParsedBatch => ({
  format: 'egress-event',
  alerts,
  items: alerts.map((alert, index) => ({ index, at: `[${index}]`, alert })),
});

it('real and drill alerts of one anomaly never share an incident, in either order', async () => {
  const t = testEngine();
  const alert = anAlert({ requestId: 'req-1' });
  const [drill] = await recordAlerts(t.recorder(), batch([alert]), { drill: true, drillRun: 'run-a' });
  const [real] = await recordAlerts(t.recorder(), batch([alert]));
  const [realAgain] = await recordAlerts(t.recorder(), batch([{ ...alert, requestId: 'req-2' }]));
  const [drillAgain] = await recordAlerts(t.recorder(), batch([{ ...alert, requestId: 'req-3' }]), {
    drill: true,
    drillRun: 'run-a',
  });
  expect(drill!.status).toBe('opened');
  // The same request id in a drill is not a duplicate of the real sender's.
  expect(real!.status).toBe('opened');
  expect(real!.id).not.toBe(drill!.id);
  expect(realAgain).toMatchObject({ status: 'folded', id: real!.id });
  expect(drillAgain).toMatchObject({ status: 'folded', id: drill!.id });
  const [d, r] = await Promise.all([t.store.incidents.get(drill!.id!), t.store.incidents.get(real!.id!)]);
  expect([d!.drill, r!.drill]).toEqual([true, false]);
  expect(d!.fingerprint).toBe(`drill:run-a:${r!.fingerprint}`);
});

it('a scenario played twice is two drills; a repeat within one run folds', async () => {
  const t = testEngine();
  const alert = anAlert({ requestId: 'req-x' });
  const [a] = await recordAlerts(t.recorder(), batch([alert]), { drill: true, drillRun: 'run-1' });
  const [a2] = await recordAlerts(t.recorder(), batch([alert]), { drill: true, drillRun: 'run-1' });
  const [b] = await recordAlerts(t.recorder(), batch([alert]), { drill: true, drillRun: 'run-2' });
  expect(a!.status).toBe('opened');
  expect(a2).toMatchObject({ status: 'duplicate', id: a!.id });
  expect(b!.status).toBe('opened');
  expect(b!.id).not.toBe(a!.id);
});
