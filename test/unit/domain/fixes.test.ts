import { fixFor } from '../../../src/domain/fixes.js';

// The fix a drill's scorecard prints next to a failure, from the error's code and details.

const user = 'system:serviceaccount:egress-responder:egress-responder';

it.each([
  [
    'RBAC in a namespace',
    'k8s_forbidden',
    { user, verb: 'patch', resource: 'pods', group: '', namespace: 'prod' },
    'the bot cannot patch pods in prod: add `patch` on `pods` to the Role bound in prod',
  ],
  [
    'RBAC cluster-wide, with an API group',
    'k8s_forbidden',
    { user, verb: 'create', resource: 'adminnetworkpolicies', group: 'policy.networking.k8s.io' },
    'the bot cannot create adminnetworkpolicies cluster-wide: add `create` on `adminnetworkpolicies` (API group policy.networking.k8s.io) to a ClusterRole bound to it',
  ],
  [
    'a 401 is not an RBAC gap',
    'k8s_forbidden',
    { status: 401, verb: 'patch', resource: 'pods' },
    "the API server rejected the bot's token: renew the ServiceAccount token or the kubeconfig",
  ],
  [
    'an admission refusal names no user',
    'k8s_forbidden',
    { status: 403, verb: 'create', resource: 'networkpolicies', namespace: 'prod' },
    expect.stringMatching(/^an admission policy refused it/),
  ],
  ['an action that found a fix', 'action_failed', { fix: 'do this' }, 'do this'],
])('%s', (_what, code, details, expected) => {
  expect(fixFor(code, details)).toEqual(expected);
});

it('no fix is invented: unknown codes, an action_failed without one, odd details', () => {
  expect(fixFor('internal', {})).toBeUndefined();
  expect(fixFor('action_failed', {})).toBeUndefined();
  expect(fixFor('constructor', {})).toBeUndefined();
  expect(fixFor('__proto__', {})).toBeUndefined();
  expect(fixFor('action_failed', { fix: 42 })).toBeUndefined();
  expect(fixFor('k8s_forbidden', { user: '', verb: 'patch', resource: 'pods' })).toMatch(/^an admission/);
});
