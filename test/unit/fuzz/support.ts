// Shared arbitraries and the one assertion every fuzz suite makes: a parser or loader either returns,
// or throws a CodedError with an expected code whose message or issues say precisely what was wrong.
import fc from 'fast-check';
import { parse as parseYamlText, stringify as stringifyYaml } from 'yaml';
import { CodedError, type ErrorCode } from '../../../src/domain/errors.js';

/** Runs per property: enough to find shallow bugs on every CI run, small enough to keep the suite fast. */
export const RUNS = 300;

/** Keys and names that collide with Object.prototype or paths, or are otherwise awkward. */
export const NASTY_KEYS = [
  'constructor',
  '__proto__',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'prototype',
  '..',
  '.',
  '/',
  '',
  ' ',
  'then',
  'length',
] as const;

/** Unicode that has fooled renderers and validators: bidi controls, zero-width, combining, surrogates. */
const TRICKY_UNICODE = [
  '\u202e', // RIGHT-TO-LEFT OVERRIDE
  '\u202d',
  '\u200f', // RIGHT-TO-LEFT MARK
  '\u2066', // LEFT-TO-RIGHT ISOLATE
  '\u2069',
  '\u200b', // ZERO WIDTH SPACE
  '\u200d', // ZERO WIDTH JOINER
  '\ufeff', // BOM
  '\u0301', // combining acute
  '\u0000',
  '\u2028', // LINE SEPARATOR
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '😀',
  'é',
  'İ', // lower-cases to two code points
  'ß',
  'K', // KELVIN SIGN: lower-cases to ASCII k
];

const trickyUnit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...TRICKY_UNICODE) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

/** Strings worth feeding to any name field. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NASTY_KEYS),
  fc.constantFrom(
    'ledger-db,tier=database',
    'app in (a,b)',
    'a/b',
    '-x',
    'x-',
    'Prod',
    'a..b',
    '<!channel>',
    `\${jndi:ldap://x}`,
    '\n',
    '\t',
    'null',
    'undefined',
    'NaN',
    '0',
    '-1',
    '1e400',
    '<NA>',
  ),
  fc.string({ unit: trickyUnit, maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  // A long name: past every length limit (63, 253, 1024, 2000) without slowing the suite.
  fc
    .tuple(fc.constantFrom('a', 'é', '😀', '-', '.'), fc.constantFrom(64, 254, 1025, 2001, 70_000))
    .map(([c, n]) => c.repeat(n)),
);

/** JSON values nested deeper than the intake's limit (64). */
const tooDeep = fc.integer({ min: 60, max: 80 }).map((depth) => {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
});

/** Any value a JSON body can carry, plus values that are awkward for a particular field. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(0, -0, -1, 65535, 65536, 1e21, 2 ** 53, 0.5, 1e11, 253402300800000),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { '': null }) },
  { weight: 1, arbitrary: tooDeep },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...NASTY_KEYS), fc.jsonValue({ maxDepth: 1 })) },
);

/** Own-property write: `__proto__` becomes a plain key, as JSON.parse would make it. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy made of plain data (JSON round trip keeps own `__proto__` keys own). */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export type Path = ReadonlyArray<string | number>;

/** Every path to a value inside a JSON-like tree (objects and arrays), the root excluded. */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [];
  const out: Path[] = [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  for (const [k, v] of entries) {
    const p = [...prefix, k];
    out.push(p, ...pathsOf(v, p));
  }
  return out;
}

export type Mutation =
  | { op: 'set'; path: Path; value: unknown }
  | { op: 'delete'; path: Path }
  | { op: 'add'; path: Path; key: string; value: unknown };

/** Apply one mutation to a copy of `doc`; a path that no longer exists leaves it unchanged. */
export function applyMutation<T>(doc: T, m: Mutation): T {
  const root = clone(doc) as unknown;
  const parentPath = m.op === 'add' ? m.path : m.path.slice(0, -1);
  let parent: unknown = root;
  for (const k of parentPath) {
    if (typeof parent !== 'object' || parent === null) return root as T;
    parent = (parent as Record<string | number, unknown>)[k];
  }
  if (typeof parent !== 'object' || parent === null) return root as T;
  const bag = parent as Record<string, unknown>;
  if (m.op === 'add') {
    if (Array.isArray(bag)) bag.push(m.value);
    else setOwn(bag, m.key, m.value);
    return root as T;
  }
  const last = m.path[m.path.length - 1]!;
  if (m.op === 'delete') {
    if (Array.isArray(bag) && typeof last === 'number') bag.splice(last, 1);
    else delete bag[String(last)];
  } else if (Array.isArray(bag) && typeof last === 'number') {
    bag[last] = m.value;
  } else {
    setOwn(bag, String(last), m.value);
  }
  return root as T;
}

/** One mutation of `doc`: a value replaced, a field removed, or a (nasty) key added somewhere. */
export function mutationOf(doc: unknown, values: fc.Arbitrary<unknown> = nastyValue): fc.Arbitrary<Mutation> {
  const paths = pathsOf(doc);
  const containers: Path[] = [
    [],
    ...paths.filter((p) => {
      const v = valueAt(doc, p);
      return typeof v === 'object' && v !== null;
    }),
  ];
  const key = fc.oneof(fc.constantFrom(...NASTY_KEYS), fc.string({ maxLength: 12 }));
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant('set' as const),
        path: fc.constantFrom(...paths),
        value: values,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...paths) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('add' as const),
        path: fc.constantFrom(...containers),
        key,
        value: values,
      }),
    },
  );
}

export function valueAt(doc: unknown, path: Path): unknown {
  let cur = doc;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = Object.hasOwn(cur, k) ? (cur as Record<string | number, unknown>)[k] : undefined;
  }
  return cur;
}

