// Property-based fuzzing of the YAML loaders people write files for: playbooks (parsePlaybook),
// egress contracts (parseContract) and the config file (parseConfig). Arbitrary YAML-ish text and
// mutated versions of the shipped files give a loaded value or a CodedError naming the file and, per
// problem, the field or line:column. Never a TypeError, a stack trace or `internal`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { builtinActions } from '../../../src/actions/builtin/index.js';
import { k8sEvidenceActions } from '../../../src/actions/k8s/evidence/index.js';
import { k8sContainActions } from '../../../src/actions/k8s/index.js';
import { ActionRegistry } from '../../../src/actions/registry.js';
import { rotateActions } from '../../../src/actions/rotate/index.js';
import { parseConfig, readEnv } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/paths.js';
import { ConfigFile } from '../../../src/config/schema.js';
import { parseContract } from '../../../src/contracts/load.js';
import { EgressContract } from '../../../src/domain/contract.js';
import { CodedError } from '../../../src/domain/errors.js';
import { parsePlaybook } from '../../../src/playbooks/load.js';
import type { Playbook } from '../../../src/playbooks/schema.js';
import { nastyString, params, returnsOrRejectsPrecisely, yamlInputs, yamlishText } from './support.js';

// The registry the bot builds (src/main.ts createRegistry), from the same action lists.
const registry = new ActionRegistry([
  ...builtinActions,
  ...k8sContainActions,
  ...k8sEvidenceActions,
  ...rotateActions,
]);
const env = readEnv({});

const shipped = (rel: string) => readFileSync(join(packageRoot, rel), 'utf8');
const PLAYBOOK = shipped('playbooks/egress-anomaly.yaml');
const CONTRACTS = ['notification-service', 'orders-api', 'payments-api'].map((n) =>
  shipped(`playbooks/contracts/${n}.yaml`),
);
const CONFIG = shipped('deploy/base/config.yaml');

/** What a loaded playbook guarantees the engine: unique ids, known actions, positive durations. */
function checkPlaybook(playbook: Playbook): void {
  expect(playbook.steps.length).toBeGreaterThan(0);
  expect(new Set(playbook.steps.map((s) => s.id)).size).toBe(playbook.steps.length);
  for (const step of playbook.steps) {
    for (const action of step.actions) expect(registry.get(action.uses)).toBeDefined();
    // Not yet: finite (see the known bug below).
    if (step.sla !== undefined) expect(step.sla).toBeGreaterThan(0);
  }
}

/** The thrown error names its file first, as every loader message does. */
function checkRejection(file: string, fn: () => unknown, code: CodedError['code']): unknown {
  let thrown: CodedError | undefined;
  const result = returnsOrRejectsPrecisely(() => {
    try {
      return fn();
    } catch (err) {
      thrown = err as CodedError;
      throw err;
    }
  }, [code]);
  if (thrown) expect(thrown.message.startsWith(`${file}`)).toBe(true);
  return result;
}

