import { formatDuration, parseDuration } from '../../../src/domain/duration.js';
import { canTransition } from '../../../src/domain/incident.js';
import {
  assertNamespaceAllowed,
  NamespacePolicy,
  namespaceAllowed,
} from '../../../src/domain/namespace-policy.js';

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['250ms', 250],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '15', '15x', '1h 30m', '0s', 'm15'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it('formats offsets as hh:mm:ss.mmm', () => {
    expect(formatDuration(3_661_077)).toBe('01:01:01.077');
    expect(formatDuration(-1500)).toBe('-00:00:01.500');
  });
});

describe('status transitions', () => {
  it('closed is final; release goes back to acknowledged', () => {
    expect(canTransition('closed', 'open')).toBe(false);
    expect(canTransition('contained', 'acknowledged')).toBe(true);
    expect(canTransition('resolved', 'contained')).toBe(false);
  });
});

describe('namespace policy', () => {
  const policy = NamespacePolicy.parse({});
  it('denies the control plane by default and allows the rest', () => {
    expect(namespaceAllowed(policy, 'kube-system')).toBe(false);
    expect(namespaceAllowed(policy, 'prod')).toBe(true);
  });
  it('says why a namespace is refused', () => {
    expect(() => assertNamespaceAllowed(NamespacePolicy.parse({ allow: ['prod-*'] }), 'staging')).toThrow(
      'Refusing to act in namespace "staging": it is not in the allow list (prod-*). Change namespaces.allow/deny in the config to permit it.',
    );
  });
});
