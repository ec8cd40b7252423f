// What a responder saw before confirming containment, printed by `drill` after the timeline: each
// action of the contain step with its plan summary and preview (the pods to be quarantined, the
// NetworkPolicy as it would be applied, the allow-policies found still selecting the pods and the
// remedy), then how it ended and its verification line. The timeline keeps one line per event; this is
// the part of a drill a newcomer reads first.
import { z } from 'zod';
import type { Incident } from '../domain/incident.js';

const StoredPlan = z.object({ summary: z.string(), preview: z.string().optional() });
const StoredOutcome = z.object({ summary: z.string() });
const StoredVerification = z.object({ line: z.string() });

/** Markdown for the step `stepId` of `incident`; empty when the step never planned anything. */
export function renderStepPreview(incident: Incident, stepId: string, title: string): string {
  const step = incident.steps.find((s) => s.id === stepId);
  const planned = (step?.actions ?? []).flatMap((a) => {
    const plan = StoredPlan.safeParse(a.plan);
    return plan.success ? [{ action: a, plan: plan.data }] : [];
  });
  if (!step || planned.length === 0) return '';
  const out = [`## ${title}: the preview a responder confirms, and what came of it`, ''];
  for (const { action, plan } of planned) {
    out.push(`### ${action.uses}`, '', `Plan: ${plan.summary}`, '');
    if (plan.preview) out.push('```yaml', plan.preview.trimEnd(), '```', '');
    const outcome = StoredOutcome.safeParse(action.outcome);
    const verification = StoredVerification.safeParse(action.verification);
    const said = outcome.success ? outcome.data.summary : action.reason;
    out.push(
      `Result: ${action.status}${action.dryRun ? ' (dry-run)' : ''}${said ? `: ${said}` : ''}`,
      ...(verification.success ? [verification.data.line] : []),
      '',
    );
  }
  if (step.result) out.push(`Step result: ${step.result.line}`, '');
  return out.join('\n');
}
