import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadContracts } from '../../../src/contracts/load.js';

const fixtures = fileURLToPath(new URL('../../fixtures/contracts/', import.meta.url));
const playbookContracts = fileURLToPath(new URL('../../../playbooks/contracts/', import.meta.url));

describe('loadContracts: a directory mixing good and bad files', () => {
  const dir = join(fixtures, 'mixed');

  it('loads the good files in name order, .yaml and .yml alike', async () => {
    const set = await loadContracts(dir);
    expect(set.contracts.map((c) => c.file)).toEqual([
      join(dir, 'a-payments.yaml'),
      join(dir, 'c-orders.yml'),
    ]);
    expect(set.contracts.map((c) => c.contract.service)).toEqual(['payments-api', 'orders-api']);
    expect(set.contracts[1]?.contract.allowed_internal).toEqual([
      { to_service: 'ledger-db', namespace: 'prod', ports: [5432], protocol: 'tcp' },
    ]);
  });

  it('reports each bad file with its name and the bad field, and ignores the rest', async () => {
    const set = await loadContracts(dir);
    // notes.txt (extension), .hidden.yaml (hidden) and nested/ (not recursive) are not read at all.
    expect(set.errors.map((e) => e.code)).toEqual([
      'contract_invalid',
      'contract_invalid',
      'contract_invalid',
    ]);
    const [typo, port, syntax] = set.errors;

    expect(typo?.message).toBe(`${join(dir, 'b-typo.yaml')}: invalid egress contract (1 problem)`);
    expect(typo?.issues).toEqual([
      { path: 'alowed_external', message: 'unknown field (check the spelling) (line 5)' },
    ]);

    expect(port?.message).toBe(`${join(dir, 'd-bad-port.yaml')}: invalid egress contract (1 problem)`);
    expect(port?.issues).toEqual([
      {
        path: 'allowed_internal[1].ports[0]',
        message: 'expected a port number from 1 to 65535 (line 7)',
        value: '70000',
      },
    ]);
    expect(port?.describe()).toBe(
      `${join(dir, 'd-bad-port.yaml')}: invalid egress contract (1 problem)\n` +
        '  - allowed_internal[1].ports[0]: expected a port number from 1 to 65535 (line 7) (got 70000)',
    );

    expect(syntax?.message).toMatch(/e-syntax\.yaml:3:\d+: not valid YAML: /);
    expect(syntax?.details).toMatchObject({ file: join(dir, 'e-syntax.yaml'), line: 3 });
  });
});

describe('loadContracts: duplicates', () => {
  const dir = join(fixtures, 'duplicate');

  it('keeps the first contract for a service and namespace and reports the second naming the first', async () => {
    const set = await loadContracts(dir);
    expect(set.contracts.map((c) => [c.file, c.contract.namespace])).toEqual([
      [join(dir, 'a-first.yaml'), 'prod'],
      [join(dir, 'c-staging.yaml'), 'staging'],
      [join(dir, 'd-any-namespace.yaml'), undefined],
    ]);
    expect(set.errors.map((e) => e.message)).toEqual([
      `${join(dir, 'b-second.yaml')}: duplicate egress contract for service payments-api in namespace prod: ` +
        `${join(dir, 'a-first.yaml')} already defines it, so this file was ignored.`,
      `${join(dir, 'e-any-namespace-again.yaml')}: duplicate egress contract for service payments-api for any namespace: ` +
        `${join(dir, 'd-any-namespace.yaml')} already defines it, so this file was ignored.`,
    ]);
    expect(set.errors[0]?.details).toEqual({
      file: join(dir, 'b-second.yaml'),
      duplicateOf: join(dir, 'a-first.yaml'),
      service: 'payments-api',
      namespace: 'prod',
    });
  });
});

describe('loadContracts: the directory itself', () => {
  it('reports a missing directory as one error instead of throwing', async () => {
    const dir = join(fixtures, 'does-not-exist');
    const set = await loadContracts(dir);
    expect(set.contracts).toEqual([]);
    expect(set.errors).toHaveLength(1);
    expect(set.errors[0]?.code).toBe('contract_invalid');
    expect(set.errors[0]?.message).toBe(`Contract directory ${dir} does not exist.`);
    expect(set.errors[0]?.details).toEqual({ dir });
  });

  it('reports a file given as the directory', async () => {
    const file = join(fixtures, 'mixed', 'a-payments.yaml');
    const set = await loadContracts(file);
    expect(set.contracts).toEqual([]);
    expect(set.errors.map((e) => e.message)).toEqual([`Contract directory ${file} is not a directory.`]);
  });

  describe('in a scratch directory', () => {
    let dir = '';
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'egress-contracts-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('returns nothing and no errors for an empty directory', async () => {
      expect(await loadContracts(dir)).toEqual({ contracts: [], errors: [] });
    });

    it('follows a symlink to a file and reports a dangling one', async () => {
      await writeFile(join(dir, 'real.yaml'), 'service: a\n');
      await symlink(join(dir, 'real.yaml'), join(dir, 'b-link.yaml'));
      await symlink(join(dir, 'missing.yaml'), join(dir, 'c-dangling.yaml'));
      const set = await loadContracts(dir);
      expect(set.contracts.map((c) => c.file)).toEqual([join(dir, 'b-link.yaml')]);
      expect(set.errors.map((e) => e.message)).toEqual([
        `${join(dir, 'c-dangling.yaml')}: cannot read the file: it does not exist (ENOENT)`,
        `${join(dir, 'real.yaml')}: duplicate egress contract for service a for any namespace: ` +
          `${join(dir, 'b-link.yaml')} already defines it, so this file was ignored.`,
      ]);
    });
  });
});

describe('the shipped example contracts', () => {
  it('load with zero errors', async () => {
    const set = await loadContracts(playbookContracts);
    expect(set.errors.map((e) => e.describe())).toEqual([]);
    expect(set.contracts.map((c) => `${c.contract.service}.${c.contract.namespace}`)).toEqual([
      'notification-service.prod',
      'orders-api.prod',
      'payments-api.prod',
    ]);
  });

  it('include payments-api exactly as the drills expect', async () => {
    const set = await loadContracts(playbookContracts);
    const payments = set.contracts.find((c) => c.contract.service === 'payments-api');
    expect(payments?.contract).toEqual({
      service: 'payments-api',
      namespace: 'prod',
      identity: { k8s_service_account: 'payments-api' },
      allowed_internal: [
        { to_service: 'orders-api', namespace: 'prod', ports: [443], protocol: 'https' },
        { to_service: 'ledger-db', namespace: 'prod', ports: [5432], protocol: 'tcp' },
      ],
      allowed_external: [{ to_fqdn: 'api.stripe.com', ports: [443], protocol: 'https' }],
      requirements: { mtls: 'required', authz_policy: 'required', audit_logs: 'required' },
      metadata: { owner_team: 'payments', change_ticket: 'SEC-4821', review_interval_days: 90 },
    });
  });
});
