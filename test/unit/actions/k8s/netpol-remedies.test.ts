import { createHash } from 'node:crypto';
import {
  analyzeEgress,
  canonicalJson,
  canonicalSpecSha256,
  denyAllEgressPolicy,
  isolatePatch,
  type NetworkPolicy,
  verificationLine,
} from '../../../../src/actions/k8s/netpol.js';

const ALLOW: NetworkPolicy = {
  metadata: { name: 'payments-egress-allow-dns-and-internal', namespace: 'prod', resourceVersion: '41' },
  spec: {
    podSelector: { matchLabels: { app: 'payments-api' } },
    policyTypes: ['Egress'],
    egress: [
      {
        to: [{ podSelector: { matchLabels: { app: 'orders-api' } } }],
        ports: [{ protocol: 'TCP', port: 443 }],
      },
    ],
  },
};

describe('isolatePatch', () => {
  it('adds `<key> DoesNotExist` to the existing selector', () => {
    expect(isolatePatch(ALLOW, 'quarantine')).toEqual({
      podSelector: {
        matchLabels: { app: 'payments-api' },
        matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }],
      },
    });
  });

  it('keeps existing expressions (a merge patch replaces the list) and does not touch the original', () => {
    const withExpr: NetworkPolicy = {
      ...ALLOW,
      spec: {
        ...ALLOW.spec,
        podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] },
      },
    };
    const patch = isolatePatch(withExpr, 'quarantine');
    expect(patch).toEqual({
      podSelector: {
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['backend'] },
          { key: 'quarantine', operator: 'DoesNotExist' },
        ],
      },
    });
    expect(withExpr.spec.podSelector).toEqual({
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }],
    });
    patch.podSelector.matchExpressions![0]!.values!.push('mutated');
    expect(withExpr.spec.podSelector!.matchExpressions![0]!.values).toEqual(['backend']);
  });

  it('is idempotent: a second patch adds nothing', () => {
    const once: NetworkPolicy = { ...ALLOW, spec: { ...ALLOW.spec, ...isolatePatch(ALLOW, 'quarantine') } };
    expect(isolatePatch(once, 'quarantine')).toEqual(isolatePatch(ALLOW, 'quarantine'));
    expect(isolatePatch(once, 'quarantine').podSelector.matchExpressions).toHaveLength(1);
  });

  it('an absent podSelector becomes a selector of every unquarantined pod', () => {
    const all: NetworkPolicy = {
      metadata: { name: 'all', namespace: 'prod' },
      spec: { policyTypes: ['Egress'] },
    };
    expect(isolatePatch(all, 'quarantine')).toEqual({
      podSelector: { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] },
    });
  });
});

describe('denyAllEgressPolicy', () => {
  const annotations = { 'egress-responder.io/incident': 'INC-7' };
  const deny = denyAllEgressPolicy({
    name: 'quarantine-deny-egress',
    namespace: 'prod',
    quarantineKey: 'quarantine',
    quarantineValue: 'true',
    annotations,
  });

  it('has the documented shape', () => {
    expect(deny).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'quarantine-deny-egress',
        namespace: 'prod',
        labels: { 'app.kubernetes.io/managed-by': 'egress-responder' },
        annotations: { 'egress-responder.io/incident': 'INC-7' },
      },
      spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Egress'], egress: [] },
    });
    expect(deny.metadata.annotations).not.toBe(annotations);
  });

  it('contains a quarantined pod on its own', () => {
    const a = analyzeEgress([{ name: 'p-1', namespace: 'prod', labels: { quarantine: 'true' } }], [deny]);
    expect(verificationLine(a)).toBe('Verification: contained — 1 pod isolated by quarantine-deny-egress');
  });
});

describe('canonicalSpecSha256', () => {
  const spec = {
    podSelector: { matchLabels: { quarantine: 'true' } },
    policyTypes: ['Egress' as const],
    egress: [],
  };
  const CANONICAL =
    '{"egress":[],"podSelector":{"matchLabels":{"quarantine":"true"}},"policyTypes":["Egress"]}';

  it('hashes the canonical JSON of the spec', () => {
    expect(canonicalJson(spec)).toBe(CANONICAL);
    const expected = createHash('sha256').update(CANONICAL).digest('hex');
    expect(canonicalSpecSha256({ metadata: { name: 'a', namespace: 'prod' }, spec })).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable under key order, undefined members and metadata', () => {
    const reordered: NetworkPolicy = {
      spec: {
        egress: [],
        policyTypes: ['Egress'],
        ingress: undefined,
        podSelector: { matchLabels: { quarantine: 'true' } },
      },
      metadata: { namespace: 'other', name: 'b', annotations: { x: 'y' } },
    };
    expect(canonicalSpecSha256(reordered)).toBe(
      canonicalSpecSha256({ metadata: { name: 'a', namespace: 'prod' }, spec }),
    );
  });

  it('sorts nested keys and keeps array order', () => {
    expect(canonicalJson({ b: [{ z: 1, a: [2, 1] }], a: { d: null, c: 'x' } })).toBe(
      '{"a":{"c":"x","d":null},"b":[{"a":[2,1],"z":1}]}',
    );
  });

  it('differs for different specs', () => {
    const meta = { name: 'a', namespace: 'prod' };
    const base = canonicalSpecSha256({ metadata: meta, spec });
    const otherValue = canonicalSpecSha256({
      metadata: meta,
      spec: { ...spec, podSelector: { matchLabels: { quarantine: 'yes' } } },
    });
    const withRule = canonicalSpecSha256({ metadata: meta, spec: { ...spec, egress: [{}] } });
    expect(new Set([base, otherValue, withRule]).size).toBe(3);
  });
});
