// parse: parseAlertBody throughput for each intake format (the body is a string, as read off the socket).
import { parseAlertBody } from '../dist/intake/parse.js';
import { alertmanagerGroup, BASE_TIME, egressEvent, falcoEvent, ndjsonBatch } from './fixtures.js';
import { measure, report } from './harness.js';

const NDJSON_EVENTS = 1000;
const ALERTMANAGER_ALERTS = 50;

export async function run() {
  const cases = [
    {
      case: 'egress event (1 object)',
      body: JSON.stringify(egressEvent()),
      warmup: 5000,
      iterations: 50_000,
    },
    {
      case: `NDJSON batch (${NDJSON_EVENTS} events)`,
      body: ndjsonBatch(NDJSON_EVENTS),
      warmup: 30,
      iterations: 400,
    },
    {
      case: `Alertmanager group (${ALERTMANAGER_ALERTS} alerts)`,
      body: JSON.stringify(alertmanagerGroup(ALERTMANAGER_ALERTS)),
      warmup: 300,
      iterations: 5000,
    },
    { case: 'Falcosidekick event (1)', body: JSON.stringify(falcoEvent()), warmup: 5000, iterations: 50_000 },
  ];
  const opts = { receivedAt: BASE_TIME };
  const results = [];
  for (const c of cases) {
    // Not a speed assertion: a benchmark of a body that fails to parse would measure the error path.
    const batch = parseAlertBody(c.body, 'application/json', opts);
    const r = await measure({
      warmup: c.warmup,
      iterations: c.iterations,
      maxMs: 3000,
      unitsPerCall: batch.alerts.length,
      fn: () => parseAlertBody(c.body, 'application/json', opts),
    });
    results.push({
      case: c.case,
      unit: 'alerts/s',
      ...r,
      note: `format ${batch.format}, ${batch.alerts.length} alerts per body, body ${c.body.length} bytes, ${((r.callsPerSec * c.body.length) / 2 ** 20).toFixed(1)} MiB/s`,
    });
  }
  return report(
    'parse',
    {
      function: 'parseAlertBody(body, contentType, { receivedAt })',
      bodies: cases.map((c) => ({
        case: c.case,
        bytes: c.body.length,
        warmup: c.warmup,
        iterations: c.iterations,
      })),
      timeBudgetPerCaseMs: 3000,
    },
    results,
  );
}
