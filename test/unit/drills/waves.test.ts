import { CodedError } from '../../../src/domain/errors.js';
import { createDrillClock } from '../../../src/drills/clock.js';
import { parseScenario } from '../../../src/drills/scenario.js';
import { batchesOf, parseWave, wavesOf } from '../../../src/drills/waves.js';

// The scenario format's waves: `repeat` (copies each to its own host), `later` (later waves in drill
// time), every payload checked by the real intake parser when the scenario is read.

const ALERT = `alert:
  src_service: orders-api
  src_namespace: prod
  dst_type: fqdn
  dst_name: q.x7f.tunnel-example.net
  dst_port: 53
  protocol: dns
  request_id: q-1
`;
const scenario = (rest: string, alert = ALERT) => `id: t\ntitle: T\n${alert}${rest}`;

function problems(text: string): string[] {
  try {
    parseScenario(text, 't.yaml');
  } catch (err) {
    if (err instanceof CodedError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('scenario waves', () => {
  it('reads repeat and later, waves in drill-time order (equal times keep their order)', () => {
    const { scenario: s } = parseScenario(
      scenario(`repeat: { count: 3, host: "{n}.x7f.tunnel-example.net" }
later:
  - { after: 1m, note: late }
  - { after: 30s, during: contain, repeats: 2 }
  - { after: 30s, note: simultaneous }
`),
      't.yaml',
    );
    expect(wavesOf(s).map((w) => [w.at, w.afterMs, w.during ?? null, w.note ?? null])).toEqual([
      ['alert', 0, null, null],
      ['later[1]', 30_000, 'contain', null],
      ['later[2]', 30_000, null, 'simultaneous'],
      ['later[0]', 60_000, null, 'late'],
    ]);
  });

  it('makes each copy its own host and keeps request ids unique, so nothing is taken for a retry', () => {
    const { scenario: s } = parseScenario(
      scenario(`repeats: 1
repeat: { count: 2, host: "{n}-{n}.x7f.tunnel-example.net" }
later: [{ after: 30s }]
`),
      't.yaml',
    );
    const [first, again] = wavesOf(s);
    const parsed = parseWave(first!, { receivedAt: 0 });
    const stamp = '2026-11-25T14:03:12.123Z';
    const batches = batchesOf(first!, parsed.alerts, stamp, 'egress-event');
    expect(batches.map((b) => b.alerts.map((a) => [a.destination.name, a.requestId]))).toEqual([
      [['q.x7f.tunnel-example.net', 'q-1']],
      [['q.x7f.tunnel-example.net', 'q-1-repeat-1']],
      [
        ['1-1.x7f.tunnel-example.net', 'q-1-host-1'],
        ['2-2.x7f.tunnel-example.net', 'q-1-host-2'],
      ],
    ]);
    expect(batches.flatMap((b) => b.alerts).every((a) => a.firstSeen === stamp && a.lastSeen === stamp)).toBe(
      true,
    );
    // A follow-up without its own alert sends the scenario's again, under a request id of its own.
    const later = batchesOf(again!, parseWave(again!, { receivedAt: 0 }).alerts, stamp, 'egress-event');
    expect(later.map((b) => b.alerts.map((a) => a.requestId))).toEqual([['q-1-later0']]);
  });

  it.each([
    ['a host without {n}', 'repeat: { count: 2, host: "a.evil.com" }\n', 'repeat.host: must contain {n}'],
    ['a zero count', 'repeat: { count: 0, host: "{n}.evil.com" }\n', 'repeat.count: '],
    ['a follow-up over an hour', 'later: [{ after: 2h }]\n', 'later[0].after: a follow-up arrives within 1h'],
    [
      'a follow-up that is not a duration',
      'later: [{ after: soon }]\n',
      'later[0].after: expected a duration',
    ],
    ['an unknown key', 'later: [{ after: 30s, when: contain }]\n', 'later[0].when: unknown field'],
    [
      'a step id with spaces',
      'later: [{ after: 30s, during: "B) Contain" }]\n',
      'later[0].during: expected a step id',
    ],
    [
      'a bad follow-up alert',
      'later: [{ after: 30s, alert: { src_service: x } }]\n',
      'later[0].alert.src_namespace: ',
    ],
  ])('refuses %s, naming the field', (_what, rest, problem) => {
    expect(problems(scenario(rest)).some((p) => p.startsWith(problem))).toBe(true);
  });

  it('refuses a payload the intake would refuse, with its line, and repeat.host on a non-fqdn alert', () => {
    const noPort = ALERT.replace('  dst_port: 53\n', '');
    expect(problems(scenario('', noPort))).toEqual([
      expect.stringMatching(/^alert\.dst_port: is required.*\(line 3\)$/),
    ]);
    const ip = ALERT.replace('dst_type: fqdn', 'dst_type: ip').replace(
      'q.x7f.tunnel-example.net',
      '203.0.113.66',
    );
    expect(problems(scenario('repeat: { count: 2, host: "{n}.evil.com" }\n', ip))).toEqual([
      expect.stringMatching(
        /^repeat\.host: replaces the destination name, so every alert of its wave must have an fqdn destination/,
      ),
    ]);
  });
});

describe('drill clock', () => {
  it('moves forward to a time, never back', () => {
    let real = 1000;
    const clock = createDrillClock({ now: () => real });
    clock.advanceTo(31_000);
    expect(clock.now()).toBe(31_000);
    real += 5;
    expect(clock.now()).toBe(31_005);
    clock.advanceTo(10_000);
    expect(clock.now()).toBe(31_005);
  });
});
