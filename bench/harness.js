// Shared benchmark machinery: timing with process.hrtime.bigint, percentiles, machine facts and the
// printed tables. Figures are printed, never asserted.
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';

/** The machine the figures were taken on. */
export function machineFacts() {
  const list = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${release()} ${arch()}`,
    cpu: (list[0]?.model ?? 'unknown').trim(),
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    /** 1-minute load average: other work on the machine shows up here (and in the figures). */
    load1: Math.round(loadavg()[0] * 100) / 100,
  };
}

/** The value at quantile q (0..1) of an ascending array (nearest rank). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** Summary of latency samples in nanoseconds, reported in milliseconds. */
export function latencySummary(samplesNs) {
  const sorted = Float64Array.from(samplesNs).sort();
  const ms = (ns) => ns / 1e6;
  let sum = 0;
  for (const s of sorted) sum += s;
  return {
    samples: sorted.length,
    meanMs: ms(sum / Math.max(1, sorted.length)),
    p50Ms: ms(quantile(sorted, 0.5)),
    p95Ms: ms(quantile(sorted, 0.95)),
    p99Ms: ms(quantile(sorted, 0.99)),
    maxMs: ms(sorted[sorted.length - 1] ?? Number.NaN),
  };
}

function collectGarbage() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

/**
 * CPU time this process used over the wall time since `start`, in percent. Near 100 for a CPU-bound
 * case that had a core to itself; well below it means it waited (on I/O, or for a busy machine).
 */
function cpuPercent(cpu0, start) {
  const used = process.cpuUsage(cpu0);
  const wallUs = Number(process.hrtime.bigint() - start) / 1e3;
  return Math.round(((used.user + used.system) / wallUs) * 100);
}

const isThenable = (value) => value !== null && typeof value === 'object' && typeof value.then === 'function';

/**
 * Run `fn` `warmup` times, then up to `iterations` timed times (stopping early once `maxMs` of
 * timed work has passed). Each call is one sample; `unitsPerCall` says how many units (alerts,
 * verdicts, requests) one call handles, for the throughput figure. `fn(i)` may be sync or async.
 */
export async function measure({ warmup, iterations, maxMs = 8000, unitsPerCall = 1, fn }) {
  for (let i = 0; i < warmup; i++) {
    const r = fn(i);
    if (isThenable(r)) await r;
  }
  collectGarbage();
  const samples = [];
  const budget = BigInt(Math.round(maxMs * 1e6));
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let total = 0n;
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    const r = fn(warmup + i);
    if (isThenable(r)) await r;
    const dt = process.hrtime.bigint() - t0;
    samples.push(Number(dt));
    total += dt;
    if (process.hrtime.bigint() - start > budget) break;
  }
  const timedSeconds = Number(total) / 1e9;
  const calls = samples.length;
  return {
    cpuPct: cpuPercent(cpu0, start),
    calls,
    units: calls * unitsPerCall,
    seconds: timedSeconds,
    callsPerSec: calls / timedSeconds,
    unitsPerSec: (calls * unitsPerCall) / timedSeconds,
    latency: latencySummary(samples),
    truncated: calls < iterations,
    samplesNs: samples,
  };
}

/** Several measure() results (rounds of one case) as one: samples pooled, times and units added. */
export function combine(results) {
  const samples = results.flatMap((r) => r.samplesNs);
  const seconds = results.reduce((sum, r) => sum + r.seconds, 0);
  const units = results.reduce((sum, r) => sum + r.units, 0);
  const cpuSeconds = results.reduce((sum, r) => sum + (r.cpuPct / 100) * r.seconds, 0);
  return {
    cpuPct: Math.round((cpuSeconds / seconds) * 100),
    calls: samples.length,
    units,
    seconds,
    callsPerSec: samples.length / seconds,
    unitsPerSec: units / seconds,
    latency: latencySummary(samples),
    truncated: results.some((r) => r.truncated),
    samplesNs: samples,
  };
}

/**
 * `clients` loops, each awaiting `fn(i)` one after the other, until `total` calls are done. Latency is
 * per call; throughput is calls over wall time.
 */
export async function measureConcurrent({ warmup, total, clients, fn, maxMs = 8000 }) {
  let next = 0;
  const runLoops = async (count, record) => {
    const stopAt = process.hrtime.bigint() + BigInt(Math.round(maxMs * 1e6));
    const loop = async () => {
      for (;;) {
        const i = next++;
        if (i >= count || process.hrtime.bigint() > stopAt) return;
        const t0 = process.hrtime.bigint();
        await fn(i);
        record?.(Number(process.hrtime.bigint() - t0));
      }
    };
    await Promise.all(Array.from({ length: clients }, loop));
  };
  await runLoops(warmup);
  collectGarbage();
  next = 0;
  const samples = [];
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  await runLoops(total, (ns) => samples.push(ns));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    cpuPct: cpuPercent(cpu0, start),
    calls: samples.length,
    units: samples.length,
    seconds,
    callsPerSec: samples.length / seconds,
    unitsPerSec: samples.length / seconds,
    latency: latencySummary(samples),
    truncated: samples.length < total,
  };
}

// ---------------------------------------------------------------- printing

const fmtRate = (n) =>
  !Number.isFinite(n)
    ? '-'
    : n >= 100
      ? Math.round(n).toLocaleString('en-US')
      : n.toLocaleString('en-US', { maximumFractionDigits: 1 });

const fmtMs = (n) => {
  if (!Number.isFinite(n)) return '-';
  if (n >= 100) return n.toFixed(0);
  if (n >= 1) return n.toFixed(2);
  if (n >= 0.01) return n.toFixed(3);
  return n.toFixed(4);
};

export const format = { rate: fmtRate, ms: fmtMs };

/** A plain text table, columns padded; numbers right-aligned. */
export function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const numeric = headers.map((_, i) => rows.every((r) => /^[\d,.\-\s%x]+$|^-$/.test(String(r[i]))));
  const line = (r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

/**
 * One benchmark's result: `cases` are rows { case, unit, ...measure() result, note? }. Printed as a
 * table with the parameters used; returned as plain data for the summary.
 */
export function report(name, params, cases) {
  const rows = cases.map((c) => [
    c.case,
    c.skipped ? '-' : fmtRate(c.unitsPerSec),
    c.unit,
    c.skipped ? '-' : fmtRate(c.callsPerSec),
    c.skipped ? '-' : fmtMs(c.latency.p50Ms),
    c.skipped ? '-' : fmtMs(c.latency.p95Ms),
    c.skipped ? '-' : fmtMs(c.latency.p99Ms),
    c.skipped ? '-' : fmtMs(c.latency.maxMs),
    c.skipped ? '-' : String(c.calls),
    c.skipped ? '-' : String(c.cpuPct),
  ]);
  const machine = machineFacts();
  console.log(`\n## ${name}`);
  console.log(`parameters: ${JSON.stringify(params)}`);
  console.log(
    `machine: node ${machine.node}, ${machine.cpu}, ${machine.cores} cores; load average (1 min) at the end: ${machine.load1}`,
  );
  console.log(
    table(
      ['case', 'rate', 'unit', 'calls/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'samples', 'cpu%'],
      rows,
    ),
  );
  for (const c of cases) {
    if (c.skipped) console.log(`  ${c.case}: SKIPPED (${c.skipped})`);
    else if (c.note) console.log(`  ${c.case}: ${c.note}`);
    if (c.truncated) console.log(`  ${c.case}: stopped early at its time budget (${c.calls} samples)`);
  }
  // The raw samples stay here: the summary needs only the figures.
  const figures = cases.map(({ samplesNs: _samples, ...rest }) => rest);
  return { name, params, machine, cases: figures };
}
