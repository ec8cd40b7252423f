import { k8sContainActions } from '../../src/actions/k8s/index.js';
import { Breakglass } from '../../src/breakglass/service.js';
import type { BreakglassDeps } from '../../src/breakglass/settings.js';
import { BreakglassConfig } from '../../src/config/schema.js';
import type { AccessPolicy } from '../../src/domain/access.js';
import type { Grant } from '../../src/domain/grant.js';
import type { Incident } from '../../src/domain/incident.js';
import { NamespacePolicy } from '../../src/domain/namespace-policy.js';
import { grantItemHandlers } from '../../src/main.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { Store } from '../../src/store/store.js';
import type { FakeKubeApi } from '../fakes/kube-api/index.js';
import { seedAdditiveTrap, trapCluster } from './additive-trap.js';
import { type TestEngine, testEngine } from './engine.js';

// Break-glass over real parts: the engine with the real containment actions and a Kubernetes client
// on the fake API server, a store (memory unless given), the manual clock, and as many Breakglass
// instances (replicas, restarts) over them as a test wants.

/** Quarantine, then deny-all with the isolate remedy: the seed's pods contained, as the default playbook does. */
export const CONTAIN_YAML = `
id: contain-test
title: Containment for break-glass
mode: hard
steps:
  - id: contain
    title: Contain
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - uses: k8s.quarantine
      - uses: k8s.deny-egress
        with: { remedy: isolate }
`;

export const A = { requester: 'slack:U0AAA', approver: 'slack:U0CCC', approver2: 'slack:U0DDD' } as const;

/** Responders U0AAA and U0BBB; approvers U0CCC and U0DDD, and U0AAA is an approver too (to try self-approval). */
export const roles: AccessPolicy = {
  has(actor, role) {
    const id = actor.replace(/^slack:/, '');
    if (role === 'responder') return ['U0AAA', 'U0BBB'].includes(id);
    if (role === 'approver') return ['U0CCC', 'U0DDD', 'U0AAA'].includes(id);
    return true;
  },
};

export interface BreakglassHarness extends TestEngine {
  fake: FakeKubeApi | undefined;
  bg: Breakglass;
  /** Another instance over the same store and cluster: a second replica, or the process after a restart. */
  replica(over?: Partial<BreakglassDeps>): Breakglass;
  /** Open an incident of the contain playbook and (with a cluster) run containment on the seed. */
  contained(over?: Partial<Incident>): Promise<Incident>;
  /** The worker's pass with the composition root's grant row, at the clock's now. */
  work(bg?: Breakglass): ReturnType<TestEngine['engine']['work']>;
  timeline(incidentId: string): Promise<string[]>;
  kinds(incidentId: string): Promise<string[]>;
}

export function breakglassHarness(
  opts: {
    fake?: FakeKubeApi;
    store?: Store;
    config?: Record<string, unknown>;
    access?: AccessPolicy;
    seed?: boolean;
  } = {},
): BreakglassHarness {
  const { fake } = opts;
  if (fake && (opts.seed ?? true)) seedAdditiveTrap(fake);
  const t = testEngine({
    yaml: CONTAIN_YAML,
    actions: k8sContainActions,
    ...(opts.store ? { store: opts.store } : {}),
    deps: fake ? { cluster: trapCluster(fake) } : {},
  });
  const config = BreakglassConfig.parse(opts.config ?? {});
  const replica = (over: Partial<BreakglassDeps> = {}) =>
    new Breakglass({
      store: t.store,
      journal: t.journal,
      clock: t.clock,
      log: silentLogger(),
      ...(fake ? { cluster: trapCluster(fake) } : {}),
      config,
      namespaces: NamespacePolicy.parse({}),
      access: opts.access ?? roles,
      ...over,
    });
  const bg = replica();
  return {
    ...t,
    fake,
    bg,
    replica,
    async contained(over = {}) {
      const inc = await t.open({ mode: 'hard', ...over });
      return fake ? t.engine.advance(inc.id) : inc;
    },
    work: (which = bg) => t.engine.work(t.clock.now(), grantItemHandlers(which)),
    timeline: async (id) => (await t.store.timeline.read(id)).map((e) => e.summary),
    kinds: async (id) =>
      (await t.store.timeline.read(id)).filter((e) => e.kind.startsWith('grant.')).map((e) => e.kind),
  };
}

/** The request the issue describes: the quarantined pods may reach one forensics address on 443. */
export function forensicsRequest(incidentId: string, over: Record<string, unknown> = {}) {
  return {
    incidentId,
    spec: {
      kind: 'egress-exception',
      namespace: 'prod',
      source: { kind: 'quarantined' },
      destination: { kind: 'cidr', cidr: '203.0.113.7/32' },
      ports: [{ port: 443 }],
    },
    durationMs: 3_600_000,
    reason: 'copy the memory dump to the forensics bucket',
    ticket: 'SEC-1234',
    ...over,
  };
}

export const writesOf = (fake: FakeKubeApi) =>
  fake.requests.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));

export const policyOf = (fake: FakeKubeApi, g: Grant) =>
  fake.get('NetworkPolicy', 'prod', `breakglass-${g.id}`);
