import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionRegistry } from '../actions/registry.js';
import type { AlertOrigin, DestinationType } from '../domain/alert.js';
import type { VerdictKind } from '../domain/contract.js';
import { CodedError, type FieldIssue, showValue } from '../domain/errors.js';
import { matchesAny } from '../domain/glob.js';
import { readYaml, validateYaml, withLines } from '../domain/yaml.js';
import { zodIssues } from '../domain/zod-issues.js';
import { type LoadedPlaybook, Playbook, type StepRole, uniqueRoles } from './schema.js';

/** Parse and check one playbook: schema, unique ids, and every action and parameter against the registry. */
export function parsePlaybook(text: string, file: string, registry: ActionRegistry): LoadedPlaybook {
  const src = readYaml(text, file, 'playbook_invalid');
  const playbook = validateYaml(src, Playbook, 'playbook_invalid', () => 'invalid playbook');
  const issues = withLines(src, [
    ...duplicateIds(playbook),
    ...roleIssues(playbook),
    ...actionIssues(playbook, registry),
  ]);
  if (issues.length > 0) throw new CodedError('playbook_invalid', `${file}: invalid playbook`, { issues });
  return { file, playbook };
}

/** A button finds its step by role: two steps of one such role would make it guess. */
function roleIssues(playbook: Playbook): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const role of uniqueRoles) {
    const steps = playbook.steps.map((s, i) => [s, i] as const).filter(([s]) => s.role === role);
    for (const [step, i] of steps.slice(1)) {
      issues.push({
        path: `steps[${i}].role`,
        message: `a playbook has at most one ${role} step (the ${role} button and command run it); ${steps[0]![0].id} already is one`,
        value: showValue(step.role),
      });
    }
  }
  return issues;
}

/** What people will miss in Slack for incidents of this playbook: buttons no step can answer. */
export function playbookWarnings(loaded: LoadedPlaybook): string[] {
  const has = (role: StepRole) => loaded.playbook.steps.some((s) => s.role === role);
  const missing: Array<[StepRole, string]> = [
    ['contain', 'the Contain and Release buttons and /egress contain|release'],
    ['rotate', 'the Rotate button and /egress rotate'],
  ];
  return missing
    .filter(([role]) => !has(role))
    .map(
      ([role, what]) =>
        `${loaded.file}: no step has role ${role}: ${what} will refuse incidents of playbook ${loaded.playbook.id}`,
    );
}

function duplicateIds(playbook: Playbook): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const dup = (ids: string[], path: (i: number) => string, what: string) => {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) issues.push({ path: path(i), message: `duplicate ${what} id`, value: showValue(id) });
      seen.add(id);
    });
  };
  dup(
    playbook.steps.map((s) => s.id),
    (i) => `steps[${i}].id`,
    'step',
  );
  playbook.steps.forEach((step, s) => {
    dup(
      step.actions.map((a) => a.id ?? a.uses),
      (i) => `steps[${s}].actions[${i}]`,
      'action (give it an `id:` to use the same action twice)',
    );
    dup(
      step.checklist.map((c) => c.id),
      (i) => `steps[${s}].checklist[${i}].id`,
      'checklist item',
    );
  });
  return issues;
}

function actionIssues(playbook: Playbook, registry: ActionRegistry): FieldIssue[] {
  const issues: FieldIssue[] = [];
  playbook.steps.forEach((step, s) => {
    step.actions.forEach((ref, a) => {
      const def = registry.get(ref.uses);
      const base = `steps[${s}].actions[${a}]`;
      if (!def) {
        issues.push({
          path: `${base}.uses`,
          message: `unknown action; known actions: ${registry.ids().join(', ')}`,
          value: showValue(ref.uses),
        });
        return;
      }
      const params = def.params.safeParse(ref.with);
      if (!params.success) issues.push(...zodIssues(params.error, ref.with, `${base}.with.`));
    });
  });
  return issues;
}

export interface PlaybookSet {
  playbooks: LoadedPlaybook[];
  errors: CodedError[];
}

/** Every .yaml/.yml file directly in `dir`; a bad file is reported and the rest still load. */
export async function loadPlaybooks(dir: string, registry: ActionRegistry): Promise<PlaybookSet> {
  let names: string[];
  try {
    // A ConfigMap volume holds its files as symlinks into a hidden `..data` directory: follow links
    // to files, and skip dot-entries (the volume's own bookkeeping).
    const entries = (await readdir(dir, { withFileTypes: true })).filter(
      (e) => !e.name.startsWith('.') && /\.ya?ml$/.test(e.name),
    );
    names = [];
    for (const e of entries) {
      if (e.isFile() || (e.isSymbolicLink() && (await isLinkToFile(join(dir, e.name))))) names.push(e.name);
    }
    names.sort();
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : String(err);
    return {
      playbooks: [],
      errors: [new CodedError('playbook_invalid', `playbook directory ${dir} ${why}`)],
    };
  }
  const set: PlaybookSet = { playbooks: [], errors: [] };
  const seen = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    try {
      const loaded = parsePlaybook(await readFile(file, 'utf8'), file, registry);
      const first = seen.get(loaded.playbook.id);
      if (first) {
        throw new CodedError(
          'playbook_invalid',
          `${file}: playbook id "${loaded.playbook.id}" is already used by ${first}`,
        );
      }
      seen.set(loaded.playbook.id, file);
      set.playbooks.push(loaded);
    } catch (err) {
      set.errors.push(
        err instanceof CodedError ? err : new CodedError('playbook_invalid', `${file}: ${String(err)}`),
      );
    }
  }
  if (set.playbooks.length === 0 && set.errors.length === 0) {
    set.errors.push(new CodedError('playbook_invalid', `no playbook (*.yaml) found in ${dir}`));
  }
  return set;
}

export interface MatchFacts {
  origin: AlertOrigin;
  namespace: string;
  destinationType: DestinationType;
  verdict: VerdictKind;
}

/** The playbook that handles an alert: the matching one with the lowest priority, then by file name. */
export function selectPlaybook(
  playbooks: readonly LoadedPlaybook[],
  facts: MatchFacts,
): LoadedPlaybook | undefined {
  const matching = playbooks.filter(({ playbook: { match } }) => {
    return (
      (!match.origin || match.origin.includes(facts.origin)) &&
      (!match.namespace || matchesAny(match.namespace, facts.namespace)) &&
      (!match.destination_type || match.destination_type.includes(facts.destinationType)) &&
      (!match.verdict || match.verdict.includes(facts.verdict))
    );
  });
  return matching.sort(
    (a, b) => a.playbook.priority - b.playbook.priority || a.file.localeCompare(b.file),
  )[0];
}

async function isLinkToFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return true; // a dangling link: let the read report it
  }
}
