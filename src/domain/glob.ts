/**
 * `*` matches any run of characters (none included); everything else is literal; the whole text must
 * match. For namespace and name patterns.
 *
 * Linear in practice and O(pattern × text) at worst: the classic two-pointer wildcard match. On a
 * mismatch it backtracks only to the most recent `*` (letting that star swallow one more character),
 * never to earlier ones: whatever an earlier star could have matched, the later star can match too,
 * so no combination of stars is ever tried twice. (A RegExp of `.*` groups backtracks exponentially:
 * `*a*a*a*a*a*a*a*c` against 60 characters took seconds.)
 */
export function globMatch(pattern: string, text: string): boolean {
  const STAR = 42; // '*'
  let p = 0; // next pattern position
  let t = 0; // next text position
  let star = -1; // position of the last `*` seen in the pattern
  let resume = 0; // text position that `*` is currently matched up to
  while (t < text.length) {
    const c = p < pattern.length ? pattern.charCodeAt(p) : -1;
    if (c === STAR) {
      star = p++;
      resume = t; // the star matches nothing so far
    } else if (c !== -1 && c === text.charCodeAt(t)) {
      p++;
      t++;
    } else if (star !== -1) {
      p = star + 1; // the last star swallows one more character
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

export function matchesAny(patterns: readonly string[], text: string): boolean {
  return patterns.some((p) => globMatch(p, text));
}
