import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/builtin/index.js';
import { ActionRegistry } from '../../../src/actions/registry.js';
import { packageRoot } from '../../../src/config/paths.js';
import { CodedError } from '../../../src/domain/errors.js';
import { createRegistry } from '../../../src/main.js';
import {
  loadPlaybooks,
  parsePlaybook,
  playbookWarnings,
  selectPlaybook,
} from '../../../src/playbooks/load.js';

const registry = new ActionRegistry(builtinActions);

function issuesOf(yaml: string): string[] {
  try {
    parsePlaybook(yaml, 'bad.yaml', registry);
  } catch (err) {
    expect(err).toBeInstanceOf(CodedError);
    const coded = err as CodedError;
    expect(coded.code).toBe('playbook_invalid');
    expect(coded.message).toMatch(/^bad\.yaml:/);
    return coded.issues.map((i) => `${i.path}: ${i.message}${i.value ? ` (got ${i.value})` : ''}`);
  }
  throw new Error('expected the playbook to be rejected');
}

const head = 'id: p\ntitle: P\nmode: soft\n';

describe('playbook validation', () => {
  it('the shipped playbooks load without errors against the full registry', async () => {
    const set = await loadPlaybooks(join(packageRoot, 'playbooks'), createRegistry());
    expect(set.errors.map((e) => e.describe())).toEqual([]);
    expect(set.playbooks.map((p) => p.playbook.id)).toContain('egress-anomaly');
  });

  it('names an unknown action with its path and the known ones', () => {
    const [issue] = issuesOf(
      `${head}steps:\n  - id: a\n    title: A\n    actions:\n      - uses: k8s.quarntine\n`,
    );
    expect(issue).toMatch(
      /^steps\[0\]\.actions\[0\]\.uses: unknown action; known actions: .*triage\.contract-verdict.* \(got "k8s\.quarntine"\)$/,
    );
  });

  it('names an unknown or wrongly typed action parameter', () => {
    expect(
      issuesOf(
        `${head}steps:\n  - id: a\n    title: A\n    actions:\n      - uses: note.add\n        with: { txt: hi }\n`,
      ),
    ).toEqual([
      'steps[0].actions[0].with.text: Invalid input: expected string, received undefined (line 9)',
      'steps[0].actions[0].with.txt: unknown field (check the spelling) (line 9)',
    ]);
    expect(
      issuesOf(
        `${head}steps:\n  - id: a\n    title: A\n    actions:\n      - uses: timeline.export\n        with: { formats: [pdf] }\n`,
      ),
    ).toEqual([
      'steps[0].actions[0].with.formats[0]: Invalid option: expected one of "md"|"json" (line 9) (got "pdf")',
    ]);
  });

  it('rejects a typo in a safety gate instead of dropping it', () => {
    expect(issuesOf(`${head}steps:\n  - id: a\n    title: A\n    approvel: { count: 2 }\n`)).toEqual([
      'steps[0].approvel: unknown field (check the spelling) (line 7)',
    ]);
  });

  it('checks modes, durations, conditions and ids', () => {
    expect(
      issuesOf(
        'id: P!\ntitle: P\nmode: loud\nsteps:\n  - id: a\n    title: A\n    sla: soon\n    when: { verdict: [maybe] }\n',
      ),
    ).toEqual([
      'id: expected a lower-case id: letters, digits and dashes, at most 63 (line 1) (got "P!")',
      'mode: Invalid option: expected one of "observe"|"soft"|"hard" (line 3) (got "loud")',
      'steps[0].when.verdict[0]: Invalid option: expected one of "violation"|"allowed"|"no-contract" (line 8) (got "maybe")',
      'steps[0].sla: expected a duration such as 90s, 15m, 1h30m or 2d (line 7) (got "soon")',
    ]);
  });

  it('rejects duplicate step, action and checklist ids', () => {
    const yaml = `${head}steps:
  - id: a
    title: A
    actions: [{ uses: note.add, with: { text: x } }, { uses: note.add, with: { text: y } }]
    checklist: [{ id: c, text: one }, { id: c, text: two }]
  - id: a
    title: again
`;
    expect(issuesOf(yaml)).toEqual([
      'steps[1].id: duplicate step id (line 9) (got "a")',
      'steps[0].actions[1]: duplicate action (give it an `id:` to use the same action twice) id (line 7) (got "note.add")',
      'steps[0].checklist[1].id: duplicate checklist item id (line 8) (got "c")',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(issuesOf('id: p\nsteps: [\n')[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('a directory with one bad file still loads the good ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pb-'));
    await writeFile(join(dir, 'good.yaml'), `${head}steps:\n  - id: a\n    title: A\n`);
    await writeFile(join(dir, 'bad.yaml'), `${head}steps: []\n`);
    await writeFile(join(dir, 'dup.yml'), `${head}steps:\n  - id: a\n    title: A\n`);
    const set = await loadPlaybooks(dir, registry);
    expect(set.playbooks.map((p) => p.file)).toEqual([join(dir, 'dup.yml')]);
    expect(set.errors.map((e) => e.describe())).toEqual([
      `${join(dir, 'bad.yaml')}: invalid playbook\n  - steps: Too small: expected array to have >=1 items (line 4) (got [])`,
      `${join(dir, 'good.yaml')}: playbook id "p" is already used by ${join(dir, 'dup.yml')}`,
    ]);
  });

  it('selects the matching playbook with the lowest priority', () => {
    const a = parsePlaybook(
      `${head.replace('id: p', 'id: all')}steps:\n  - id: s\n    title: S\n`,
      'a.yaml',
      registry,
    );
    const b = parsePlaybook(
      `id: prod-ip\ntitle: B\nmode: hard\npriority: 10\nmatch: { namespace: ['prod*'], destination_type: [ip] }\nsteps:\n  - id: s\n    title: S\n`,
      'b.yaml',
      registry,
    );
    const facts = {
      origin: 'falcosidekick',
      namespace: 'prod-eu',
      destinationType: 'ip',
      verdict: 'violation',
    } as const;
    expect(selectPlaybook([a, b], facts)?.playbook.id).toBe('prod-ip');
    expect(selectPlaybook([a, b], { ...facts, destinationType: 'fqdn' })?.playbook.id).toBe('all');
  });
});

describe('step roles', () => {
  it('a role must be one of the known ones, and contain/rotate at most once per playbook', () => {
    const yaml = `${head}steps:
  - { id: a, title: A, role: contain }
  - { id: b, title: B, role: contain }
  - { id: c, title: C, role: quarantine }
`;
    const issues = issuesOf(yaml);
    expect(issues.some((i) => i.startsWith('steps[2].role:'))).toBe(true);
  });

  it('two contain steps are refused, naming the second and the first', () => {
    const issues = issuesOf(
      `${head}steps:\n  - { id: a, title: A, role: contain }\n  - { id: b, title: B, role: contain }\n`,
    );
    expect(issues).toEqual([
      'steps[1].role: a playbook has at most one contain step (the contain button and command run it); a already is one (line 6) (got "contain")',
    ]);
  });

  it('validate warns about buttons a playbook leaves without a step', () => {
    const loaded = parsePlaybook(
      `${head}steps:\n  - { id: a, title: A, role: triage }\n`,
      'p.yaml',
      registry,
    );
    expect(playbookWarnings(loaded)).toEqual([
      'p.yaml: no step has role contain: the Contain and Release buttons and /egress contain|release will refuse incidents of playbook p',
      'p.yaml: no step has role rotate: the Rotate button and /egress rotate will refuse incidents of playbook p',
    ]);
  });
});
