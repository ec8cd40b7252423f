// Composition root: the one place that picks concrete adapters and wires them together.
import type { AddressInfo } from 'node:net';

import { builtinActions } from './actions/builtin/index.js';
import type { ActionDefinition } from './actions/define.js';
import { k8sEvidenceActions } from './actions/k8s/evidence/index.js';
import { k8sContainActions } from './actions/k8s/index.js';
import { ActionRegistry } from './actions/registry.js';
import { rotateActions } from './actions/rotate/index.js';
import { startGrantReconciler } from './breakglass/reconcile-loop.js';
import { Breakglass } from './breakglass/service.js';
import { drillClusterFrom, slackRateLimitFrom } from './cli/drill-complications.js';
import type { Config } from './config/load.js';
import { redisTarget } from './config/redis.js';
import { loadContracts } from './contracts/load.js';
import { type AccessPolicy, accessFromLists, allowAll } from './domain/access.js';
import type { LoadedContract } from './domain/contract.js';
import { CodedError } from './domain/errors.js';
import { LiveDrills } from './drills/live.js';
import { loadScenarios } from './drills/scenario.js';
import { Engine } from './engine/engine.js';
import type { EngineDeps } from './engine/state.js';
import type { ItemHandlers } from './engine/worker.js';
import { startWorker } from './engine/worker-loop.js';
import type { AlertRecorderDeps } from './incidents/record-alerts.js';
import { type IncidentObserver, Journal } from './journal/journal.js';
import type { Cluster } from './k8s/cluster.js';
import { observedCluster } from './k8s/observed-cluster.js';
import { type Clock, systemClock } from './observability/clock.js';
import { countEvent } from './observability/event-metrics.js';
import type { Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { loadPlaybooks } from './playbooks/load.js';
import type { LoadedPlaybook } from './playbooks/schema.js';
import { createHttpServer } from './server/http.js';
import { createSlackGuard } from './server/slack-guard.js';
import { expandUserGroups, type RoleLists } from './slack/access.js';
import type { SlackApp } from './slack/app.js';
import { unansweredRequests } from './slack/work-queue.js';
import { createMemoryStore } from './store/memory.js';
import { createRedisStore } from './store/redis.js';
import type { Store } from './store/store.js';

/** Every action this build knows. */
export function createRegistry(extra: readonly ActionDefinition[] = []): ActionRegistry {
  return new ActionRegistry([
    ...builtinActions,
    ...k8sContainActions,
    ...k8sEvidenceActions,
    ...rotateActions,
    ...extra,
  ]);
}

export interface Policy {
  playbooks: LoadedPlaybook[];
  contracts: LoadedContract[];
  errors: CodedError[];
}

/** Playbooks and contracts from the config's directories; errors are collected, not thrown. */
export async function loadPolicy(
  config: Pick<Config, 'playbooks' | 'contracts'>,
  registry: ActionRegistry,
): Promise<Policy> {
  const [pb, ct] = await Promise.all([
    loadPlaybooks(config.playbooks, registry),
    loadContracts(config.contracts),
  ]);
  return { playbooks: pb.playbooks, contracts: ct.contracts, errors: [...pb.errors, ...ct.errors] };
}

/** Redis when REDIS_URL or the config's redis: block names one; otherwise the embedded store, with a warning. */
export function createStore(config: Config, log: Logger, clock: Clock = systemClock): Store {
  const { waitReplicas, waitTimeout: waitTimeoutMs, commandTimeout: commandTimeoutMs } = config.redis;
  const target = redisTarget(config.redis, config.env);
  if (target) return createRedisStore({ target, clock, log, waitReplicas, waitTimeoutMs, commandTimeoutMs });
  log.warn(
    'neither REDIS_URL nor redis.sentinels/redis.cluster is set: using the embedded in-memory store; incidents do not survive a restart',
  );
  return createMemoryStore({ clock });
}

export interface EngineParts {
  config: Config;
  store: Store;
  registry: ActionRegistry;
  policy: Policy;
  cluster: Cluster | undefined;
  /** A drill incident's cluster under its scenario's complications (engine `drillCluster`). */
  drillCluster?: EngineDeps['drillCluster'];
  log: Logger;
  clock?: Clock;
  access?: AccessPolicy;
  /** Told about every event and incident change (the Slack presenter). */
  observers?: IncidentObserver[];
}

/** The engine, the journal it writes through, and the intake stage that opens incidents on the same journal. */
export interface Core {
  engine: Engine;
  journal: Journal;
  recorder: AlertRecorderDeps;
}

export function createCore(parts: EngineParts): Core {
  const slack = parts.config.slack;
  const clock = parts.clock ?? systemClock;
  const journal = new Journal({
    store: parts.store,
    clock,
    log: parts.log,
    observers: parts.observers ?? [],
  });
  const engine = new Engine({
    store: parts.store,
    journal,
    registry: parts.registry,
    playbooks: () => parts.policy.playbooks,
    contracts: () => parts.policy.contracts,
    cluster: parts.cluster,
    ...(parts.drillCluster ? { drillCluster: parts.drillCluster } : {}),
    clock,
    log: parts.log,
    access: parts.access ?? (slack ? accessFromLists(slack) : allowAll),
    namespaces: parts.config.namespaces,
    resumeAfterMs: parts.config.engine.resumeAfter,
    evidence: parts.config.evidence,
    lock: { ttlMs: parts.config.engine.lockTtl, waitMs: parts.config.engine.lockTtl + 5_000 },
  });
  const recorder: AlertRecorderDeps = {
    store: parts.store,
    journal,
    clock,
    contracts: () => parts.policy.contracts,
    playbooks: () => parts.policy.playbooks,
    modes: parts.config.modes,
    retryWindowMs: parts.config.intake.retryWindow,
    fqdnFingerprint: parts.config.intake.fingerprintFqdnBy,
  };
  return { engine, journal, recorder };
}

// ---------------------------------------------------------------- serve

export interface RunningServer {
  port: number;
  engine: Engine;
  store: Store;
  slack: SlackApp;
  breakglass: Breakglass;
  /** Do what the schedule says is due now (tests; the worker does it every second anyway). */
  work(): Promise<void>;
  /**
   * Start leaving: /readyz answers 503 from now on (so the Service stops sending traffic) while
   * everything else still works; `close` then stops.
   */
  drain(): void;
  close(): Promise<void>;
}

/** The worker's row for break-glass: each grant's schedule item runs through the service, which moves it on. */
export function grantItemHandlers(breakglass: Breakglass): ItemHandlers {
  return { grant: { run: (item) => breakglass.fire(item), keepsItem: true } };
}

/**
 * A cluster when one is configured (KUBECONFIG, or running in a pod); none otherwise (actions then
 * only plan). The Kubernetes client is loaded on first use: a drill without a cluster does not need
 * it, and it is most of the CLI's start-up time (bench/README.md).
 */
export async function createClusterIfConfigured(config: Config, log: Logger): Promise<Cluster | undefined> {
  const { kubeconfig, kubernetesServiceHost } = config.env;
  if (!kubeconfig && !kubernetesServiceHost) {
    log.warn('no cluster configured (not in a pod, KUBECONFIG unset): Kubernetes actions will only plan');
    return undefined;
  }
  const { createKubeCluster } = await import('./k8s/kube-cluster.js');
  return createKubeCluster({
    ...(kubeconfig ? { kubeconfigPath: kubeconfig } : { inCluster: true }),
    onRetry: (e) => log.warn({ retry: e }, 'kubernetes request retried'),
  });
}

/** Everything `serve` runs: store, engine, Slack app, HTTP server, the schedule reconciler. */
export async function startServer(
  config: Config,
  log: Logger,
  opts: { cluster?: Cluster; coalesceMs?: number; slackRetries?: number; workIntervalMs?: number } = {},
): Promise<RunningServer> {
  const missing = [
    ['SLACK_BOT_TOKEN', config.env.slackBotToken],
    ['SLACK_SIGNING_SECRET', config.env.slackSigningSecret],
    ['ALERT_WEBHOOK_TOKEN', config.env.alertWebhookToken],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  const issues = [
    ...missing.map((name) => ({
      path: String(name),
      message: 'required by serve: set it in the environment',
    })),
    ...(config.slack
      ? []
      : [
          {
            path: `${config.source}: slack`,
            message: 'required by serve: slack.incidentChannel, responders, approvers',
          },
        ]),
  ];
  if (issues.length > 0) throw new CodedError('config_invalid', 'cannot serve', { issues });
  const slackConfig = config.slack!;

  const registry = createRegistry();
  const policy = await loadPolicy(config, registry);
  if (policy.errors.length > 0) {
    throw new CodedError('playbook_invalid', 'playbooks or contracts have errors', {
      issues: policy.errors.map((e) => ({ path: 'playbooks/contracts', message: e.describe() })),
    });
  }
  const store = createStore(config, log);
  await store.ping().catch(async (err: unknown) => {
    await store.close().catch(() => undefined);
    throw new CodedError(
      'store_unavailable',
      `cannot start: the store does not answer (${(err as Error).message})`,
      {
        cause: err,
      },
    );
  });
  const metrics = createMetrics();
  const created = opts.cluster ?? (await createClusterIfConfigured(config, log));
  const cluster =
    created &&
    observedCluster(created, (verb, code) => metrics.inc('kubernetes_api_errors_total', { verb, code }));
  metrics.gaugeFrom('incidents', async () =>
    countBy(await store.incidents.list({ activeOnly: true }), (i) => i.status),
  );
  metrics.gaugeFrom('grants_live', async () =>
    countBy(await store.grants.list({ live: true }), (g) => g.status),
  );
  // Read live by the access policy; user groups (S…) are expanded into members below and refreshed.
  const roles: RoleLists = {
    responders: [...slackConfig.responders],
    approvers: [...slackConfig.approvers],
    viewers: [...slackConfig.viewers],
  };
  // Drills started from Slack: the scenarios as loaded at start (a bad one is logged and left out).
  const found = await loadScenarios(config.drills);
  for (const err of found.errors) log.warn({ err: err.describe() }, 'drill scenario not loaded');
  const { createSlackApp } = await import('./slack/app.js');
  const unanswered = unansweredRequests();
  const slack = await createSlackApp({
    botToken: config.env.slackBotToken!.reveal(),
    signingSecret: config.env.slackSigningSecret!.reveal(),
    ...(config.env.slackAppToken ? { appToken: config.env.slackAppToken.reveal() } : {}),
    ...(config.env.slackApiUrl ? { apiUrl: config.env.slackApiUrl } : {}),
    incidentChannel: slackConfig.incidentChannel,
    ...(slackConfig.drillChannel ? { drillChannel: slackConfig.drillChannel } : {}),
    responders: slackConfig.responders,
    log,
    onApiError: (method, error) => metrics.inc('slack_api_errors_total', { method, error }),
    workQueue: {
      concurrency: slackConfig.work.concurrency,
      maxQueued: slackConfig.work.queue,
      holdWhile: unanswered.any,
    },
    ...(opts.coalesceMs !== undefined ? { coalesceMs: opts.coalesceMs } : {}),
    ...(opts.slackRetries !== undefined ? { retries: opts.slackRetries } : {}),
    drillRateLimit: slackRateLimitFrom(() => found.scenarios),
    claimOnce: (key, ttlMs) => store.dedupe.claim(key, ttlMs),
  }).catch(async (err) => {
    await store.close().catch(() => undefined);
    throw err;
  });
  let drills: LiveDrills | undefined;
  const { engine, journal, recorder } = createCore({
    config,
    store,
    registry,
    policy,
    cluster,
    drillCluster: drillClusterFrom(() => found.scenarios),
    log,
    access: accessFromLists(roles),
    observers: [
      slack.presenter,
      { onEvent: (event, incident) => countEvent(metrics, event, incident) },
      // Drills started from Slack get their scorecard when they close (the drills are built below).
      { onEvent: (event, incident) => drills?.onEvent(event, incident) },
    ],
  });
  let wakeWorker = () => {};
  drills = new LiveDrills({
    recorder,
    engine,
    scenarios: () => found.scenarios,
    parse: {
      maxAlerts: config.intake.maxAlertsPerRequest,
      ...(config.intake.alertmanagerLabels ? { alertmanagerLabels: config.intake.alertmanagerLabels } : {}),
    },
    access: accessFromLists(roles),
    onRecorded: (results) => {
      if (results.some((r) => r.status === 'opened')) wakeWorker();
    },
    warn: (message, err) => log.warn({ err }, message),
  });
  // Break-glass: one service for Slack, the worker's grant row and the reconciler below.
  const breakglass = new Breakglass({
    store,
    journal,
    clock: systemClock,
    log,
    ...(cluster ? { cluster } : {}),
    config: config.breakglass,
    namespaces: config.namespaces,
    access: accessFromLists(roles),
  });
  slack.listen({
    reader: engine,
    commands: engine,
    drills,
    grants: { commands: breakglass, reader: breakglass },
    access: accessFromLists(roles),
  });
  const refreshRoles = () => expandUserGroups(slack.app.client, slackConfig, roles, log);
  await refreshRoles();
  const roleRefresher = setInterval(() => void refreshRoles(), 10 * 60_000);

  // Playbook runs start from stored state: recording an alert queues its incident's run in the same
  // step, and this worker (on every replica) takes what is due. Recording only wakes it up early.
  // Break-glass grants: each one's deadlines ride the same schedule (the worker's grant row), and the
  // reconciler catches whatever a dead process or a lost record left behind.
  const worker = startWorker(engine, log, opts.workIntervalMs ?? config.engine.workEvery, {
    ...grantItemHandlers(breakglass),
    'drill-wave': { run: (item) => drills.fireWave(item) },
  });
  const reconciler = startGrantReconciler(breakglass, log, config.breakglass.reconcileEvery);
  wakeWorker = () => worker.wake();
  let draining = false;
  const server = createHttpServer({
    alerts: {
      recorder,
      token: config.env.alertWebhookToken!.reveal(),
      parse: {
        maxAlerts: config.intake.maxAlertsPerRequest,
        ...(config.intake.alertmanagerLabels ? { alertmanagerLabels: config.intake.alertmanagerLabels } : {}),
      },
      log,
      storeTimeoutMs: config.intake.requestTimeout,
      now: () => systemClock.now(),
      ...(cluster
        ? {
            resolveWorkload: async (ns: string, pod: string) =>
              (await cluster.podOwnerWorkload(ns, pod))?.name,
          }
        : {}),
      onRecorded: (results) => {
        if (results.some((r) => r.status === 'opened')) worker.wake();
      },
    },
    store,
    clock: systemClock,
    log,
    metrics,
    ready: () => (draining ? 'shutting down' : undefined),
    ...(slack.http
      ? {
          slack: slack.http,
          onSlackRequest: unanswered.arrived,
          slackGuard: createSlackGuard({
            signingSecret: config.env.slackSigningSecret!.reveal(),
            claim: (key, ttlMs) => store.dedupe.claim(key, ttlMs),
            allowedResponseHosts: config.env.slackApiUrl ? [new URL(config.env.slackApiUrl).origin] : [],
            log,
          }),
        }
      : {}),
  });
  await new Promise<void>((resolve) => server.listen(config.env.port, resolve));
  await slack.start();
  const port = (server.address() as AddressInfo).port;
  log.info({ port, store: store.kind, cluster: cluster?.name ?? null }, 'egress-responder serving');
  return {
    port,
    engine,
    store,
    slack,
    breakglass,
    work: () => worker.runNow(),
    drain() {
      draining = true;
    },
    async close() {
      draining = true;
      clearInterval(roleRefresher);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive sockets would hold close() open until the client hangs up.
      server.closeIdleConnections();
      await closed;
      // Runs in flight finish (bounded); anything left is resumed by the next process from the store.
      await worker.stop(10_000);
      await reconciler.stop();
      await slack.stop();
      await store.close();
    },
  };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
