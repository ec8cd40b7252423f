import { z } from 'zod';
import { builtinActions } from '../../src/actions/builtin/index.js';
import { type ActionContext, type ActionDefinition, defineAction } from '../../src/actions/define.js';
import { ActionRegistry } from '../../src/actions/registry.js';
import { type AccessPolicy, allowAll } from '../../src/domain/access.js';
import { CodedError } from '../../src/domain/errors.js';
import type { Incident } from '../../src/domain/incident.js';
import { NamespacePolicy } from '../../src/domain/namespace-policy.js';
import { Engine, type EngineDeps } from '../../src/engine/engine.js';
import type { AlertRecorderDeps } from '../../src/incidents/record-alerts.js';
import { type IncidentObserver, Journal } from '../../src/journal/journal.js';
import type { Clock } from '../../src/observability/clock.js';
import { silentLogger } from '../../src/observability/logger.js';
import { parsePlaybook } from '../../src/playbooks/load.js';
import type { LoadedPlaybook } from '../../src/playbooks/schema.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/store.js';
import { anIncident } from './incident.js';

/** A clock tests move by hand. */
export function manualClock(
  start = Date.parse('2026-11-25T14:03:12.123Z'),
): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

/**
 * A destructive test action that records each real effect per idempotency key, the way a remote
 * system with idempotency keys would: applying twice with one key is still one effect.
 */
export function effectLedger() {
  const effects = new Map<string, number>();
  const calls: string[] = [];
  const failing = new Set<string>();
  const action = defineAction({
    id: 'test.mark',
    description: 'records an effect',
    params: z.strictObject({ verify: z.enum(['ok', 'incomplete']).default('ok') }),
    planData: z.strictObject({ key: z.string() }),
    outcomeData: z.strictObject({ key: z.string() }),
    example: {},
    rbac: [],
    destructive: true,
    needsCluster: false,
    async plan(ctx) {
      return { summary: `mark ${ctx.actionKey}`, changes: true, data: { key: ctx.idempotencyKey } };
    },
    async apply(ctx) {
      calls.push(ctx.idempotencyKey);
      if (failing.has(ctx.actionKey))
        throw new CodedError('action_failed', `${ctx.actionKey} refused by the test`);
      if (!ctx.dryRun) effects.set(ctx.idempotencyKey, (effects.get(ctx.idempotencyKey) ?? 0) + 1);
      return { status: 'applied', summary: `marked ${ctx.actionKey}`, data: { key: ctx.idempotencyKey } };
    },
    async verify(_ctx, outcome, params) {
      return {
        ok: params.verify === 'ok',
        line: `Verification: ${params.verify === 'ok' ? 'contained' : 'incomplete'}`,
        data: outcome.data,
      };
    },
    async revert(ctx) {
      effects.delete(ctx.idempotencyKey);
      return { status: 'applied', summary: `unmarked ${ctx.actionKey}`, data: {} };
    },
  });
  return { action: action as ActionDefinition, effects, calls, failing };
}

/**
 * A read-only test action that only runs `apply` (no params, no data): something happening at that
 * point of a step, e.g. another writer changing the cluster, or a log line from deep inside.
 */
export function sideAction(
  id: string,
  apply: (ctx: ActionContext) => void | Promise<void>,
  description = 'a test step of its own',
): ActionDefinition {
  return defineAction({
    id,
    description,
    params: z.strictObject({}),
    planData: z.strictObject({}),
    outcomeData: z.strictObject({}),
    example: {},
    rbac: [],
    destructive: false,
    needsCluster: false,
    async plan() {
      return { summary: 'nothing', changes: true, data: {} };
    },
    async apply(ctx) {
      await apply(ctx);
      return { status: 'applied', summary: 'done', data: {} };
    },
  }) as ActionDefinition;
}

