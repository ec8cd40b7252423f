/** Edit distance (insert, delete, substitute, and swap of two neighbours, each costing 1). */
export function editDistance(a: string, b: string): number {
  // d[i][j]: distance between a[0..i) and b[0..j); rows kept whole for the transposition case.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known name nearest to `given`, when it is near enough to be a typo: at most a third of the
 * longer name's letters wrong (`drlil` → drill, `serv` → serve), never a guess at something unrelated.
 * Ties go to the first name in `known`'s order, so the answer is stable.
 */
export function nearest(given: string, known: readonly string[]): string | undefined {
  // A hostile argument may be megabytes long: nothing that long is a typo of a command name.
  if (given.length > 64) return undefined;
  const lower = given.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(lower, name);
    if (distance <= Math.max(1, Math.floor(Math.max(lower.length, name.length) / 3)))
      if (!best || distance < best.distance) best = { name, distance };
  }
  return best?.name;
}
