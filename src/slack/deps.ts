import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { Playbook } from '../playbooks/schema.js';
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

type StepDef = Playbook['steps'][number];

function findStep(deps: SlackDeps, playbookId: string, test: (s: StepDef) => boolean): string | undefined {
  const pb = deps.engine.deps.playbooks().find((p) => p.playbook.id === playbookId);
  return pb?.playbook.steps.find(test)?.id;
}

/** The containment step: the one that sets `contained` when it succeeds. */
export const containStepId = (deps: SlackDeps, playbookId: string) =>
  findStep(deps, playbookId, (s) => s.sets_status?.success === 'contained');

/** The rotation step: named `rotate`, or the one that runs rotation hooks. */
export const rotateStepId = (deps: SlackDeps, playbookId: string) =>
  findStep(deps, playbookId, (s) => s.id === 'rotate' || s.actions.some((a) => a.uses.startsWith('rotate.')));