/** Several mutations in a row (1–3), for values that are wrong in more than one place. */
export function mutatedDoc<T>(doc: T, values?: fc.Arbitrary<unknown>): fc.Arbitrary<T> {
  return fc
    .array(mutationOf(doc, values), { minLength: 1, maxLength: 3 })
    .map((ms) => ms.reduce((d, m) => applyMutation(d, m), doc));
}

// ---------------------------------------------------------------------------------------------
// Text mutations (for YAML files)

const yamlAlphabet = fc.constantFrom(
  ...'abcxyz019 :-_.,{}[]&*!|>#\'"?%@`<=\n\n\n\t\\'.split(''),
  '  ',
  '    ',
  '<<',
  '---',
  '...',
  '!!str',
  '!!binary',
  '!!js/function',
  '~',
  'null',
  'true',
  '0x1F',
  '1e400',
  '.inf',
  '\u202e',
  '\ufeff',
  '__proto__',
  'constructor',
);

/** Text with YAML's punctuation, indentation and tags in it: mostly invalid, sometimes a document. */
export const yamlishText: fc.Arbitrary<string> = fc.string({ unit: yamlAlphabet, maxLength: 80 });

/** A textual edit of a file: drop, duplicate, re-indent or cut a line, or splice in junk. */
export function editedText(text: string): fc.Arbitrary<string> {
  const lines = text.split('\n');
  const at = fc.nat({ max: Math.max(0, lines.length - 1) });
  const edit = fc.oneof(
    at.map((i) => lines.filter((_, j) => j !== i)),
    at.map((i) => [...lines.slice(0, i + 1), lines[i] ?? '', ...lines.slice(i + 1)]),
    fc
      .tuple(at, fc.constantFrom('', ' ', '  ', '\t', '    '))
      .map(([i, pad]) => lines.map((l, j) => (j === i ? pad + l.trimStart() : l))),
    fc
      .tuple(at, fc.nat(), yamlishText)
      .map(([i, cut, junk]) =>
        lines.map((l, j) =>
          j === i ? l.slice(0, cut % (l.length + 1)) + junk + l.slice(cut % (l.length + 1)) : l,
        ),
      ),
    fc.tuple(at, yamlishText).map(([i, junk]) => [...lines.slice(0, i), junk, ...lines.slice(i)]),
  );
  return fc.array(edit, { minLength: 1, maxLength: 2 }).map((edits) => edits.at(-1)!.join('\n'));
}

/** A YAML file mutated as data (a field changed, removed or added), re-serialised. */
export function mutatedYaml(text: string): fc.Arbitrary<string> {
  const data = parseYamlText(text) as unknown;
  const values = fc.oneof(
    nastyValue,
    fc.constantFrom(
      '15m',
      '0s',
      '1h30m',
      '99999999999999999999d',
      `${'9'.repeat(400)}d`,
      'soft',
      'hard',
      'k8s.quarantine',
    ),
  );
  return mutatedDoc(data, values).map((d) => stringifyYaml(d));
}

/** Any of the above for one shipped file. */
export function yamlInputs(text: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: mutatedYaml(text) },
    { weight: 3, arbitrary: editedText(text) },
    { weight: 1, arbitrary: yamlishText },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  );
}

// ---------------------------------------------------------------------------------------------
// The assertion

const CRASH_TEXT =
  /TypeError|ReferenceError|RangeError|SyntaxError:|is not a function|Cannot read prop|undefined is not|\[object Object\]|\n\s+at /;

/**
 * Run `fn`; when it throws, the error must be a CodedError with one of `codes`, safe to show a user,
 * whose message or issues name what was wrong (no stack trace, no TypeError text, no `[object Object]`).
 * Returns the result, or undefined when it threw.
 */
export function returnsOrRejectsPrecisely<T>(fn: () => T, codes: readonly ErrorCode[]): T | undefined {
  let result: T;
  try {
    result = fn();
  } catch (err) {
    assertPreciseError(err, codes);
    return undefined;
  }
  return result;
}

export function assertPreciseError(err: unknown, codes: readonly ErrorCode[]): asserts err is CodedError {
  if (!(err instanceof CodedError)) {
    throw new Error(
      `threw a non-CodedError: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
  }
  if (!codes.includes(err.code)) {
    throw new Error(`threw CodedError(${err.code}), expected one of ${codes.join(', ')}: ${err.describe()}`, {
      cause: err,
    });
  }
  if (!err.userSafe) throw new Error(`threw a CodedError that is not user-safe: ${err.describe()}`);
  const text = err.describe();
  if (CRASH_TEXT.test(text)) throw new Error(`the error reads like a crash: ${text}`);
  if (err.message.trim() === '') throw new Error('the error has an empty message');
  for (const issue of err.issues) {
    if (typeof issue.path !== 'string' || typeof issue.message !== 'string' || issue.message.trim() === '') {
      throw new Error(`an issue without a path or message: ${JSON.stringify(issue)}`);
    }
  }
  // Names a field: an issue with a path, or (no issues) a message that says what it saw or wanted.
  const named =
    err.issues.some((i) => i.path !== '') ||
    /: |expected|got|empty|missing|must|not |unknown|invalid|required/i.test(err.message);
  if (!named) throw new Error(`the error names no field: ${text}`);
}

/**
 * fast-check parameters for every property: a fixed run count (FUZZ_RUNS=20000 for a long local
 * hunt), and FUZZ_SEED to replay a failure fast-check reported.
 */
export function params(runs = RUNS): { numRuns: number; seed?: number } {
  const env = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const seed = env('FUZZ_SEED');
  return { numRuns: env('FUZZ_RUNS') ?? runs, ...(seed === undefined ? {} : { seed }) };
}
