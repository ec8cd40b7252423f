// What an SLA reminder says a step is waiting for, in words a responder acts on (not the raw status).
import type { StepState, StepStatus } from '../domain/incident.js';
import type { Step } from '../playbooks/schema.js';

type Open = Exclude<StepStatus, 'completed' | 'skipped' | 'failed'>;

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** One row per open status: what the step needs before it can move on. */
const waitingFor: Record<Open, (def: Step | undefined, state: StepState) => string> = {
  pending: () => 'its turn to start (an earlier step is still open)',
  running: () => 'its actions to finish',
  awaiting_input: (def, state) => {
    const items = def?.checklist ?? [];
    const ticked = items.filter((i) => state.checklist[i.id]).length;
    return `its checklist to be ticked (${ticked} of ${plural(items.length, 'item')} done)`;
  },
  awaiting_confirmation: () => 'a responder to confirm its actions',
  awaiting_approval: (def, state) => {
    const from = def?.approval?.from ?? 'approvers';
    const who = Array.isArray(from) ? 'the named approvers' : `the ${from}`;
    const got = state.approvals.filter((a) => a.decision === 'approve').length;
    return `${plural(def?.approval?.count ?? 1, 'approval')} from ${who} (${got} so far)`;
  },
};

/** `its checklist to be ticked (1 of 3 items done)`; undefined for a settled step. */
export function slaWaitingFor(def: Step | undefined, state: StepState): string | undefined {
  const row = waitingFor[state.status as Open] as ((d: Step | undefined, s: StepState) => string) | undefined;
  return row?.(def, state);
}
