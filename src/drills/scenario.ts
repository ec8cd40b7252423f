import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DurationText } from '../domain/duration.js';
import { CodedError } from '../domain/errors.js';
import { IncidentStatus } from '../domain/incident.js';
import { SlackRateLimit } from '../domain/slack-rate-limit.js';
import { readYaml, validateYaml, withLines } from '../domain/yaml.js';
import type { ParseOptions } from '../intake/parse.js';
import { AlertPayload, FollowUp, parseWave, Repeat, wavesOf } from './waves.js';

/**
 * A tabletop drill: a synthetic alert, sent through the real intake parser in whatever format it is
 * written in (egress event, Alertmanager or Falcosidekick payload), and what the team expects.
 */
export const Scenario = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a lower-case id with dashes' }),
  title: z.string().min(1),
  description: z.string().optional(),
  /** The alert payload exactly as a sender would POST it. */
  alert: AlertPayload,
  /** Further copies of the alert to send, to show folding (one incident, a growing count). */
  repeats: z.number().int().min(0).max(10_000).default(0),
  /** Copies of the alert each to its own host: `{ count: 2000, host: "{n}.x7f.tunnel-example.net" }`. */
  repeat: Repeat.optional(),
  /** Later waves of alerts in drill time (waves.ts; not `then`, which would make a scenario thenable): a repeat after 30s, a second anomaly mid-drill. */
  later: z.array(FollowUp).max(20).default([]),
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
  /**
   * Complications injected into the drill: RBAC denials answered as the API server's 403 and a slow
   * API (the drill incident's cluster, in the CLI and in Slack), and Slack answering the drill
   * thread's calls with 429 + Retry-After (Slack drills only; a CLI drill has no Slack).
   */
  complications: z
    .strictObject({
      rbac_denials: z
        .array(
          z.strictObject({
            verb: z.enum(['get', 'list', 'create', 'update', 'patch', 'delete']),
            resource: z
              .string()
              .regex(/^[a-z]+(\/[a-z]+)?$/, { error: 'expected a plural resource such as pods or pods/log' }),
            namespace: z
              .string()
              .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
              .optional(),
          }),
        )
        .max(20)
        .default([]),
      api_latency: DurationText.optional(),
      slack_rate_limit: SlackRateLimit.optional(),
    })
    .optional(),
  expect: z
    .strictObject({
      verdict: z.enum(['violation', 'allowed', 'no-contract']).optional(),
      playbook: z.string().optional(),
      status: IncidentStatus.optional(),
      /** Steps expected to complete (ids). */
      completed: z.array(z.string()).optional(),
      /** Steps expected to be skipped (ids): an allowed call never reaches containment. */
      skipped: z.array(z.string()).optional(),
      /** Incidents the scenario's alerts open (distinct anomalies). */
      incidents: z.number().int().min(0).optional(),
      /** Distinct hosts folded into the first incident (exact). */
      distinct_hosts: z.number().int().min(0).optional(),
    })
    .default({}),
});
export type Scenario = z.infer<typeof Scenario>;

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
}

/**
 * Read and check a scenario: the schema, then every wave's payload through the real intake parser
 * (`parse`: the config's Alertmanager label mapping), so a scenario that validates is one the drill
 * can send.
 */
export function parseScenario(
  text: string,
  file: string,
  parse: Omit<ParseOptions, 'receivedAt'> = {},
): LoadedScenario {
  const src = readYaml(text, file, 'scenario_invalid');
  const scenario = validateYaml(src, Scenario, 'scenario_invalid', () => 'invalid drill scenario');
  const issues = wavesOf(scenario).flatMap((w) => parseWave(w, { ...parse, receivedAt: 0 }).issues);
  if (issues.length > 0) {
    throw new CodedError('scenario_invalid', `${file}: a drill alert the intake would refuse`, {
      issues: withLines(src, issues),
      details: { file },
    });
  }
  return { file, scenario };
}

export async function loadScenarios(
  dir: string,
  parse: Omit<ParseOptions, 'receivedAt'> = {},
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
      out.scenarios.push(parseScenario(await readFile(file, 'utf8'), file, parse));
    } catch (err) {
      out.errors.push(
        err instanceof CodedError ? err : new CodedError('scenario_invalid', `${file}: ${String(err)}`),
      );
    }
  }
  return out;
}
