import type { Incident } from '../domain/incident.js';
import { describeSlackRateLimit, type SlackRateLimit } from '../domain/slack-rate-limit.js';
import type { LoadedScenario, Scenario } from '../drills/scenario.js';
import type { Cluster } from '../k8s/cluster.js';
import { type Complications, withComplications } from '../k8s/complicated-cluster.js';

// A drill scenario's cluster complications (injected RBAC denials, a slow API) as the composition
// roots apply them: the CLI wraps its drill's one cluster, `serve` wraps the cluster of each drill
// incident's actions by the scenario the incident was started from, and never a real incident's.

/** What the scenario injects into the cluster; undefined when nothing. */
export function clusterComplications(scenario: Scenario): Complications | undefined {
  const c = scenario.complications;
  if (!c || (c.rbac_denials.length === 0 && !c.api_latency)) return undefined;
  return { denials: c.rbac_denials, latencyMs: c.api_latency ?? 0 };
}

/** `cluster` as a drill of `scenario` sees it. */
export function complicated(cluster: Cluster, scenario: Scenario): Cluster {
  const c = clusterComplications(scenario);
  return c ? withComplications(cluster, c) : cluster;
}

/**
 * The engine's `drillCluster`: a drill incident's cluster wrapped in its scenario's complications,
 * looked up by the scenario id the incident carries (a scenario no longer loaded: the plain cluster).
 */
export function drillClusterFrom(
  scenarios: () => readonly LoadedScenario[],
): (incident: Incident, cluster: Cluster) => Cluster {
  return (incident, cluster) => {
    const loaded = scenarios().find((s) => s.scenario.id === incident.drillScenario);
    return loaded ? complicated(cluster, loaded.scenario) : cluster;
  };
}

/** The Slack app's `drillRateLimit`: the Slack rate limit a drill incident's scenario injects. */
export function slackRateLimitFrom(
  scenarios: () => readonly LoadedScenario[],
): (incident: Incident) => SlackRateLimit | undefined {
  return (incident) =>
    scenarios().find((s) => s.scenario.id === incident.drillScenario)?.scenario.complications
      ?.slack_rate_limit;
}

/** The header lines naming what is injected, for the CLI drill; undefined when nothing is. */
export function describeComplications(scenario: Scenario): string | undefined {
  const c = scenario.complications;
  if (!c) return undefined;
  const said = [
    ...c.rbac_denials.map(
      (d) => `RBAC denies ${d.verb} ${d.resource}${d.namespace ? ` in ${d.namespace}` : ''}`,
    ),
    ...(c.api_latency ? [`the API answers ${c.api_latency} ms late`] : []),
  ];
  const lines = said.length > 0 ? [`Complications injected: ${said.join('; ')}.`] : [];
  if (c.slack_rate_limit)
    lines.push(
      `Complication not applicable: ${describeSlackRateLimit(c.slack_rate_limit)} (a CLI drill has no Slack; play it in Slack with /egress drill ${scenario.id}).`,
    );
  return lines.length > 0 ? lines.join('\n') : undefined;
}
