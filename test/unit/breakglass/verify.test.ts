import { asNetpol } from '../../../src/actions/k8s/contain/common.js';
import type { NetworkPolicy } from '../../../src/actions/k8s/netpol.js';
import type { SourceScene } from '../../../src/breakglass/preflight.js';
import { renderGrant } from '../../../src/breakglass/render.js';
import { removalBackoffMs } from '../../../src/breakglass/settings.js';
import { verifyNetworkPolicy } from '../../../src/breakglass/verify.js';
import { ALLOW_SPEC } from '../../builders/additive-trap.js';
import { aGrant } from '../../builders/grant.js';

// The verification's verdict on the cases an apply in the fake cluster cannot produce: a policy
// that opens more than the grant, a pod the path does not reach, pods that lost their isolation.

const g = aGrant({
  sourceSelector: { quarantine: 'true', app: 'payments-api' },
  expiresAt: '2026-11-25T15:03:12.123Z',
});
const [rendered] = renderGrant(
  { ...g, approvers: ['slack:U0CCC'], expiresAt: Date.parse(g.expiresAt!) },
  { kyvernoCleanup: false, fqdnPolicy: 'none' },
);
const grantPolicy = asNetpol(rendered!, 'prod');
const pod = (name: string, labels: Record<string, string> = { app: 'payments-api', quarantine: 'true' }) => ({
  name,
  namespace: 'prod',
  labels,
});
const deny: NetworkPolicy = asNetpol(
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'quarantine-deny-egress', namespace: 'prod' },
    spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Egress'], egress: [] },
  },
  'prod',
);
const allow = asNetpol(
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow', namespace: 'prod' },
    spec: ALLOW_SPEC,
  },
  'prod',
);
const scene = (policies: NetworkPolicy[], pods = [pod('a'), pod('b')]): SourceScene => ({
  namespace: 'prod',
  selector: { quarantine: 'true', app: 'payments-api' },
  pods,
  policies,
});

describe('verifyNetworkPolicy', () => {
  it('fails when something opened beside the grant, and names it', () => {
    const v = verifyNetworkPolicy({
      expected: rendered!,
      scene: scene([deny]),
      after: [deny, grantPolicy, allow],
      dryRun: false,
    });
    expect(v.ok).toBe(false);
    expect(v.line).toBe(
      'Verification: failed — also open: allow allows UDP/53, TCP/53 to kube-dns; allow allows TCP/443 to app=orders-api',
    );
  });

  it('passes when the other egress was there before the grant, and says so', () => {
    const v = verifyNetworkPolicy({
      expected: rendered!,
      scene: scene([allow]),
      after: [allow, grantPolicy],
      dryRun: false,
    });
    expect(v.ok).toBe(true);
    expect(v.line).toContain('other egress as before the grant (allow allows UDP/53, TCP/53 to kube-dns;');
  });

  it('fails when the policy in the cluster opens more than the grant', () => {
    const wider = {
      ...grantPolicy,
      spec: { ...grantPolicy.spec, egress: [{ ...grantPolicy.spec.egress![0]!, ports: [] }] },
    };
    const v = verifyNetworkPolicy({
      expected: rendered!,
      scene: scene([deny]),
      after: [deny, wider],
      dryRun: false,
    });
    expect(v.ok).toBe(false);
    expect(v.line).toContain(`reads breakglass-${g.id} allows all ports to 203.0.113.7/32 instead of`);
  });

  it('fails when the policy is missing or a source pod is not reached', () => {
    expect(
      verifyNetworkPolicy({ expected: rendered!, scene: scene([deny]), after: [deny], dryRun: false }).line,
    ).toBe(`Verification: failed — NetworkPolicy breakglass-${g.id} is not in the cluster after the apply`);
    const stray = pod('c', { app: 'other', quarantine: 'true' });
    const v = verifyNetworkPolicy({
      expected: rendered!,
      scene: scene([deny], [pod('a'), stray]),
      after: [deny, grantPolicy],
      dryRun: false,
    });
    expect(v).toEqual({ ok: false, line: 'Verification: failed — the path is not open for c' });
    const loose = pod('d', { app: 'other' });
    const open = verifyNetworkPolicy({
      expected: rendered!,
      scene: scene([deny], [pod('a'), loose]),
      after: [deny, grantPolicy],
      dryRun: false,
    });
    expect(open).toEqual({
      ok: false,
      line: 'Verification: failed — the path is not open for d; not egress-isolated: d',
    });
  });
});

describe('removal backoff', () => {
  it('doubles from 5 s and is never more than 5 minutes', () => {
    expect([1, 2, 3, 4, 7, 8, 50].map(removalBackoffMs)).toEqual([
      5_000, 10_000, 20_000, 40_000, 300_000, 300_000, 300_000,
    ]);
  });
});
