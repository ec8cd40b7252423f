import { CodedError, type FieldIssue } from '../../../src/domain/errors.js';
import { A, breakglassHarness, forensicsRequest, writesOf } from '../../builders/breakglass.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

// Whatever a modal or a CLI sends, a request is refused before anything is stored or sent to the
// cluster, with the field, the value and what was expected.

let fake: FakeKubeApi;
let h: ReturnType<typeof breakglassHarness>;
let incidentId: string;
beforeAll(async () => {
  fake = await startFakeKubeApi();
  h = breakglassHarness({ fake });
  incidentId = (await h.contained()).id;
});
afterAll(() => fake.close());

const base = () => forensicsRequest(incidentId);
const withSpec = (spec: Record<string, unknown>) => ({ ...base(), spec: { ...base().spec, ...spec } });

async function issuesOf(input: unknown): Promise<FieldIssue[]> {
  const before = writesOf(fake).length;
  const err = await h.bg.request(input as never, A.requester).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CodedError);
  expect(writesOf(fake).length).toBe(before);
  return (err as CodedError).issues;
}

afterEach(async () => {
  // Nothing hostile was ever stored.
  expect(await h.bg.list({ limit: 100 })).toEqual([]);
});

describe('hostile break-glass requests', () => {
  it('namespace ".." (and other non-names)', async () => {
    for (const ns of ['..', '../kube-system', 'Prod', '', 'a'.repeat(64)]) {
      expect(await issuesOf(withSpec({ namespace: ns }))).toEqual([
        expect.objectContaining({
          path: 'spec.namespace',
          message: 'expected a Kubernetes namespace name (DNS-1123 label)',
        }),
      ]);
    }
  });

  it("the quarantined pods of another namespace than the incident's", async () => {
    expect(await issuesOf(withSpec({ namespace: 'staging' }))).toEqual([
      {
        path: 'spec.namespace',
        message: `expected prod: the quarantined pods of ${incidentId} are in prod`,
        value: '"staging"',
      },
    ]);
  });

  it('"constructor" and "__proto__" as names and label keys change nothing they should not', async () => {
    // As a label key it is a valid Kubernetes key: the request goes through validation and is judged
    // on the pods it selects (none here).
    const err = await h.bg
      .request(
        withSpec({ source: { kind: 'selector', podSelector: { constructor: 'x' } } }) as never,
        A.requester,
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'request_refused',
      message: expect.stringContaining('no running pods match constructor=x'),
    });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    // An own __proto__ key (as JSON.parse makes it) would be skipped silently and widen the selector: refused.
    const proto = JSON.parse('{"kind":"selector","podSelector":{"__proto__":"x","app":"web"}}');
    expect(await issuesOf(withSpec({ source: proto }))).toEqual([
      {
        path: 'spec.source.podSelector.__proto__',
        message: 'not a Kubernetes label key or a field of a request',
      },
    ]);
    // As an incident id or a grant id: simply not found.
    await expect(
      h.bg.request({ ...base(), incidentId: 'constructor' } as never, A.requester),
    ).rejects.toMatchObject({
      code: 'incident_not_found',
    });
    await expect(h.bg.get('constructor')).rejects.toMatchObject({ code: 'grant_not_found' });
    await expect(h.bg.approve('__proto__', A.approver)).rejects.toMatchObject({ code: 'grant_not_found' });
  });

  it('a huge reason is refused with its length, not echoed whole', async () => {
    const [issue] = await issuesOf({ ...base(), reason: 'x'.repeat(1_000_000) });
    expect(issue).toMatchObject({ path: 'reason', message: 'expected at most 2000 characters' });
    expect(issue!.value!.length).toBeLessThan(120);
    expect(issue!.value).toContain('1000002 chars');
    expect(await issuesOf({ ...base(), reason: '   ' })).toEqual([
      expect.objectContaining({ path: 'reason', message: 'a reason is required' }),
    ]);
  });

  it('an unknown kind, unknown fields, and a destination of the wrong shape', async () => {
    expect(await issuesOf({ ...base(), spec: { ...base().spec, kind: 'root-shell' } })).toEqual([
      expect.objectContaining({ path: 'spec.kind', value: '"root-shell"' }),
    ]);
    expect(await issuesOf(withSpec({ sourceSelector: { app: 'x' } }))).toEqual([
      { path: 'spec.sourceSelector', message: 'unknown field (check the spelling)' },
    ]);
    expect(await issuesOf(withSpec({ destination: { kind: 'cidr', cidr: '0.0.0.0/33' } }))).toEqual([
      expect.objectContaining({ path: 'spec.destination.cidr', value: '"0.0.0.0/33"' }),
    ]);
    expect(await issuesOf(withSpec({ source: { kind: 'selector', podSelector: {} } }))).toEqual([
      expect.objectContaining({
        path: 'spec.source.podSelector',
        message:
          'expected at least one label: an empty selector would open the path for every pod of the namespace',
      }),
    ]);
  });

  it('ports out of range, too many ports, and an unknown protocol', async () => {
    for (const port of [0, 65536, -1, 1.5, '443']) {
      const issues = await issuesOf(withSpec({ ports: [{ port }] }));
      expect(issues.map((i) => i.path)).toEqual(['spec.ports[0].port']);
    }
    expect(
      (await issuesOf(withSpec({ ports: [{ port: 443, protocol: 'ICMP' }] }))).map((i) => i.path),
    ).toEqual(['spec.ports[0].protocol']);
    expect((await issuesOf(withSpec({ ports: [] }))).map((i) => i.path)).toEqual(['spec.ports']);
    const many = Array.from({ length: 9 }, (_, i) => ({ port: 1000 + i }));
    expect((await issuesOf(withSpec({ ports: many }))).map((i) => i.path)).toEqual(['spec.ports']);
  });

  it('durations: zero, negative, not a number, and over the maximum for the kind', async () => {
    for (const durationMs of [0, -5, Number.NaN, '1h', 1.5]) {
      expect((await issuesOf({ ...base(), durationMs })).map((i) => i.path)).toEqual(['durationMs']);
    }
    expect(await issuesOf({ ...base(), durationMs: 4 * 3_600_000 + 1 })).toEqual([
      {
        path: 'durationMs',
        message: 'expected at most 4h (breakglass.maxDuration.egress-exception)',
        value: '14400001 (4h)',
      },
    ]);
  });

  it('every problem at once, each with its field', async () => {
    const issues = await issuesOf({
      incidentId,
      spec: { kind: 'egress-exception', namespace: '..' },
      durationMs: 0,
      reason: '',
    });
    expect(issues.map((i) => i.path).sort()).toEqual(
      ['durationMs', 'reason', 'spec.destination', 'spec.namespace', 'spec.ports', 'spec.source'].sort(),
    );
  });
});
