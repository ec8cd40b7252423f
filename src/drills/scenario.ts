import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DurationText } from '../domain/duration.js';
import { CodedError } from '../domain/errors.js';
import { IncidentStatus } from '../domain/incident.js';
import { readYaml, validateYaml } from '../domain/yaml.js';

/**
 * A tabletop drill: a synthetic alert, sent through the real intake parser in whatever format it is
 * written in (egress event, Alertmanager or Falcosidekick payload), and what the team expects.
 */
export const Scenario = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a lower-case id with dashes' }),
  title: z.string().min(1),
  description: z.string().optional(),
  /** The alert payload exactly as a sender would POST it. */
  alert: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]),
  /** Further copies of the alert to send, to show folding (one incident, a growing count). */
  repeats: z.number().int().min(0).max(10_000).default(0),
  /**
   * Target times from the first alert: a milestone (acknowledge, triage, decision, contain, rotate)
   * or a step id → a duration such as 15m. Shown as met or missed on the scorecard.
   */
  targets: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'expected a milestone or a step id' }),
      DurationText,
    )
    .default({}),
  expect: z
    .strictObject({
      verdict: z.enum(['violation', 'allowed', 'no-contract']).optional(),
      playbook: z.string().optional(),
      status: IncidentStatus.optional(),
      /** Steps expected to complete (ids). */
      completed: z.array(z.string()).optional(),
    })
    .default({}),
});
export type Scenario = z.infer<typeof Scenario>;

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
}

export function parseScenario(text: string, file: string): LoadedScenario {
  const scenario = validateYaml(
    readYaml(text, file, 'scenario_invalid'),
    Scenario,
    'scenario_invalid',
    () => 'invalid drill scenario',
  );
  return { file, scenario };
}

export async function loadScenarios(
  dir: string,
): Promise<{ scenarios: LoadedScenario[]; errors: CodedError[] }> {
  const out: { scenarios: LoadedScenario[]; errors: CodedError[] } = { scenarios: [], errors: [] };
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch {
    out.errors.push(new CodedError('scenario_invalid', `drill directory ${dir} cannot be read`));
    return out;
  }
  for (const name of names) {
    const file = join(dir, name);
    try {
      out.scenarios.push(parseScenario(await readFile(file, 'utf8'), file));
    } catch (err) {
      out.errors.push(
        err instanceof CodedError ? err : new CodedError('scenario_invalid', `${file}: ${String(err)}`),
      );
    }
  }
  return out;
}
