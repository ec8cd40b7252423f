import type { Incident } from '../domain/incident.js';
import { describeSlackRateLimit, SLACK_RATE_LIMIT_COMPLICATION } from '../domain/slack-rate-limit.js';
import type { TimelineEvent } from '../domain/timeline.js';
import type { Scenario } from './scenario.js';

// What became of each complication a scenario injects, for the scorecard, from the final incident and
// its timeline alone: an RBAC denial is met when an action was refused by it (its fix is among the
// failures), a Slack rate limit when the thread's call was answered 429 and got through after
// Retry-After (the presenter records it), and neither can be met where it cannot happen.

export interface ComplicationResult {
  what: string;
  /** `injected`: in force all along, nothing to meet (a slow API). */
  state: 'met' | 'not reached' | 'not applicable' | 'injected';
  detail: string;
}

type Denial = NonNullable<Scenario['complications']>['rbac_denials'][number];

function denial(d: Denial, incident: Incident): ComplicationResult {
  const what = `RBAC denies ${d.verb} ${d.resource}${d.namespace ? ` in ${d.namespace}` : ''}`;
  // The API server's words, as status-errors.ts puts a 403: "may not <verb> <resource> … in namespace "<ns>"".
  const said = `may not ${d.verb} ${d.resource}`;
  const hit = incident.steps.flatMap((s) =>
    s.actions
      .filter((a) => {
        const m = a.error?.message ?? '';
        return m.includes(said) && (d.namespace === undefined || m.includes(`"${d.namespace}"`));
      })
      .map((a) => `${s.id} / ${a.uses}`),
  );
  return hit.length > 0
    ? { what, state: 'met', detail: `refused ${hit.join(', ')} (the fix is under the failed actions)` }
    : { what, state: 'not reached', detail: 'no action of this drill asked for it' };
}

function slackRateLimit(
  rule: NonNullable<NonNullable<Scenario['complications']>['slack_rate_limit']>,
  incident: Incident,
  events: readonly TimelineEvent[],
): ComplicationResult {
  const what = describeSlackRateLimit(rule);
  if (!incident.slack)
    return { what, state: 'not applicable', detail: 'this drill had no Slack thread (a CLI drill)' };
  const met = events.filter((e) => e.details.complication === SLACK_RATE_LIMIT_COMPLICATION);
  if (met.length === 0)
    return { what, state: 'not reached', detail: 'no call of the thread was answered 429' };
  const lines = met.map(
    (e) =>
      `${String(e.details.method)} answered 429 and delivered ${(Number(e.details.waited_ms) / 1000).toFixed(1)} s later`,
  );
  return { what, state: 'met', detail: lines.join('; ') };
}

export function complicationsOf(
  scenario: Scenario,
  incident: Incident,
  events: readonly TimelineEvent[],
): ComplicationResult[] {
  const c = scenario.complications;
  if (!c) return [];
  return [
    ...c.rbac_denials.map((d) => denial(d, incident)),
    ...(c.api_latency
      ? [
          {
            what: `a slow Kubernetes API (${c.api_latency} ms)`,
            state: 'injected' as const,
            detail: 'every API call of the drill waited first',
          },
        ]
      : []),
    ...(c.slack_rate_limit ? [slackRateLimit(c.slack_rate_limit, incident, events)] : []),
  ];
}