export const testPlaybookYaml = `
id: test-playbook
title: Test playbook
mode: soft
steps:
  - id: triage
    title: Triage
    sla: 15m
    actions:
      - uses: triage.source-identity
      - uses: triage.contract-verdict
    checklist:
      - { id: looked, text: Someone looked }
  - id: contain
    title: Contain
    when: { verdict: [violation, no-contract] }
    sets_status: { success: contained, incomplete: containment_incomplete }
    actions:
      - { id: first, uses: test.mark }
      - { id: second, uses: test.mark }
  - id: approve
    title: Approved step
    approval: { from: approvers, count: 2 }
    actions:
      - { id: third, uses: test.mark }
  - id: close
    title: Close
    sets_status: { success: resolved }
    actions:
      - uses: note.add
        with: { text: done }
`;

/** A one-step hard-mode playbook (id and step `stepId`) that runs `uses` with `params`. */
export function oneStepPlaybook(stepId: string, uses: string, params: Record<string, unknown> = {}): string {
  return `
id: ${stepId}
title: One step
mode: hard
steps:
  - id: ${stepId}
    title: ${stepId}
    actions:
      - uses: ${uses}
        with: ${JSON.stringify(params)}
`;
}

export interface TestEngine {
  engine: Engine;
  store: Store;
  journal: Journal;
  ledger: ReturnType<typeof effectLedger>;
  playbook: LoadedPlaybook;
  clock: ReturnType<typeof manualClock>;
  open(over?: Partial<Incident>): Promise<Incident>;
  /** A new engine over the same store and ledger: what a restarted process would build. */
  restart(over?: Partial<EngineDeps>): Engine;
  /** The intake stage on the same store and journal (incidents of the test playbook). */
  recorder(over?: Partial<AlertRecorderDeps>): AlertRecorderDeps;
}

export function testEngine(
  opts: {
    yaml?: string;
    access?: AccessPolicy;
    store?: Store;
    deps?: Partial<EngineDeps>;
    /** Told about every event and incident change (the Slack presenter, in its tests). */
    observers?: IncidentObserver[];
    /** Registered next to the built-in actions and the test ledger's `test.mark`. */
    actions?: readonly ActionDefinition[];
    /** Incident ids are `<idPrefix>-<n>`; default `EGR-TEST`. */
    idPrefix?: string;
  } = {},
): TestEngine {
  const ledger = effectLedger();
  const registry = new ActionRegistry([...builtinActions, ledger.action, ...(opts.actions ?? [])]);
  const playbook = parsePlaybook(opts.yaml ?? testPlaybookYaml, 'test-playbook.yaml', registry);
  const clock = manualClock();
  const store = opts.store ?? createMemoryStore({ clock });
  const log = silentLogger();
  const journal = new Journal({ store, clock, log, observers: opts.observers ?? [] });
  const build = (over: Partial<EngineDeps> = {}) =>
    new Engine({
      store,
      journal,
      registry,
      playbooks: () => [playbook],
      contracts: () => [],
      cluster: undefined,
      clock,
      log,
      access: opts.access ?? allowAll,
      namespaces: NamespacePolicy.parse({}),
      lock: { ttlMs: 10_000, waitMs: 5_000 },
      ...opts.deps,
      ...over,
    });
  const engine = build();
  let n = 0;
  return {
    engine,
    store,
    journal,
    ledger,
    playbook,
    clock,
    async open(over = {}) {
      n += 1;
      const incident = anIncident({
        id: `${opts.idPrefix ?? 'EGR-TEST'}-${n}`,
        fingerprint: `fp-${n}-${Math.random()}`,
        playbook: { id: playbook.playbook.id, file: playbook.file },
        ...over,
      });
      return (await store.incidents.createOrGetByFingerprint(incident)).incident;
    },
    restart: build,
    recorder: (over = {}) => ({
      store,
      journal,
      clock,
      contracts: () => [],
      playbooks: () => [playbook],
      modes: {},
      retryWindowMs: 60_000,
      ...over,
    }),
  };
}
