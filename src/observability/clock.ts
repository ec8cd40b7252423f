/** Time, injectable: tests and drills drive it; everything else reads it through this. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** RFC 3339 UTC with milliseconds: 2026-11-25T14:03:12.123Z. */
export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}
