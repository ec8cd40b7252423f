// The default drill on the embedded defaults shows the triage attestation line against the example
// snapshot: its hand-written payments policy allows part of what the contract says, the contract's
// own policy is not there, and the snapshot serves no Istio.
import { main } from '../../../src/cli/index.js';
import type { Io } from '../../../src/cli/io.js';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), env: {} };
}

it('drill exfil-unknown-fqdn: the triage step says whether payments-api’s live policies match its contract', async () => {
  const io = capture();
  expect(await main(['drill', 'exfil-unknown-fqdn'], io)).toBe(0);
  const out = io.stdout.join('\n');
  expect(out).toContain(
    'triage.contract-attestation done: Contract attestation: payments-api in prod drifts from its contract (payments-api.yaml): missing NetworkPolicy prod/egress-contract-payments-api; not-served AuthorizationPolicy prod/egress-contract-orders-api-from-prod-payments-api',
  );
  // The snapshot's own policy lets the pods reach DNS and orders-api, nothing beyond the contract;
  // ledger-db, which the contract allows, it does not.
  expect(out).toContain('allowed by the contract but not by the cluster: TCP/5432 to ns prod: app=ledger-db');
  expect(out).not.toContain('the cluster allows beyond the contract');
  expect(out).toContain('Drill scorecard: exfil-unknown-fqdn — PASSED (score 100/100)');
});
