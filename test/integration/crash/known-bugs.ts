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

// None open. BUG-1 (a run leased behind another waited the whole 60 s lease), BUG-2 (an isolate
// interrupted after its PATCH recorded the isolated allow-policy as the original) and BUG-3 (a kill
// between "step completed" and the status change left the incident open) are fixed; their targeted
// cases in kill.test.ts run as plain tests.
export const KNOWN_BUGS: KnownBug[] = [];

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
  for (const line of result.failures) {
    const bug = bugs.find((b) => b.matches(line));
    if (bug) known.set(bug.id, [...(known.get(bug.id) ?? []), line]);
    else unknown.push(line);
  }
  return { unknown, known };
}
