// Composition root: the one place that picks concrete adapters and wires them together.

import { builtinActions } from './actions/builtin/index.js';
import type { ActionDefinition } from './actions/define.js';
import { ActionRegistry } from './actions/registry.js';
import { rotateWebhook } from './actions/rotate/webhook.js';
import type { Config } from './config/load.js';
import { loadContracts } from './contracts/load.js';
import { type AccessPolicy, accessFromLists, allowAll } from './domain/access.js';
import type { LoadedContract } from './domain/contract.js';
import type { CodedError } from './domain/errors.js';
import { Engine, type EngineObserver } from './engine/engine.js';
import type { Cluster } from './k8s/cluster.js';
import { type Clock, systemClock } from './observability/clock.js';
import type { Logger } from './observability/logger.js';
import { loadPlaybooks } from './playbooks/load.js';
import type { LoadedPlaybook } from './playbooks/schema.js';
import { createMemoryStore } from './store/memory.js';
import { createRedisStore } from './store/redis.js';
import type { Store } from './store/store.js';

/** Every action this build knows. */
export function createRegistry(extra: readonly ActionDefinition[] = []): ActionRegistry {
  return new ActionRegistry([...builtinActions, rotateWebhook as unknown as ActionDefinition, ...extra]);
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
  if (config.env.redisUrl) return createRedisStore({ url: config.env.redisUrl.reveal(), clock });
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
