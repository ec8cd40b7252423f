import type { EgressAlert, ParsedBatch } from '../../../src/domain/alert.js';
import { modeFor, newIncidentId } from '../../../src/incidents/ids.js';
import { recordAlerts } from '../../../src/incidents/record-alerts.js';
import { anAlert } from '../../builders/alert.js';
import { testEngine } from '../../builders/engine.js';

const batch = (...alerts: EgressAlert[]): ParsedBatch => ({
  format: 'egress-event',
  alerts,
  items: alerts.map((alert, index) => ({ index, at: `[${index}]`, alert })),
});

describe('recording alerts', () => {
  it('incident ids read EGR-<yymmdd>-<6 base32>', () => {
    expect(newIncidentId(Date.parse('2026-11-25T14:03:12.123Z'))).toMatch(/^EGR-261125-[A-HJ-NP-Z2-9]{6}$/);
  });

  it('an id collision between two different anomalies retries with a fresh id instead of failing', async () => {
    const t = testEngine();
    const ids = ['EGR-SAME', 'EGR-SAME', 'EGR-OTHER'];
    const recorder = t.recorder({ newId: () => ids.shift()! });
    const first = await recordAlerts(recorder, batch(anAlert({ destination: { name: 'a.example' } })));
    const second = await recordAlerts(recorder, batch(anAlert({ destination: { name: 'b.example' } })));
    expect(first).toEqual([{ index: 0, at: '[0]', id: 'EGR-SAME', status: 'opened' }]);
    expect(second).toEqual([{ index: 0, at: '[0]', id: 'EGR-OTHER', status: 'opened' }]);
  });

  it('a sender retry (same request id) is a duplicate; resolved alerts are noted, not opened', async () => {
    const t = testEngine();
    const recorder = t.recorder();
    const [opened] = await recordAlerts(recorder, batch(anAlert({ requestId: 'r1' })));
    const again = await recordAlerts(
      recorder,
      batch(anAlert({ requestId: 'r1' }), anAlert({ requestId: 'r2' })),
    );
    expect(again.map((r) => r.status)).toEqual(['duplicate', 'folded']);
    expect((await t.engine.get(opened!.id!)).count).toBe(2);
    const resolved = await recordAlerts(recorder, batch(anAlert({ state: 'resolved', requestId: 'r3' })));
    expect(resolved.map((r) => [r.id, r.status])).toEqual([[opened!.id, 'resolved']]);
    expect((await t.engine.get(opened!.id!)).resolvedAt).toBeDefined();
    const orphan = await recordAlerts(
      recorder,
      batch(anAlert({ state: 'resolved', destination: { name: 'x.example' } })),
    );
    expect(orphan.map((r) => [r.id, r.status])).toEqual([[null, 'ignored']]);
  });

  it('modes are overridden per namespace, globs included; a namespace named constructor is just a name', async () => {
    const t = testEngine();
    const recorder = t.recorder({ modes: { 'prod-*': 'hard', staging: 'observe' } });
    const mode = async (namespace: string) => {
      const [r] = await recordAlerts(recorder, batch(anAlert({ source: { namespace } })));
      return (await t.engine.get(r!.id!)).mode;
    };
    expect([
      await mode('prod-eu'),
      await mode('staging'),
      await mode('dev'),
      await mode('constructor'),
    ]).toEqual(['hard', 'observe', 'soft', 'soft']);
    expect(modeFor('__proto__', 'soft', {})).toBe('soft');
    expect(modeFor('toString', 'soft', { toString: 'hard' as const })).toBe('hard');
  });

  it('queues the playbook run of a new incident in the same step as the incident (due now)', async () => {
    const t = testEngine();
    const [r] = await recordAlerts(t.recorder(), batch(anAlert()));
    const due = await t.store.schedule.due(t.clock.now());
    expect(due.map((i) => i.id)).toEqual([`advance:${r!.id}`]);
    // The worker takes it and runs the playbook, with nobody calling advance().
    expect((await t.engine.work(t.clock.now())).advanced).toBe(1);
    expect((await t.engine.get(r!.id!)).steps.map((s) => s.status)).toEqual(['awaiting_input']);
    expect(await t.store.schedule.due(t.clock.now() + 3_600_000)).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ id: `advance:${r!.id}` })]),
    );
  });

  it('a request past its deadline sends nothing more to the store and says so per alert', async () => {
    const t = testEngine();
    const results = await recordAlerts(t.recorder(), batch(anAlert({ requestId: 'late-1' })), {
      deadline: t.clock.now() - 1,
    });
    expect(results).toEqual([
      {
        index: 0,
        at: '[0]',
        status: 'not_recorded',
        id: null,
        error: 'the request ran out of time before this alert',
      },
    ]);
    expect(await t.store.incidents.list()).toEqual([]);
  });

  it('an invalid item is rejected with its issues and the valid ones in the same body are recorded', async () => {
    const t = testEngine();
    const alert = anAlert();
    const mixed: ParsedBatch = {
      format: 'egress-event',
      alerts: [alert],
      items: [
        { index: 0, at: '[0]', issues: [{ path: '[0].dst_port', message: 'is required' }] },
        { index: 1, at: '[1]', alert },
      ],
    };
    const results = await recordAlerts(t.recorder(), mixed);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'opened']);
    expect(results[0]!.issues).toEqual([{ path: '[0].dst_port', message: 'is required' }]);
  });
});
