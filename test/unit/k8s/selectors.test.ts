// The string form of label selectors, parsed back: for any LabelSelector, formatting it and parsing the
// string selects exactly the label sets the object does (the snapshot cluster answers list calls so).
import fc from 'fast-check';
import { formatLabelSelector, matchesLabelSelector, parseLabelSelector } from '../../../src/k8s/selectors.js';
import type { LabelSelector } from '../../../src/k8s/types.js';

const key = fc.constantFrom('app', 'tier', 'quarantine', 'example.com/team', 'version');
const value = fc.constantFrom('a', 'b', 'payments-api', 'true', 'v1.2');
const selector: fc.Arbitrary<LabelSelector> = fc.record({
  matchLabels: fc.dictionary(key, value, { maxKeys: 2 }),
  matchExpressions: fc.array(
    fc.oneof(
      fc.record({
        key,
        operator: fc.constantFrom('In' as const, 'NotIn' as const),
        values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ key, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
    ),
    { maxLength: 3 },
  ),
});
const labels = fc.dictionary(key, value, { maxKeys: 4 });

describe('parseLabelSelector', () => {
  it('selects what the LabelSelector it was formatted from selects', () => {
    fc.assert(
      fc.property(selector, fc.array(labels, { minLength: 1, maxLength: 8 }), (sel, sets) => {
        const parsed = parseLabelSelector(formatLabelSelector(sel));
        for (const l of sets) expect(matchesLabelSelector(parsed, l)).toBe(matchesLabelSelector(sel, l));
      }),
      { numRuns: 500 },
    );
  });

  it('reads every operator of the string form, spaces allowed', () => {
    expect(
      parseLabelSelector(' app = x , tier!=web, env in ( a, b ),k notin (c), canary, !legacy, z==1'),
    ).toEqual({
      matchExpressions: [
        { key: 'app', operator: 'In', values: ['x'] },
        { key: 'tier', operator: 'NotIn', values: ['web'] },
        { key: 'env', operator: 'In', values: ['a', 'b'] },
        { key: 'k', operator: 'NotIn', values: ['c'] },
        { key: 'canary', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'z', operator: 'In', values: ['1'] },
      ],
    });
    expect(parseLabelSelector('')).toEqual({});
  });

  it('refuses what the API server refuses, naming the term', () => {
    expect(() => parseLabelSelector('app=x,')).toThrow(`found '', expected: identifier in "app=x,"`);
    expect(() => parseLabelSelector('app in x')).toThrow('unable to parse requirement: "app in x"');
    expect(() => parseLabelSelector('-bad=x')).toThrow('invalid label key "-bad"');
    expect(() => parseLabelSelector('app=has space')).toThrow('unable to parse requirement');
    expect(() => parseLabelSelector('app=-x')).toThrow('invalid label value "-x"');
    expect(() => parseLabelSelector('replicas>3')).toThrow('unable to parse requirement');
  });
});
