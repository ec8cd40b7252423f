// What a remedy of k8s.deny-egress is: its kinds, its plan and the outcome it records (zod: read back
// from the store), the strategy every remedy implements, and the helpers they share.
import { z } from 'zod';
import { CodedError } from '../../../domain/errors.js';
import type { KubeObject } from '../../../k8s/types.js';
import type { ActionContext } from '../../define.js';
import { analyzeEgress, type NetworkPolicy, type PodInfo } from '../netpol.js';
import { CniRecordJson } from './cni-deny.js';
import { asNetpol } from './common.js';
import { KubeObjectJson, LabelSelectorJson } from './kube-json.js';

export const RemedyKind = z.enum(['report-only', 'isolate', 'detach', 'cni-deny']);
export type RemedyKind = z.infer<typeof RemedyKind>;

export const RemedyPlan = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('report-only') }),
  z.strictObject({
    kind: z.literal('isolate'),
    /** Each allow-policy to patch: its spec when planned (what drift compares) and the selector it gets. */
    patches: z.array(z.strictObject({ name: z.string(), spec: z.json(), podSelector: LabelSelectorJson })),
  }),
  z.strictObject({
    kind: z.literal('detach'),
    keys: z.array(z.string()),
    pods: z.array(z.strictObject({ name: z.string(), labels: z.record(z.string(), z.string()) })),
  }),
  /** `object`: the AdminNetworkPolicy / CiliumNetworkPolicy to apply; null when neither is served. */
  z.strictObject({ kind: z.literal('cni-deny'), object: KubeObjectJson.nullable() }),
]);
export type RemedyPlan = z.output<typeof RemedyPlan>;

/** `attempts`: writes tried, when a 409 made us read again and try again. */
const Remedied = z.strictObject({
  name: z.string(),
  original: KubeObjectJson,
  ok: z.boolean(),
  error: z.string().optional(),
  attempts: z.number().int().min(1).optional(),
});
const Detached = z.strictObject({
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  ok: z.boolean(),
  error: z.string().optional(),
  attempts: z.number().int().min(1).optional(),
});

/** What k8s.deny-egress applied: exactly what verify judges and revert undoes. */
export const DenyOutcome = z.strictObject({
  namespace: z.string(),
  name: z.string(),
  /** False when a policy of that name existed before this incident (revert keeps it). */
  created: z.boolean(),
  remedy: RemedyKind,
  labelKey: z.string(),
  /** The deny policy as sent. */
  policy: KubeObjectJson,
  remedied: z.array(Remedied),
  detached: z.array(Detached),
  cni: CniRecordJson.nullable().optional(),
  /** Why the remedy fell back to reporting only. */
  fallback: z.string().optional(),
});
export type DenyOutcome = z.output<typeof DenyOutcome>;

export interface RemedyParams {
  name: string;
  label_key: string;
  label_value: string;
  anp_priority: number;
  selector: string;
}

/** The pods and the other policies in their namespace, as the remedy sees them (plan or drift). */
export interface RemedyScene {
  ctx: ActionContext;
  params: RemedyParams;
  namespace: string;
  pods: PodInfo[];
  /** NetworkPolicies in the namespace other than the deny policy, as read. */
  others: KubeObject[];
}

export interface Planned {
  plan: RemedyPlan;
  /** Preview lines (`# isolate: …` and YAML). */
  lines: string[];
  /** Added to the plan's summary. */
  text: string;
  /** The pods and other policies as they would be after the remedy (the deny policy is added by the caller). */
  wouldBe: { pods: PodInfo[]; policies: NetworkPolicy[] };
}

export interface RemedyStrategy {
  plan(scene: RemedyScene): Promise<Planned>;
  /** What changed since `plan`, in words. */
  drift(scene: RemedyScene, plan: RemedyPlan): Promise<string[]>;
  /** Carry out `plan`, recording each change (and failure) in `out`. Never throws for one object. */
  apply(ctx: ActionContext, plan: RemedyPlan, out: DenyOutcome): Promise<void>;
  /** The pods and policies as a dry run's verification should judge them (nothing really changed). */
  asApplied(
    pods: PodInfo[],
    policies: NetworkPolicy[],
    out: DenyOutcome,
  ): { pods: PodInfo[]; policies: NetworkPolicy[] };
  /** Undo, newest first; notes for the summary. */
  revert(ctx: ActionContext, out: DenyOutcome): Promise<string[]>;
  /** What was done, for the summary. */
  done(out: DenyOutcome, params: RemedyParams): string;
}

/** The other policies of the scene, as NetworkPolicies. */
export const netpols = (scene: RemedyScene) => scene.others.map((p) => asNetpol(p, scene.namespace));

/** Allow-policies that still let the pods out next to the deny policy: what `isolate` patches. */
export function leakingPolicies(pods: PodInfo[], others: NetworkPolicy[]): string[] {
  return [...new Set(analyzeEgress(pods, others).leaks.map((l) => l.policy))];
}

/** The plan of `kind`; another kind's plan is a bug (the table gives each strategy its own). */
export function expectPlan<K extends RemedyKind>(
  plan: RemedyPlan,
  kind: K,
): Extract<RemedyPlan, { kind: K }> {
  if (plan.kind !== kind)
    throw new CodedError('internal', `remedy ${kind} given a ${plan.kind} plan`, { userSafe: false });
  return plan as Extract<RemedyPlan, { kind: K }>;
}
