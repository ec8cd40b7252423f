import { type Clock, systemClock } from '../observability/clock.js';

/**
 * The drill's time: real time, moved forward when a scenario's follow-up alert arrives `after` its
 * first (`later: [{ after: 30s }]`), so everything that happens after it (the stand-in people's
 * answers, containment, rotation) is stamped after it and the scorecard's times include the wait.
 * It never goes back. The CLI gives it to the store and the engine of a drill.
 */
export interface DrillClock extends Clock {
  /** Move to `ms` (epoch) unless the drill is already past it. */
  advanceTo(ms: number): void;
}

export function createDrillClock(base: Clock = systemClock): DrillClock {
  let offset = 0;
  const now = () => base.now() + offset;
  return {
    now,
    advanceTo(ms) {
      const current = now();
      if (ms > current) offset += ms - current;
    },
  };
}

export function isDrillClock(clock: Clock): clock is DrillClock {
  return typeof (clock as Partial<DrillClock>).advanceTo === 'function';
}
