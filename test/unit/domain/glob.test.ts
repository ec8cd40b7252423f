import fc from 'fast-check';
import { globMatch, matchesAny } from '../../../src/domain/glob.js';

/** The obvious dynamic program over (pattern prefix, text prefix): slow, but clearly right. */
function reference(pattern: string, text: string): boolean {
  const n = text.length;
  let row = new Array<boolean>(n + 1).fill(false);
  row[0] = true;
  for (const pc of pattern) {
    const next = new Array<boolean>(n + 1).fill(false);
    if (pc === '*') {
      next[0] = row[0]!;
      for (let j = 1; j <= n; j++) next[j] = row[j]! || next[j - 1]!;
    } else {
      for (let j = 1; j <= n; j++) next[j] = row[j - 1]! && text[j - 1] === pc;
    }
    row = next;
  }
  return row[n]!;
}

/** The RegExp the matcher replaced (same semantics for text without line breaks). */
function regexGlob(pattern: string, text: string): boolean {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${pattern.split('*').map(esc).join('.*')}$`).test(text);
}

describe('globMatch', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['', '', true],
    ['', 'a', false],
    ['prod', 'prod', true],
    ['prod', 'prod-eu', false],
    ['prod', 'pro', false],
    ['prod-*', 'prod-eu', true],
    ['prod-*', 'prod-', true],
    ['prod-*', 'prod', false],
    ['*-system', 'kube-system', true],
    ['*-system', 'kube-systems', false],
    ['kube-*', 'kube-system', true],
    ['k*e-s*m', 'kube-system', true],
    ['k*e-s*m', 'kube-systen', false],
    ['**', 'x', true],
    ['a**b', 'ab', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['*a*a*a*a*a*a*a*c', 'a'.repeat(60), false],
    ['*a*a*a*a*a*a*a*c', `${'a'.repeat(60)}c`, true],
    // Everything but `*` is literal: RegExp and path metacharacters match only themselves.
    ['a.c', 'abc', false],
    ['a.c', 'a.c', true],
    ['a?c', 'abc', false],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['^a$', '^a$', true],
    ['a+', 'aa', false],
    ['(a|b)', '(a|b)', true],
    ['\\d', '\\d', true],
    ['\\d', '1', false],
    // Case-sensitive, unit by unit, whole text.
    ['Prod', 'prod', false],
    ['*😀', 'x😀', true],
    ['constructor', 'constructor', true],
    ['__proto__', '__proto__', true],
  ])('globMatch(%j, %j) is %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('a star matches line breaks too (any run of characters)', () => {
    expect(globMatch('*', 'a\nb')).toBe(true);
    expect(globMatch('a*b', 'a\r\nb')).toBe(true);
  });

  it('agrees with the dynamic-programming reference on random small patterns and texts', () => {
    const unit = fc.constantFrom('a', 'b', '*', '.');
    fc.assert(
      fc.property(
        fc.string({ unit, maxLength: 10 }),
        fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 14 }),
        (pattern, text) => {
          expect(globMatch(pattern, text)).toBe(reference(pattern, text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('agrees with the RegExp it replaced, on any pattern and single-line text', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(fc.constant('*'), fc.string({ minLength: 1, maxLength: 1 })),
          maxLength: 8,
        }),
        fc.string({ maxLength: 12 }).map((s) => s.replace(/[\r\n\u2028\u2029]/g, '')),
        (pattern, text) => {
          expect(globMatch(pattern, text)).toBe(regexGlob(pattern, text));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('matches a text against its own pattern with runs replaced by stars', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.array(fc.nat({ max: 20 }), { maxLength: 4 }),
        (text, cuts) => {
          // Replace some slices of the text by `*`: the result must still match the text.
          let pattern = text;
          for (const c of cuts) {
            const at = c % (pattern.length + 1);
            pattern = `${pattern.slice(0, at)}*${pattern.slice(Math.min(pattern.length, at + (c % 3)))}`;
          }
          expect(globMatch(pattern, text)).toBe(reference(pattern, text));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('answers adversarial star patterns against 10,000 characters (no exponential backtracking)', () => {
    const long = 'a'.repeat(10_000);
    let answered = 0;
    for (let stars = 1; stars <= 12; stars++) {
      const pattern = `${'*a'.repeat(stars)}*c`; // *a*a*…*c: the RegExp version explodes on these
      expect(globMatch(pattern, long)).toBe(false);
      expect(globMatch(pattern, `${long}c`)).toBe(true);
      expect(globMatch(pattern, `${long}ca`)).toBe(false);
      expect(globMatch(pattern, `c${long}`)).toBe(false);
      expect(globMatch(`${'a*'.repeat(stars)}b`, long)).toBe(false);
      answered += 5;
    }
    // A long literal after a star: the O(pattern × text) worst case, still quick at this size.
    expect(globMatch(`*${'a'.repeat(50)}b`, long)).toBe(false);
    expect(globMatch(`*${'a'.repeat(50)}b`, `${long}b`)).toBe(true);
    expect(globMatch('*ab*ab*ab*ab*abc', 'ab'.repeat(5000))).toBe(false);
    answered += 3;
    expect(answered).toBe(63);
  });

  it('matchesAny: true when one pattern matches, false for none', () => {
    expect(matchesAny(['kube-*', 'istio-system'], 'istio-system')).toBe(true);
    expect(matchesAny(['kube-*', 'istio-system'], 'prod')).toBe(false);
    expect(matchesAny([], 'prod')).toBe(false);
  });
});
