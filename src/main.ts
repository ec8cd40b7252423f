// Composition root: the one place that picks concrete adapters and wires them together.
import type { AddressInfo } from 'node:net';

import { builtinActions } from './actions/builtin/index.js';
import type { ActionDefinition } from './actions/define.js';
import { k8sContainActions } from './actions/k8s/index.js';
import { ActionRegistry } from './actions/registry.js';
import { rotateActions } from './actions/rotate/index.js';
import type { Config } from './config/load.js';
import { loadContracts } from './contracts/load.js';
import { type AccessPolicy, accessFromLists, allowAll } from './domain/access.js';
import type { LoadedContract } from './domain/contract.js';
import { CodedError } from './domain/errors.js';
import { Engine, type EngineObserver } from './engine/engine.js';
import type { Cluster } from './k8s/cluster.js';
import { type Clock, systemClock } from './observability/clock.js';
import type { Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { loadPlaybooks } from './playbooks/load.js';
import type { LoadedPlaybook } from './playbooks/schema.js';
import { createHttpServer } from './server/http.js';
import { expandUserGroups, type RoleLists } from './slack/access.js';
import type { SlackApp } from './slack/app.js';
import { createMemoryStore } from './store/memory.js';
import { createRedisStore } from './store/redis.js';
import type { Store } from './store/store.js';

/** Every action this build knows. */
export function createRegistry(extra: readonly ActionDefinition[] = []): ActionRegistry {
  return new ActionRegistry([...builtinActions, ...k8sContainActions, ...rotateActions, ...extra]);
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

/** Redis when REDIS_URL is set; otherwise the embedded store, with a warning that state is not durable. */
export function createStore(config: Config, log: Logger, clock: Clock = systemClock): Store {
  if (config.env.redisUrl) return createRedisStore({ url: config.env.redisUrl.reveal(), clock, log });
  log.warn('REDIS_URL is not set: using the embedded in-memory store; incidents do not survive a restart');
  return createMemoryStore({ clock });
}

export interface EngineParts {
  config: Config;
  store: Store;
  registry: ActionRegistry;
  policy: Policy;
  cluster: Cluster | undefined;
  log: Logger;
  clock?: Clock;
  access?: AccessPolicy;
  observers?: EngineObserver[];
}

export function createEngine(parts: EngineParts): Engine {
  const slack = parts.config.slack;
  return new Engine({
    store: parts.store,
    registry: parts.registry,
    playbooks: () => parts.policy.playbooks,
    contracts: () => parts.policy.contracts,
    cluster: parts.cluster,
    clock: parts.clock ?? systemClock,
    log: parts.log,
    access: parts.access ?? (slack ? accessFromLists(slack) : allowAll),
    namespaces: parts.config.namespaces,
    observers: parts.observers ?? [],
  });
}

// ---------------------------------------------------------------- serve

export interface RunningServer {
  port: number;
  engine: Engine;
  store: Store;
  slack: SlackApp;
  close(): Promise<void>;
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
  opts: { cluster?: Cluster; coalesceMs?: number; slackRetries?: number } = {},
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
  await store.ping();
  const cluster = opts.cluster ?? (await createClusterIfConfigured(config, log));
  // Read live by the access policy; user groups (S…) are expanded into members below and refreshed.
  const roles: RoleLists = { responders: [...slackConfig.responders], approvers: [...slackConfig.approvers] };
  const engine = createEngine({
    config,
    store,
    registry,
    policy,
    cluster,
    log,
    access: accessFromLists(roles),
  });
  const { createSlackApp } = await import('./slack/app.js');
  const slack = await createSlackApp({
    botToken: config.env.slackBotToken!.reveal(),
    signingSecret: config.env.slackSigningSecret!.reveal(),
    ...(config.env.slackAppToken ? { appToken: config.env.slackAppToken.reveal() } : {}),
    ...(config.env.slackApiUrl ? { apiUrl: config.env.slackApiUrl } : {}),
    incidentChannel: slackConfig.incidentChannel,
    engine,
    store,
    log,
    ...(opts.coalesceMs !== undefined ? { coalesceMs: opts.coalesceMs } : {}),
    ...(opts.slackRetries !== undefined ? { retries: opts.slackRetries } : {}),
  }).catch(async (err) => {
    await store.close().catch(() => undefined);
    throw err;
  });
  engine.deps.observers?.push(slack.presenter);
  const refreshRoles = () => expandUserGroups(slack.app.client, slackConfig, roles, log);
  await refreshRoles();
  const roleRefresher = setInterval(() => void refreshRoles(), 10 * 60_000);

  // Playbook runs started by alerts continue after the 202; shutdown waits for them (bounded).
  const inFlight = new Set<Promise<unknown>>();
  const advance = (id: string) => {
    const run = engine.advance(id).catch((err) => log.error({ err, incident: id }, 'playbook run failed'));
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run));
  };
  const server = createHttpServer({
    alerts: {
      engine,
      token: config.env.alertWebhookToken!.reveal(),
      parse: {
        maxAlerts: config.intake.maxAlertsPerRequest,
        ...(config.intake.alertmanagerLabels ? { alertmanagerLabels: config.intake.alertmanagerLabels } : {}),
      },
      ingest: { modes: config.modes, retryWindowMs: config.intake.retryWindow },
      log,
      storeTimeoutMs: 2000,
      ...(cluster
        ? {
            resolveWorkload: async (ns: string, pod: string) =>
              (await cluster.podOwnerWorkload(ns, pod))?.name,
          }
        : {}),
      onRecorded: (results) => {
        for (const r of results) if (r.status === 'opened' && r.id) advance(r.id);
      },
    },
    store,
    clock: systemClock,
    log,
    metrics: createMetrics(),
    ...(slack.http ? { slack: slack.http } : {}),
  });
  await new Promise<void>((resolve) => server.listen(config.env.port, resolve));
  await slack.start();
  // Things due at a time (SLA reminders) fire whatever happened to the process that scheduled them.
  const reconciler = setInterval(() => {
    engine.fireDue().catch((err) => log.warn({ err }, 'schedule reconciler failed'));
  }, 15_000);
  const port = (server.address() as AddressInfo).port;
  log.info({ port, store: store.kind, cluster: cluster?.name ?? null }, 'egress-responder serving');
  return {
    port,
    engine,
    store,
    slack,
    async close() {
      clearInterval(reconciler);
      clearInterval(roleRefresher);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((r) => setTimeout(r, 10_000).unref()),
      ]);
      await slack.stop();
      await store.close();
    },
  };
}
