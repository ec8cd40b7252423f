import type { FieldIssue } from '../../../src/domain/errors.js';
import { ExtraBag } from '../../../src/intake/extra-bag.js';
import { checkNamespace } from '../../../src/intake/field-checks.js';
import {
  isDnsLabel,
  isDnsSubdomain,
  isServiceName,
  NAMESPACE_MESSAGE,
} from '../../../src/intake/kube-names.js';
import { checkTime, epochToMs, parseRfc3339 } from '../../../src/intake/time-fields.js';
import { nestsDeeperThan, truncate } from '../../../src/intake/untrusted-values.js';

describe('RFC 3339 times', () => {
  it.each([
    ['2026-11-25T14:03:12Z', '2026-11-25T14:03:12.000Z'],
    ['2026-11-25T14:03:12.123456789Z', '2026-11-25T14:03:12.123Z'],
    ['2026-11-25t14:03:12.5z', '2026-11-25T14:03:12.500Z'],
    ['2026-11-25 14:03:12Z', '2026-11-25T14:03:12.000Z'],
    ['2026-11-25T15:33:12+01:30', '2026-11-25T14:03:12.000Z'],
    ['2026-11-25T00:03:12-14:00', '2026-11-25T14:03:12.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    const ms = parseRfc3339(text);
    expect(ms === undefined ? undefined : new Date(ms).toISOString()).toBe(iso);
  });

  it.each([
    '2026-11-25T14:03:12', // no zone: local time is ambiguous
    '2026-11-25',
    '2025-02-29T00:00:00Z', // not a leap year
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-11-25T24:00:00Z',
    '2026-11-25T23:60:00Z',
    '2026-11-25T23:59:60Z', // leap second: not representable
    '2026-11-25T14:03:12+24:00',
    '2026-11-25T14:03:12.1234567890Z', // more than nanoseconds
    'Tue, 25 Nov 2026 14:03:12 GMT',
    ' 2026-11-25T14:03:12Z',
  ])('rejects %s', (text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });
});

describe('epoch numbers', () => {
  it('reads seconds below 1e11 and milliseconds above', () => {
    expect(epochToMs(1795615392)).toBe(1795615392000);
    expect(epochToMs(1795615392.25)).toBe(1795615392250);
    expect(epochToMs(1795615392123)).toBe(1795615392123);
    expect(epochToMs(0)).toBe(0);
  });

  it('rejects negative, non-finite and beyond-year-9999 values', () => {
    expect(epochToMs(-1)).toBeUndefined();
    expect(epochToMs(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(epochToMs(Number.NaN)).toBeUndefined();
    expect(epochToMs(253402300800000)).toBeUndefined();
  });

  it('checkTime falls back to the receipt time only when the value is absent', () => {
    const issues: FieldIssue[] = [];
    expect(checkTime(undefined, 'ts', 0, issues, { allowNumber: true })).toBe('1970-01-01T00:00:00.000Z');
    expect(checkTime(null, 'ts', 0, issues, { allowNumber: true })).toBe('1970-01-01T00:00:00.000Z');
    expect(checkTime(1795615392, 'ts', 0, issues, { allowNumber: false })).toBeUndefined();
    expect(issues).toEqual([
      {
        path: 'ts',
        message: 'expected an RFC 3339 time with a zone (2026-11-25T14:03:12Z)',
        value: '1795615392',
      },
    ]);
  });
});

describe('small helpers', () => {
  it('truncate never splits a surrogate pair', () => {
    expect(truncate('ab😀cd', 3)).toBe('ab');
    expect(truncate('ab😀cd', 4)).toBe('ab😀');
    expect(truncate('abc', 10)).toBe('abc');
  });

  it('nestsDeeperThan counts arrays and objects, iteratively', () => {
    expect(nestsDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: [] }] }, 3)).toBe(true);
    expect(nestsDeeperThan('[[[[', 1)).toBe(false);
    expect(nestsDeeperThan(JSON.parse(`${'['.repeat(500_000)}${']'.repeat(500_000)}`))).toBe(true);
  });

  it('ExtraBag keeps scalars as strings, first key wins, at most 100 entries', () => {
    const bag = new ExtraBag();
    bag.add('n', 1.5);
    bag.add('b', false);
    bag.add('s', 'x');
    bag.add('s', 'second');
    bag.add('o', { a: 1 });
    bag.add('a', [1]);
    bag.add('z', null);
    bag.add('', 'empty key');
    bag.add('k'.repeat(257), 'long key');
    expect(bag.toRecord()).toEqual({ n: '1.5', b: 'false', s: 'x' });
    const full = new ExtraBag();
    for (let i = 0; i < 150; i++) full.add(`k${i}`, i);
    const record = full.toRecord();
    expect(Object.keys(record)).toHaveLength(100);
    expect(record.k99).toBe('99');
    expect(record).not.toHaveProperty('k100');
  });
});

describe('Kubernetes names', () => {
  it.each([
    ['a', true],
    ['0', true],
    ['prod', true],
    ['kube-system', true],
    ['constructor', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['', false],
    ['-a', false],
    ['a-', false],
    ['A', false],
    ['a.b', false],
    ['a_b', false],
    ['..', false],
    ['toString', false],
    ['__proto__', false],
    ['a\n', false],
  ])('isDnsLabel(%j) is %s', (name, ok) => {
    expect(isDnsLabel(name)).toBe(ok);
  });

  it.each([
    ['a.b', true],
    ['a-b.c-d', true],
    ['a'.repeat(253), true],
    ['a'.repeat(254), false],
    ['a..b', false],
    ['.a', false],
    ['a.', false],
    ['a.-b', false],
    ['a,b', false],
    ['a/b', false],
  ])('isDnsSubdomain(%j) is %s', (name, ok) => {
    expect(isDnsSubdomain(name)).toBe(ok);
  });

  it('a service name is a subdomain of at most 63 characters (a label value)', () => {
    expect(isServiceName('payments-api')).toBe(true);
    expect(isServiceName('api.v2')).toBe(true);
    expect(isServiceName('a'.repeat(63))).toBe(true);
    expect(isServiceName('a'.repeat(64))).toBe(false);
    expect(isServiceName('ledger-db,tier=database')).toBe(false);
  });

  it('checks long hostile names in linear time', () => {
    const started = performance.now();
    for (const c of ['a', '-', 'a-', 'a.', '.a']) {
      const long = c.repeat(100_000);
      isDnsLabel(long);
      isDnsSubdomain(`${long}!`, Number.POSITIVE_INFINITY);
    }
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('checkNamespace: the name rule after the string checks, with the value shown', () => {
    const issues: FieldIssue[] = [];
    expect(checkNamespace('constructor', 'ns', 'the namespace', issues, { required: true })).toBe(
      'constructor',
    );
    expect(checkNamespace('', 'ns', 'the namespace', issues, { required: false })).toBeUndefined();
    expect(checkNamespace('a/b', 'ns', 'the namespace', issues, { required: true })).toBeUndefined();
    expect(checkNamespace(undefined, 'ns', 'the namespace', issues, { required: true })).toBeUndefined();
    expect(issues).toEqual([
      { path: 'ns', message: NAMESPACE_MESSAGE, value: '"a/b"' },
      { path: 'ns', message: 'is required (the namespace)' },
    ]);
  });
});
