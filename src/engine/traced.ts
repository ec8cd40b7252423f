// Spans and log context for the engine's units of work, wrapped around the runners from outside so
// step-runner.ts and action-runner.ts stay about running steps and actions. Each public method is
// replaced on the instance, so the runners' own calls (`this.run`, `this.apply`) are traced too.
// Without an OpenTelemetry SDK the spans are no-ops; the log context (incident, step, action, phase
// on every line logged meanwhile) is always on.
import { inIncidentSpan } from '../observability/tracing.js';
import type { ActionRunner } from './action-runner.js';
import type { StepRunner } from './step-runner.js';

export function traceRunners(steps: StepRunner, actions: ActionRunner): void {
  const run = steps.run.bind(steps);
  steps.run = (incident, step, actor) =>
    inIncidentSpan('playbook.step', incident, { step: step.id }, () => run(incident, step, actor));

  // Plans are computed side by side (they only read), each in its own span and log context; apply
  // (which verifies) and revert are the calls that change the cluster.
  const phase =
    <T>(
      name: string,
      phaseName: 'plan' | 'apply',
      fn: (...a: Parameters<ActionRunner['apply']>) => Promise<T>,
    ) =>
    (...[incident, step, ref, actor]: Parameters<ActionRunner['apply']>): Promise<T> =>
      inIncidentSpan(name, incident, { step: step.id, action: ref.id ?? ref.uses, phase: phaseName }, () =>
        fn(incident, step, ref, actor),
      );
  actions.preparePlan = phase('action.plan', 'plan', actions.preparePlan.bind(actions));
  actions.apply = phase('action.apply', 'apply', actions.apply.bind(actions));
  const revert = actions.revert.bind(actions);
  actions.revert = (incident, step, key, actor) =>
    inIncidentSpan('action.revert', incident, { step: step.id, action: key, phase: 'revert' }, () =>
      revert(incident, step, key, actor),
    );
}
