import type { ArtifactMeta } from '../domain/artifact.js';
import type { Incident } from '../domain/incident.js';
import type { SlackRateLimitMet } from '../domain/slack-rate-limit.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { LoadedPlaybook, Step, StepRole } from '../playbooks/schema.js';

// The narrow ports the Slack layer is given: a reader of incidents and the engine's commands. Every
// state change Slack causes is one of these commands, and each lands in the timeline.

export interface IncidentReader {
  get(id: string): Promise<Incident>;
  /** Newest first. */
  list(opts: { activeOnly?: boolean; limit: number }): Promise<Incident[]>;
  /** The incident whose thread is channel/ts (an index, not a scan). */
  byThread(channel: string, ts: string): Promise<Incident | undefined>;
  timeline(id: string): Promise<TimelineEvent[]>;
  playbookOf(incident: Incident): LoadedPlaybook | undefined;
  /** A playbook step or an ad-hoc step of the incident. */
  stepOf(incident: Incident, stepId: string): Step | undefined;
  /** The incident's step with this role, if its playbook has one. */
  stepFor(incident: Incident, role: StepRole): Step | undefined;
  /** The incident's artifacts (evidence, exports) in the order they were stored. */
  artifacts(id: string): Promise<ArtifactMeta[]>;
  /** One artifact with its bytes (checked against its sha256), for the upload to the thread. */
  artifact(id: string, name: string): Promise<{ artifact: ArtifactMeta; bytes: Buffer } | undefined>;
}

/** An artifact the presenter uploaded to the incident's thread. */
export interface Upload {
  name: string;
  size: number;
  sha256: string;
  /** Slack's file id. */
  fileId: string;
  channel: string;
  threadTs: string;
}

/** Who is asking, and the request it came with (its id keys what the request records). */
export interface Caller {
  actor: string;
  /** Slack's trigger id, event id … : the same request delivered twice records once. */
  requestId?: string;
}

/** A caller, or just the actor's id (a system caller with no request). */
export type By = Caller | string;

export function callerOf(by: By): Caller {
  return typeof by === 'string' ? { actor: by } : by;
}

export interface EngineCommands {
  acknowledge(id: string, by: By): Promise<Incident>;
  tick(id: string, stepId: string, itemId: string, by: By): Promise<Incident>;
  confirm(id: string, stepId: string, by: By): Promise<Incident>;
  decide(id: string, stepId: string, by: By, decision: 'approve' | 'deny'): Promise<Incident>;
  runStepNow(id: string, stepId: string, by: By): Promise<Incident>;
  requestRevert(id: string, stepId: string, by: By): Promise<Incident>;
  decideRevert(id: string, by: By, decision: 'approve' | 'deny'): Promise<Incident>;
  runAction(
    id: string,
    ref: { uses: string; with: Record<string, unknown>; title?: string },
    by: By,
  ): Promise<Incident>;
  note(id: string, by: By, text: string, opts?: { at?: number; source?: string }): Promise<void>;
  close(id: string, by: By, reason: string): Promise<Incident>;
  /** Reads that need the viewer role (refused and recorded otherwise). */
  view(id: string, by: By): Promise<Incident>;
  viewTimeline(id: string, by: By): Promise<{ incident: Incident; events: TimelineEvent[] }>;
  viewOpen(by: By, limit: number): Promise<Incident[]>;
  /** The presenter posted the incident's root message / a step's message. */
  attachThread(id: string, thread: { channel: string; ts: string }): Promise<Incident>;
  attachStepMessage(id: string, stepId: string, ts: string): Promise<Incident>;
  /**
   * The presenter uploaded an artifact to the thread: recorded once per artifact (`slack.uploaded`).
   * False when it was already recorded (another replica uploaded it first: delete the duplicate).
   */
  attachUpload(id: string, upload: Upload): Promise<boolean>;
  /**
   * A drill's injected Slack rate limit was met: a call answered 429, sent again after Retry-After and
   * accepted (`slack.posted`, details.complication). Once per method; false when already recorded.
   */
  recordSlackRateLimit(id: string, met: SlackRateLimitMet): Promise<boolean>;
}

/** A scenario a drill can be started from (playbooks/drills/*.yaml). */
export interface DrillScenario {
  id: string;
  title: string;
  description?: string;
}

/** Drills in Slack: start a scenario as a real (DRILL-marked, dry-run) incident thread. */
export interface DrillStarter {
  scenarios(): DrillScenario[];
  /**
   * Send the scenario's first wave through the real intake as a drill (its own fingerprint space);
   * later waves are queued in the store's schedule at their `after`. Responders only.
   */
  start(scenarioId: string, by: By): Promise<{ scenario: DrillScenario; incidents: string[] }>;
}
