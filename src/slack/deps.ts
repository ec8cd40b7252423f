import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { GrantCommands, GrantReader } from '../breakglass/ports.js';
import type { AccessPolicy } from '../domain/access.js';
import { CodedError, publicMessage } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import type { Caller, DrillStarter, EngineCommands, IncidentReader } from '../engine/ports.js';
import type { Step, StepRole } from '../playbooks/schema.js';
import type { ViewSeal } from './breakglass/seal.js';
import type { SlackPresenter } from './presenter.js';
import { BUSY_TEXT, type WorkQueue } from './work-queue.js';

/** Break-glass, as Slack is given it: the service's commands and reads (breakglass/ports.ts). */
export interface GrantPorts {
  commands: GrantCommands;
  reader: GrantReader;
}

/** What every listener gets: a reader of incidents and the engine's commands (every state change), and Slack output. */
export interface SlackDeps {
  reader: IncidentReader;
  commands: EngineCommands;
  presenter: SlackPresenter;
  client: WebClient;
  log: Logger;
  incidentChannel: string;
  /** Absent where break-glass is not wired (the commands then say so). */
  grants?: GrantPorts;
  /** Who holds which role: only to decide which buttons a list shows (the service decides again on the click). */
  access?: AccessPolicy;
  /** Absent where drills are not wired (the command then says so). */
  drills?: DrillStarter;
  /** Seals modal private_metadata (who opened it, for what). */
  seal: ViewSeal;
  /** Where the work after an ack runs (bounded; `afterAck`). */
  work: WorkQueue;
}

/** The break-glass ports, or a clear refusal where they are not wired. */
export function grantsOf(deps: Pick<SlackDeps, 'grants'>): GrantPorts {
  if (!deps.grants) throw new CodedError('request_refused', 'break-glass is not set up in this deployment');
  return deps.grants;
}

/**
 * Run what a request asks for after its ack, in the work queue's turn. When the queue is full it never
 * runs, and the person is told so (ephemerally) and asked to retry.
 */
export async function afterAck(
  deps: Pick<SlackDeps, 'work' | 'log'>,
  tell: (text: string) => Promise<unknown>,
  work: () => Promise<void>,
): Promise<void> {
  if (deps.work.offer(work)) return;
  deps.log.warn(
    { ...deps.work.size },
    'slack: busy: a request was acked and shed, its sender asked to retry',
  );
  await tell(BUSY_TEXT).catch(() => undefined);
}

export const actorOf = (userId: string) => `slack:${userId}`;

/** A Slack user and the request they came with (so a retried delivery records once). */
export function callerOf(userId: string, requestId?: string): Caller {
  return { actor: actorOf(userId), ...(requestId ? { requestId } : {}) };
}

const roleNames: Record<StepRole, string> = {
  triage: 'triage',
  contain: 'containment',
  rotate: 'rotation',
  handoff: 'hand-off',
  cleanup: 'clean-up',
  close: 'closing',
};

/** The incident's step with `role`; refuses clearly when its playbook has none. */
export function stepWithRole(deps: SlackDeps, incident: Incident, role: StepRole): Step {
  const step = deps.reader.stepFor(incident, role);
  if (!step) {
    throw new CodedError(
      'command_invalid',
      `playbook ${incident.playbook.id} has no ${roleNames[role]} step (no step with role: ${role})`,
    );
  }
  return step;
}

/** The one way any error becomes words in Slack: user-safe messages as they are, the rest logged. */
export function slackReply(
  deps: Pick<SlackDeps, 'log'>,
  err: unknown,
  context: Record<string, unknown> = {},
): string {
  const message = publicMessage(
    err,
    typeof context.incident === 'string' ? `incident ${context.incident}` : undefined,
  );
  if (err instanceof CodedError && err.userSafe) return message;
  deps.log.error({ err, ...context }, 'slack request failed');
  return message;
}
