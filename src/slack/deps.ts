import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { Store } from '../store/store.js';
import type { SlackPresenter } from './presenter.js';

/** What every listener gets: the engine (all state changes), the store (dedupe only), Slack output. */
export interface SlackDeps {
  engine: Engine;
  store: Store;
  presenter: SlackPresenter;
  client: WebClient;
  log: Logger;
  incidentChannel: string;
}

export const actorOf = (userId: string) => `slack:${userId}`;

/** The step that contains (sets `contained`), and the one that rotates, found from the playbook. */
export function containStepId(deps: SlackDeps, incidentId: string, playbookId: string): string | undefined {
  void incidentId;
  const pb = deps.engine.deps.playbooks().find((p) => p.playbook.id === playbookId);
  return pb?.playbook.steps.find((s) => s.sets_status?.success === 'contained')?.id;
}

export function rotateStepId(deps: SlackDeps, playbookId: string): string | undefined {
  const pb = deps.engine.deps.playbooks().find((p) => p.playbook.id === playbookId);
  return pb?.playbook.steps.find(
    (s) => s.id === 'rotate' || s.actions.some((a) => a.uses.startsWith('rotate.')),
  )?.id;
}
