import type { KillPoint, RunResult } from './harness.js';

// Product bugs the kill suite found and that are not fixed yet. Each has: how to tell a run hit it
// (so that a seeded run that ran into it is reported under its name instead of failing for a known
// reason), and, where a kill point always triggers it, how to tell from the seed (those seeds are
// skipped, by name, in kill.test.ts). When a bug is fixed, delete its entry: its targeted case in
// kill.test.ts becomes a plain test and every seeded run is checked for it again.

export interface KnownBug {
  id: string;
  title: string;
  /** Failure lines of a run that are this bug. */
  matches: (failure: string) => boolean;
  /** A kill point that always runs into it. */
  triggeredBy?: (kill: KillPoint) => boolean;
}

export const KNOWN_BUGS: KnownBug[] = [
  {
    // Engine.work leases every due advance item (up to 20) for max(resumeAfter, 60 s) and runs them
    // one after another; only a started run's item is brought back to resumeAfter (Timers.watch).
    // The harness puts such items back at resumeAfter (Slot#knownBugs) and notes it as BUG-1, so
    // the rest of the run is still checked; the targeted case in kill.test.ts runs without that.
    id: 'BUG-1',
    title: 'a run queued behind another when its process dies waits the whole 60 s lease, not resumeAfter',
    matches: (f) => f.startsWith('BUG-1:'),
  },
  {
    // isolate.apply (src/actions/k8s/contain/remedy-isolate.ts) reads the allow-policy again when it
    // applies and records that as the original; after a crash between the PATCH and the outcome,
    // the resumed apply reads the already isolated policy, so release would "restore" the isolation.
    id: 'BUG-2',
    title: 'an isolate interrupted after its PATCH records the isolated allow-policy as the original',
    matches: (f) => f.includes("the allow-policy's recorded original is not the one seeded"),
    // Incidents run one at a time, four cluster writes each: the 4th, 8th, 12th is the allow-policy's.
    triggeredBy: (k) => k.kind === 'kube' && k.phase === 'unanswered' && k.at % 4 === 0,
  },
  {
    // StepRunner#complete stores the step as completed, then removes the SLA item, then sets the
    // status (setStatus: event, then the incident). A run resumed after a kill in between finds
    // the step settled and never calls #complete again: the status stays open for good (and when
    // the kill fell between the event and the incident, the timeline says "open → contained").
    // Runs that show it: stuck, nothing queued, contain completed, status open.
    id: 'BUG-3',
    title: 'a kill between "step completed" and the status change leaves the incident open for good',
    matches: (f) =>
      /lost "status\.changed"|: status open, not contained|stuck with nothing queued|not settled after the restart/.test(
        f,
      ),
  },
];

export interface Classified {
  /** Failures no known bug explains: these fail the run. */
  unknown: string[];
  /** Known bug id → its failure lines in this run. */
  known: Map<string, string[]>;
}

/** Sort a run's failures (and its notes of worked-around bugs) into known bugs and the rest. */
export function classify(result: RunResult, bugs: readonly KnownBug[] = KNOWN_BUGS): Classified {
  const known = new Map<string, string[]>();
  const unknown: string[] = [];
  const lines = [...result.knownBugs, ...result.failures];
  // BUG-3's lines are only BUG-3 when the run shows its mark: stuck open with the contain step
  // completed (no "steps" line), with the status change's event lost or recorded for nothing.
  const bug3 =
    result.failures.some((f) => f.includes('stuck with nothing queued')) &&
    result.failures.some((f) => f.endsWith(': status open, not contained')) &&
    !result.failures.some((f) => f.includes(': steps {'));
  for (const line of lines) {
    const bug = bugs.find((b) => b.matches(line) && (b.id !== 'BUG-3' || bug3));
    if (bug) known.set(bug.id, [...(known.get(bug.id) ?? []), line]);
    else unknown.push(line);
  }
  return { unknown, known };
}