describe('loader fuzzing', () => {
  it('the shipped files load as they are (the seeds are valid)', () => {
    expect(parsePlaybook(PLAYBOOK, 'egress-anomaly.yaml', registry).playbook.id).toBe('egress-anomaly');
    for (const text of CONTRACTS) expect(parseContract(text, 'c.yaml').contract.service).not.toBe('');
    expect(parseConfig(CONFIG, 'config.yaml', '/etc/egress-responder', env).slack?.incidentChannel).toBe(
      'C0123456',
    );
  });

  it('playbooks: mutated shipped playbook and YAML-ish text load or are rejected precisely', () => {
    const file = 'playbooks/fuzzed.yaml';
    fc.assert(
      fc.property(yamlInputs(PLAYBOOK), (text) => {
        const loaded = checkRejection(file, () => parsePlaybook(text, file, registry), 'playbook_invalid') as
          | ReturnType<typeof parsePlaybook>
          | undefined;
        if (loaded) checkPlaybook(loaded.playbook);
      }),
      params(),
    );
  });

  it('contracts: mutated shipped contracts and YAML-ish text load or are rejected precisely', () => {
    const file = 'contracts/fuzzed.yaml';
    fc.assert(
      fc.property(fc.constantFrom(...CONTRACTS).chain(yamlInputs), (text) => {
        const loaded = checkRejection(file, () => parseContract(text, file), 'contract_invalid') as
          | ReturnType<typeof parseContract>
          | undefined;
        if (loaded) expect(EgressContract.safeParse(loaded.contract).success).toBe(true);
      }),
      params(),
    );
  });

  it('config: mutated deploy/base/config.yaml and YAML-ish text load or are rejected precisely', () => {
    const file = 'config.yaml';
    fc.assert(
      fc.property(yamlInputs(CONFIG), (text) => {
        const config = checkRejection(
          file,
          () => parseConfig(text, file, '/etc/egress-responder', env),
          'config_invalid',
        ) as ReturnType<typeof parseConfig> | undefined;
        if (config) {
          const { playbooks, contracts, drills, source: _s, env: _e, ...rest } = config;
          for (const p of [playbooks, contracts, drills]) expect(p.startsWith('/')).toBe(true);
          expect(
            ConfigFile.safeParse({
              ...rest,
              intake: { ...rest.intake, retryWindow: '1s', requestTimeout: '1s' },
              engine: { resumeAfter: '1s', lockTtl: '1s', workEvery: '1s' },
              // Durations are read as text and kept as ms: written back as text for the round trip.
              breakglass: {
                ...rest.breakglass,
                requestTtl: '1s',
                reconcileEvery: '1s',
                maxDuration: { 'egress-exception': '1h', 'access-elevation': '1h' },
              },
              shutdown: { drain: '1s', grace: '1s' },
              redis: { ...rest.redis, waitTimeout: '100ms', commandTimeout: '1s' },
            }).success,
          ).toBe(true);
          for (const mode of Object.values(config.modes)) expect(['observe', 'soft', 'hard']).toContain(mode);
          expect(config.intake.retryWindow).toBeGreaterThan(0);
        }
      }),
      params(),
    );
  });

  it('environment: readEnv gives a runtime env or config_invalid naming each bad variable', () => {
    const value = fc.oneof(
      nastyString,
      fc.constantFrom(
        '0',
        '3000',
        '65535',
        '65536',
        '-1',
        '1e3',
        ' 80',
        '0x50',
        'info',
        'DEBUG',
        'https://slack.com/api/',
      ),
    );
    const names = [
      'PORT',
      'LOG_LEVEL',
      'SLACK_API_URL',
      'SLACK_BOT_TOKEN',
      'REDIS_URL',
      'KUBECONFIG',
      'constructor',
    ];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), value), (vars) => {
        const out = returnsOrRejectsPrecisely(() => readEnv(vars), ['config_invalid']);
        if (out) {
          expect(Number.isInteger(out.port) && out.port >= 0 && out.port <= 65535).toBe(true);
          // Secrets stay wrapped: what JSON shows of a token is the redaction, never the value.
          if (vars.SLACK_BOT_TOKEN) expect(JSON.stringify(out.slackBotToken)).toBe('"[redacted]"');
        }
      }),
      params(),
    );
  });

  it('any YAML-ish text, for all three: loaded or rejected precisely', () => {
    fc.assert(
      fc.property(yamlishText, (text) => {
        checkRejection('f.yaml', () => parsePlaybook(text, 'f.yaml', registry), 'playbook_invalid');
        checkRejection('f.yaml', () => parseContract(text, 'f.yaml'), 'contract_invalid');
        checkRejection('f.yaml', () => parseConfig(text, 'f.yaml', '/', env), 'config_invalid');
      }),
      params(),
    );
  });

  // Found by fuzzing: `sla: 99999999999999999999d` is 8.6e27 ms, past what a Date can hold (now + sla
  // was an invalid time), and 400 nines parsed to Infinity (JSON null in the store). Durations are
  // now capped at 366d.
  it('a step SLA too large for a Date is refused, naming the field', () => {
    const text = `id: p\ntitle: P\nmode: soft\nsteps:\n  - { id: a, title: A, sla: 99999999999999999999d }\n`;
    const err = thrownBy(() => parsePlaybook(text, 'p.yaml', registry));
    expect(err.describe()).toMatch(/steps\[0\]\.sla: expected a duration of at most 366d/);
  });

  it('an infinite intake.retryWindow is refused, naming the field', () => {
    const text = `intake: { retryWindow: ${'9'.repeat(400)}d }\n`;
    const err = thrownBy(() => parseConfig(text, 'c.yaml', '/', env));
    expect(err.describe()).toMatch(/intake\.retryWindow: expected a duration of at most 366d/);
  });
});

function thrownBy(fn: () => unknown): CodedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodedError) return err;
    throw err;
  }
  throw new Error('expected a CodedError');
}
