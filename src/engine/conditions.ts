import type { AlertOrigin, DestinationType } from '../domain/alert.js';
import type { VerdictKind } from '../domain/contract.js';
import { matchesAny } from '../domain/glob.js';
import type { Incident, Mode } from '../domain/incident.js';
import type { When } from '../playbooks/schema.js';

export interface Facts {
  verdict: VerdictKind;
  origin: AlertOrigin;
  destination_type: DestinationType;
  namespace: string;
  mode: Mode;
}

export function factsOf(incident: Incident): Facts {
  return {
    verdict: incident.verdict.kind,
    origin: incident.alert.origin,
    destination_type: incident.alert.destination.type,
    namespace: incident.alert.source.namespace,
    mode: incident.mode,
  };
}

type Check = (facts: Facts, allowed: readonly string[]) => boolean;

// One row per condition key: how the fact is compared with the listed values.
const checks: Record<keyof When, Check> = {
  verdict: (f, v) => v.includes(f.verdict),
  origin: (f, v) => v.includes(f.origin),
  destination_type: (f, v) => v.includes(f.destination_type),
  namespace: (f, v) => matchesAny(v, f.namespace),
  mode: (f, v) => v.includes(f.mode),
};

/** Undefined when the condition holds; otherwise the reason it does not, for a `skipped` record. */
export function unmetCondition(when: When | undefined, facts: Facts): string | undefined {
  if (!when) return undefined;
  for (const key of Object.keys(checks) as (keyof When)[]) {
    const allowed = when[key];
    if (allowed && !checks[key](facts, allowed)) {
      return `condition not met: ${key} is ${facts[key]}, step runs only for ${allowed.join(' | ')}`;
    }
  }
  return undefined;
}
