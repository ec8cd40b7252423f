// The requirement: a drill against a snapshot reaches the verdicts the same playbook reaches
// against the fake API server seeded from that snapshot, through the real @kubernetes/client-node.
// Per snapshot: the scorecard, every action's plan, preview, outcome and verification, and the
// timeline, are the same either way (incident ids, times and sizes aside).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_SNAPSHOT } from '../../../src/cli/drill.js';
import { main } from '../../../src/cli/index.js';
import type { Incident } from '../../../src/domain/incident.js';
import { parseSnapshot } from '../../../src/k8s/snapshot-file.js';
import { seedFromSnapshot } from '../../builders/snapshot.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

const EXAMPLE = readFileSync(EXAMPLE_SNAPSHOT, 'utf8');
const TRAP = 'payments-egress-allow-dns-and-internal';

/** The example without payments-api's allow-policy: nothing to remedy. */
function withoutAllowPolicy(): string {
  const start = EXAMPLE.indexOf(
    `  - apiVersion: networking.k8s.io/v1\n    kind: NetworkPolicy\n    metadata:\n      name: ${TRAP}`,
  );
  const end = EXAMPLE.indexOf('  - apiVersion: networking.k8s.io/v1', start + 10);
  return EXAMPLE.slice(0, start) + EXAMPLE.slice(end);
}

/** The example in a mesh: Istio served (an AuthorizationPolicy in prod) and an egress gateway running. */
const WITH_MESH = `${EXAMPLE}
---
apiVersion: v1
kind: Namespace
metadata: { name: istio-system, labels: { kubernetes.io/metadata.name: istio-system } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: payments-allow-orders, namespace: prod }
spec:
  selector: { matchLabels: { app: payments-api } }
  action: ALLOW
  rules: [{ to: [{ operation: { ports: ["443"] } }] }]
---
apiVersion: v1
kind: Pod
metadata: { name: istio-egressgateway-6d8f-abcde, namespace: istio-system, labels: { istio: egressgateway, app: istio-egressgateway } }
spec: { serviceAccountName: istio-egressgateway, containers: [{ name: istio-proxy, image: istio/proxyv2:1.24 }] }
status: { phase: Running, podIP: 10.42.2.9 }
`;

interface Report {
  scorecard: Record<string, unknown>;
  timeline: { incident: Incident; events: { kind: string; summary: string }[] };
}

let kube: FakeKubeApi;
let dir: string;
beforeAll(async () => {
  kube = await startFakeKubeApi();
  dir = mkdtempSync(join(tmpdir(), 'snapshot-agreement-'));
});
afterAll(async () => {
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

async function drill(scenario: string, args: string[], env: NodeJS.ProcessEnv): Promise<Report> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['drill', scenario, '--format', 'json', ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env,
  });
  expect(err).toEqual([]);
  expect(code).toBe(0);
  return JSON.parse(out.join('\n')) as Report;
}

/** What a run decided, with what differs between any two runs (ids, times, sizes, digests of those) taken out. */
function decisions(r: Report) {
  const id = r.timeline.incident.id;
  const norm = (s: string | undefined) =>
    s
      ?.replaceAll(id, 'INCIDENT')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
      .replace(/\d+ bytes, sha256 [0-9a-f]{64}/g, 'N bytes, sha256 X')
      .replace(/\d+ events, sha256 [0-9a-f]+…/g, 'N events, sha256 X');
  const field = (v: unknown, k: string) =>
    v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  const { durationMs: _d, milestones: _m, timeToContainMs: _t, ...rest } = r.scorecard;
  const scorecard = JSON.parse(norm(JSON.stringify(rest)) ?? '{}') as Record<string, unknown>;
  return {
    scorecard,
    actions: r.timeline.incident.steps.flatMap((s) =>
      s.actions.map((a) => ({
        step: s.id,
        action: a.uses,
        status: a.status,
        dryRun: a.dryRun,
        plan: norm(field(a.plan, 'summary') as string | undefined),
        preview: norm(field(a.plan, 'preview') as string | undefined),
        outcome: norm((field(a.outcome, 'summary') as string | undefined) ?? a.reason),
        verification: norm(field(a.verification, 'line') as string | undefined),
      })),
    ),
    timeline: r.timeline.events.map((e) => `${e.kind}: ${norm(e.summary)}`),
  };
}

async function agree(name: string, text: string, scenario = 'exfil-unknown-fqdn') {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  kube.reset();
  seedFromSnapshot(kube, parseSnapshot(text, file, 'k8s_invalid'));
  const before = JSON.stringify(['Pod', 'NetworkPolicy', 'Deployment', 'Secret'].map((k) => kube.list(k)));
  const snapshot = decisions(await drill(scenario, ['--snapshot', file], {}));
  const cluster = decisions(await drill(scenario, ['--cluster'], { KUBECONFIG: kube.kubeconfig() }));
  expect(snapshot).toEqual(cluster);
  // The fake saw the drill as dry-runs only, and holds what it was seeded with.
  const writes = kube.requests.filter(
    (r) => r.method !== 'GET' && !r.path.includes('selfsubjectaccessreviews'),
  );
  expect(writes.filter((r) => r.query.dryRun !== 'All')).toEqual([]);
  expect(JSON.stringify(['Pod', 'NetworkPolicy', 'Deployment', 'Secret'].map((k) => kube.list(k)))).toBe(
    before,
  );
  return snapshot;
}

describe('snapshot mode agrees with the fake API server seeded from the same snapshot', () => {
  it('the example: the trap found, remedied, contained — the same verdicts both ways', async () => {
    const d = await agree('example', EXAMPLE);
    const verifications = d.actions
      .filter((a) => a.verification)
      .map((a) => `${a.action}: ${a.verification}`);
    expect(verifications).toContain(
      'k8s.deny-egress: Verification: contained — 3 pods isolated by quarantine-deny-egress (dry-run)',
    );
    expect(d.actions.find((a) => a.action === 'k8s.deny-egress')?.outcome).toContain(
      `isolated 1 allow-policy(ies) (${TRAP})`,
    );
    expect(d.scorecard).toMatchObject({ verdict: 'passed', containment: { state: 'contained-dry-run' } });
  });

  it('without the allow-policy: nothing to remedy, the same both ways', async () => {
    const d = await agree('no-allow', withoutAllowPolicy());
    expect(d.actions.find((a) => a.action === 'k8s.deny-egress')?.preview).toContain(
      '# allow-policies that would still let them out: none',
    );
  });

  it('in a mesh: the L7 block planned at the mesh root and the egress gateway, the same both ways', async () => {
    const d = await agree('mesh', WITH_MESH);
    const l7 = d.actions.find((a) => a.action === 'k8s.l7-deny');
    expect(l7?.status).not.toBe('skipped');
    expect(l7?.preview).toContain('istio-egressgateway');
  });

  it('a Falco alert from an orders-api pod: the same both ways', async () => {
    const d = await agree('falco', EXAMPLE, 'falco-c2-ip');
    expect(d.actions.find((a) => a.action === 'k8s.quarantine')?.preview).toContain(
      'orders-api-5c9f7d8b6d-q7x2m',
    );
  });
});
