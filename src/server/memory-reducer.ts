import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from 'pino';

// Why this exists: V8 collects its old generation when the heap nears its limit, not when a burst of
// work ends. After 1,000 incidents × 100 alerts the old space held 106 MB "used" of which 31 MB was
// live (a full collection kept 31); 10 s after the runs it queued had settled the process was still
// at 225-257 MiB resident (4 runs), and a pod's memory limit counts every one of those pages. So
// once the process has been quiet for a whole interval and the heap has grown well past what the
// last full collection kept, it collects once (a pause of tens of ms, when nothing is waiting) and
// the pages go back.

export interface MemoryReducerOptions {
  /** How often to look (default 5 s). */
  intervalMs?: number;
  /** Collect only when the heap grew this much past the last full collection's result (default 48 MiB). */
  growthBytes?: number;
  /** Collect only when the event loop was busy less than this share of the last interval (default 0.05). */
  quietBelow?: number;
}

/** One look: the heap now, what the last full collection left, how busy the loop was since. */
export interface MemorySample {
  heapUsed: number;
  baseline: number;
  loopUtilization: number;
}

const DEFAULTS = { intervalMs: 5_000, growthBytes: 48 * 2 ** 20, quietBelow: 0.05 };

/** Pure: collect after a burst (grown), but never during one (busy). */
export function shouldCollect(s: MemorySample, opts: MemoryReducerOptions = {}): boolean {
  const { growthBytes, quietBelow } = { ...DEFAULTS, ...opts };
  return s.heapUsed - s.baseline >= growthBytes && s.loopUtilization < quietBelow;
}

/**
 * V8's full collection as a function. `node --expose-gc` puts it on the global; otherwise the flag is
 * set now and a fresh context is made, which gets `gc` (jest's leak detector takes it the same way).
 * Setting it does not change how V8 collects by itself.
 */
export function fullCollection(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export interface MemoryReducer {
  /** How many full collections it ran. */
  readonly collections: number;
  stop(): void;
}

interface Ports {
  heapUsed: () => number;
  collect: () => void;
  /** Event-loop utilisation since the previous call, 0..1. */
  loopUtilization: () => number;
}

function systemPorts(): Ports {
  let last = performance.eventLoopUtilization();
  return {
    heapUsed: () => process.memoryUsage().heapUsed,
    collect: fullCollection(),
    loopUtilization: () => {
      const now = performance.eventLoopUtilization();
      const delta = performance.eventLoopUtilization(now, last);
      last = now;
      return delta.utilization;
    },
  };
}

/** Look every `intervalMs` (an unref'd timer: it never holds the process up) and collect when due. */
export function startMemoryReducer(
  log: Logger,
  opts: MemoryReducerOptions = {},
  ports: Ports = systemPorts(),
): MemoryReducer {
  const { intervalMs } = { ...DEFAULTS, ...opts };
  let baseline = ports.heapUsed();
  let collections = 0;
  const timer = setInterval(() => {
    const sample = { heapUsed: ports.heapUsed(), baseline, loopUtilization: ports.loopUtilization() };
    if (!shouldCollect(sample, opts)) return;
    const started = performance.now();
    ports.collect();
    baseline = ports.heapUsed();
    collections++;
    // The collection's own time is not the next interval's load.
    ports.loopUtilization();
    log.info(
      {
        heapBeforeMiB: Math.round(sample.heapUsed / 2 ** 20),
        heapAfterMiB: Math.round(baseline / 2 ** 20),
        pauseMs: Math.round(performance.now() - started),
      },
      'quiet after a burst: collected the heap',
    );
  }, intervalMs);
  timer.unref();
  return {
    get collections() {
      return collections;
    },
    stop: () => clearInterval(timer),
  };
}
