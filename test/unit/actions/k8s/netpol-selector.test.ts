import { renderSelector, selectorMatches } from '../../../../src/actions/k8s/netpol.js';
import type { LabelSelector } from '../../../../src/actions/k8s/netpol-types.js';

const LABELS = { app: 'payments-api', tier: 'backend', quarantine: 'true' };

describe('selectorMatches', () => {
  it.each<[string, LabelSelector | undefined, boolean]>([
    ['absent selector matches everything', undefined, true],
    ['{} matches everything', {}, true],
    [
      'empty matchLabels and matchExpressions match everything',
      { matchLabels: {}, matchExpressions: [] },
      true,
    ],
    ['matchLabels all equal', { matchLabels: { app: 'payments-api', tier: 'backend' } }, true],
    ['matchLabels one differs', { matchLabels: { app: 'payments-api', tier: 'frontend' } }, false],
    ['matchLabels key absent', { matchLabels: { zone: 'a' } }, false],
    [
      'In: value listed',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend', 'backend'] }] },
      true,
    ],
    [
      'In: value not listed',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }] },
      false,
    ],
    ['In: key absent', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    [
      'NotIn: value listed',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }] },
      false,
    ],
    [
      'NotIn: value not listed',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['frontend'] }] },
      true,
    ],
    [
      'NotIn: key absent matches',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists: present', { matchExpressions: [{ key: 'quarantine', operator: 'Exists' }] }, true],
    ['Exists: absent', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist: present', { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] }, false],
    ['DoesNotExist: absent', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    [
      'labels and expressions must all hold',
      {
        matchLabels: { app: 'payments-api' },
        matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }],
      },
      false,
    ],
    [
      'unknown operator selects nothing',
      { matchExpressions: [{ key: 'tier', operator: 'Gt' as 'In', values: ['1'] }] },
      false,
    ],
  ])('%s', (_name, sel, expected) => {
    expect(selectorMatches(sel, LABELS)).toBe(expected);
  });

  it('a label named like an Object.prototype member is not found on a plain object', () => {
    expect(selectorMatches({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, LABELS)).toBe(
      false,
    );
    expect(
      selectorMatches({ matchExpressions: [{ key: 'toString', operator: 'DoesNotExist' }] }, LABELS),
    ).toBe(true);
  });
});

describe('renderSelector', () => {
  it('renders kubectl syntax for every operator, labels first', () => {
    expect(
      renderSelector({
        matchLabels: { app: 'orders-api', tier: 'backend' },
        matchExpressions: [
          { key: 'track', operator: 'In', values: ['a', 'b'] },
          { key: 'zone', operator: 'NotIn', values: ['x'] },
          { key: 'quarantine', operator: 'Exists' },
          { key: 'quarantine', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=orders-api,tier=backend,track in (a,b),zone notin (x),quarantine,!quarantine');
  });

  it('is empty for an empty or absent selector', () => {
    expect(renderSelector({})).toBe('');
    expect(renderSelector(undefined)).toBe('');
  });
});
