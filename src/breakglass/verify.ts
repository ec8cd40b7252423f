import { asNetpol } from '../actions/k8s/contain/common.js';
import { analyzeEgress, canonicalJson, type EgressLeak, type NetworkPolicy } from '../actions/k8s/netpol.js';
import type { KubeObject } from '../k8s/types.js';
import type { SourceScene } from './preflight.js';

// Is the grant in force as approved, and only that? For an egress exception, the same analysis
// containment uses (NetworkPolicies are additive: a pod may reach the union of the egress rules of the
// policies selecting it): the path is open on every source pod, every pod is still isolated, and
// nothing is open that was not open before the grant. For quarantined pods that were contained, that
// is: the grant's rule and nothing else. For an access elevation, the RoleBinding read back binds
// exactly the role and the subjects approved. One line, naming both halves.

export interface Verification {
  ok: boolean;
  line: string;
}

const leakKey = (l: EgressLeak) => `${l.policy}#${l.rule}:${l.ports.join(',')}:${l.peers.join(',')}`;
const leakText = (l: EgressLeak) => `${l.policy} allows ${l.ports.join(', ')} to ${l.peers.join(', ')}`;
const podsText = (n: number) => `${n} ${n === 1 ? 'pod' : 'pods'}`;
const tag = (dryRun: boolean) => (dryRun ? ' (dry-run)' : '');

/** The rest of the verdict, shared by both egress kinds: still isolated, nothing new open. */
function nothingElse(
  scene: SourceScene,
  after: readonly NetworkPolicy[],
  own: string | undefined,
  problems: string[],
): string {
  const before = analyzeEgress(
    scene.pods,
    scene.policies.filter((p) => p.metadata.name !== own),
  );
  const now = analyzeEgress(scene.pods, after);
  const open = Object.entries(now.perPod)
    .filter(([, pod]) => pod.verdict === 'unrestricted')
    .map(([name]) => name);
  if (open.length > 0) problems.push(`not egress-isolated: ${open.join(', ')}`);
  const already = new Set(before.leaks.map(leakKey));
  const others = now.leaks.filter((l) => l.policy !== own);
  const fresh = others.filter((l) => !already.has(leakKey(l)));
  if (fresh.length > 0) problems.push(`also open: ${fresh.map(leakText).join('; ')}`);
  const isolated = `${podsText(scene.pods.length)} isolated by ${now.isolatedBy.join(', ')}`;
  return others.length === 0
    ? `${isolated}, no other egress allowed`
    : `${isolated}; other egress as before the grant (${others.map(leakText).join('; ')})`;
}

function line(ok: boolean, dryRun: boolean, open: string, rest: string, problems: string[]): Verification {
  return ok
    ? { ok, line: `Verification${tag(dryRun)}: open — ${open}; nothing else: ${rest}` }
    : { ok, line: `Verification${tag(dryRun)}: failed — ${problems.join('; ')}` };
}

/**
 * A NetworkPolicy exception. `after`: the namespace's policies as read back after the apply (for a
 * dry run: the policies before plus the rendered one, what the server would hold).
 */
export function verifyNetworkPolicy(args: {
  expected: KubeObject;
  scene: SourceScene;
  after: readonly NetworkPolicy[];
  dryRun: boolean;
}): Verification {
  const { scene, dryRun } = args;
  const name = args.expected.metadata.name ?? '';
  const wanted = analyzeEgress(scene.pods, [asNetpol(args.expected, scene.namespace)]).leaks;
  const problems: string[] = [];
  const now = analyzeEgress(scene.pods, args.after);
  const mine = now.leaks.filter((l) => l.policy === name);
  if (!args.after.some((p) => p.metadata.name === name)) {
    problems.push(`NetworkPolicy ${name} is not in the cluster after the apply`);
  } else if (mine.length !== wanted.length || mine.some((l, i) => leakKey(l) !== leakKey(wanted[i]!))) {
    problems.push(
      `NetworkPolicy ${name} reads ${mine.map(leakText).join('; ') || 'no rule'} instead of ${wanted.map(leakText).join('; ')}`,
    );
  }
  const without = Object.entries(now.perPod)
    .filter(([, pod]) => !pod.leaks.some((l) => l.policy === name))
    .map(([pod]) => pod);
  if (without.length > 0 && problems.length === 0)
    problems.push(`the path is not open for ${without.join(', ')}`);
  const rest = nothingElse(scene, args.after, name, problems);
  const rule = wanted[0];
  const open = rule
    ? `${rule.ports.join(', ')} to ${rule.peers.join(', ')} for ${podsText(scene.pods.length)} (NetworkPolicy ${name})`
    : '';
  return line(problems.length === 0, dryRun, open, rest, problems);
}

/**
 * A CiliumNetworkPolicy (FQDN) exception: the analysis cannot read Cilium's rules, so the object
 * read back must be exactly the one rendered, and the NetworkPolicies must still isolate the pods
 * with nothing new open.
 */
export function verifyCilium(args: {
  expected: KubeObject;
  readBack: KubeObject | undefined;
  scene: SourceScene;
  after: readonly NetworkPolicy[];
  fqdn: string;
  ports: string;
  dryRun: boolean;
}): Verification {
  const name = args.expected.metadata.name ?? '';
  const problems: string[] = [];
  if (!args.readBack) problems.push(`CiliumNetworkPolicy ${name} is not in the cluster after the apply`);
  else if (canonicalJson(args.readBack.spec) !== canonicalJson(args.expected.spec))
    problems.push(`CiliumNetworkPolicy ${name} does not read back as applied`);
  const rest = nothingElse(args.scene, args.after, undefined, problems);
  const open = `${args.ports} to ${args.fqdn} for ${podsText(args.scene.pods.length)} (CiliumNetworkPolicy ${name}${args.dryRun ? '' : ', read back as applied'}; DNS to kube-dns for that name only)`;
  return line(problems.length === 0, args.dryRun, open, rest, problems);
}

/** A RoleBinding read back: the approved ClusterRole and exactly the approved subjects. */
export function verifyRoleBinding(args: {
  expected: KubeObject;
  readBack: KubeObject | undefined;
  dryRun: boolean;
}): Verification {
  const { expected, readBack } = args;
  const name = expected.metadata.name ?? '';
  const ns = expected.metadata.namespace ?? '';
  const role = (expected.roleRef as { name: string }).name;
  const subjects = (expected.subjects as { kind: string; name: string }[])
    .map((s) => `${s.kind} ${s.name}`)
    .join(', ');
  const what = `ClusterRole ${role} to ${subjects} in ${ns} (RoleBinding ${name})`;
  if (args.dryRun) {
    return {
      ok: true,
      line: `Verification (dry-run): the API server accepted ${what}; nothing was created`,
    };
  }
  const problems: string[] = [];
  if (!readBack) problems.push(`RoleBinding ${ns}/${name} is not in the cluster after the apply`);
  else {
    if (canonicalJson(readBack.roleRef) !== canonicalJson(expected.roleRef))
      problems.push(`RoleBinding ${name} refers to ${JSON.stringify(readBack.roleRef)}`);
    if (canonicalJson(readBack.subjects) !== canonicalJson(expected.subjects))
      problems.push(`RoleBinding ${name} binds ${JSON.stringify(readBack.subjects)}`);
  }
  return problems.length === 0
    ? {
        ok: true,
        line: `Verification: bound — ${what}, read back as applied; nothing else: exactly these subjects, exactly this role`,
      }
    : { ok: false, line: `Verification: failed — ${problems.join('; ')}` };
}
