// What to change so a failed action would succeed next time, from its error's code and details: shown
// in the drill scorecard ("every action that would have failed and why, with the fix") and kept on
// the action's error. A table by code, so a new code gets its row here and nowhere else. Pure.

type Details = Readonly<Record<string, unknown>>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function rbacFix(d: Details): string | undefined {
  const verb = str(d.verb);
  const resource = str(d.resource);
  // Only an RBAC denial names its user; a 401 or an admission refusal is another problem.
  if (!str(d.user) || !verb || !resource) return undefined;
  const group = str(d.group);
  const what = `\`${verb}\` on \`${resource}\`${group ? ` (API group ${group})` : ''}`;
  const ns = str(d.namespace);
  return ns
    ? `the bot cannot ${verb} ${resource} in ${ns}: add ${what} to the Role bound in ${ns}`
    : `the bot cannot ${verb} ${resource} cluster-wide: add ${what} to a ClusterRole bound to it`;
}

const fixes: Record<string, (d: Details) => string | undefined> = {
  // An action that wraps the errors of its writes says the fix it found for them.
  action_failed: (d) => str(d.fix),
  k8s_forbidden: (d) =>
    rbacFix(d) ??
    (d.status === 401
      ? "the API server rejected the bot's token: renew the ServiceAccount token or the kubeconfig"
      : "an admission policy refused it: read the server's message, then exempt the bot's ServiceAccount or change the playbook's params"),
  k8s_unavailable: () =>
    "the API server did not answer in time: check the bot's path to it (its own NetworkPolicy, the API server's load)",
  k8s_not_found: (d) =>
    str(d.fix) ??
    "it is not in the cluster: check the names in the step's `with:` params, or install the CRD that serves the kind",
  k8s_invalid: () =>
    "the API server refused the object as invalid: fix the step's `with:` params (see the message)",
  k8s_conflict: () =>
    'another writer kept changing the object: find that writer (a controller, GitOps) and pause it for the incident',
  namespace_refused: () =>
    'the namespace is refused by the config: change `namespaces.allow` / `namespaces.deny` if the bot may act there',
  cluster_unavailable: () => 'no cluster is configured: set KUBECONFIG or run the bot in the cluster',
  action_params_invalid: () =>
    "fix the step's `with:` params in the playbook (`egress-responder validate` shows them)",
};

/** The fix for an error, when one is known. */
export function fixFor(code: string, details: Details = {}): string | undefined {
  // Own rows only: a code such as `constructor` must not find Object.prototype's.
  return Object.hasOwn(fixes, code) ? fixes[code]?.(details) : undefined;
}
