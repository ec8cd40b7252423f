import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { coverageFindings, type Finding, reviewFindings, unlabelled } from '../contracts/coverage.js';
import { loadContracts } from '../contracts/load.js';
import type { ManifestProblem } from '../contracts/manifests.js';
import { loadScenarios } from '../drills/scenario.js';
import { createRegistry } from '../main.js';
import { loadPlaybooks, playbookWarnings } from '../playbooks/load.js';
import type { Io } from './io.js';
import { readManifestSource } from './manifest-files.js';
import { checkedPath } from './render-flags.js';

export interface ValidateArgs {
  config?: string;
  playbooks?: string;
  contracts?: string;
  drills?: string;
  actions: boolean;
  /** A file, a directory or `-` (stdin): every workload in it needs an egress contract. */
  manifests?: string;
  format?: 'text' | 'json';
  /** The label naming a workload's service (default `app`). */
  appLabel?: string;
  /** The namespace of manifests that name none (default `default`). */
  namespace?: string;
}

/**
 * Policy-as-code check for CI: every playbook, contract and drill scenario, no contract past its
 * review, and with --manifests every workload covered by a contract. Exit 0 clean, 1 on any error
 * or finding, 2 when the manifests cannot be read (as for a usage error: nothing was checked).
 */
export async function validateCommand(args: ValidateArgs, io: Io): Promise<number> {
  const config = await loadConfig(io.env, args.config);
  const registry = createRegistry();
  const json = args.format === 'json';
  if (args.actions && !json) {
    io.out('Registered actions:');
    for (const def of registry.list()) {
      io.out(
        `  ${def.id.padEnd(26)} ${def.destructive ? 'destructive ' : ''}${def.needsCluster ? 'needs-cluster ' : ''}— ${def.description}`,
      );
      io.out(
        `  ${''.padEnd(26)} e.g. - uses: ${def.id}${Object.keys(def.example).length > 0 ? ` with: ${JSON.stringify(def.example)}` : ''}`,
      );
    }
  }
  const dirs = {
    playbooks: args.playbooks ? resolve(args.playbooks) : config.playbooks,
    contracts: args.contracts ? resolve(checkedPath('--contracts', args.contracts)) : config.contracts,
    drills: args.drills ? resolve(args.drills) : config.drills,
  };
  const appLabel = args.appLabel ?? 'app';
  const [pb, ct, dr, manifests] = await Promise.all([
    loadPlaybooks(dirs.playbooks, registry),
    loadContracts(dirs.contracts),
    // Each drill alert goes through the real intake, with this config's Alertmanager label mapping.
    loadScenarios(dirs.drills, {
      maxAlerts: config.intake.maxAlertsPerRequest,
      ...(config.intake.alertmanagerLabels ? { alertmanagerLabels: config.intake.alertmanagerLabels } : {}),
    }),
    args.manifests === undefined
      ? undefined
      : readManifestSource(
          args.manifests === '-' ? '-' : checkedPath('--manifests', args.manifests),
          { appLabel, defaultNamespace: args.namespace ?? 'default' },
          io,
        ),
  ]);
  const errors = [...pb.errors, ...ct.errors, ...dr.errors];
  const warnings = [
    ...pb.playbooks.flatMap(playbookWarnings),
    ...(manifests ? unlabelled(manifests.workloads, appLabel) : []),
  ];
  const findings: Finding[] = [
    ...reviewFindings(ct.contracts, Date.now()),
    ...(manifests ? coverageFindings(manifests.workloads, ct.contracts) : []),
  ];
  const unreadable: ManifestProblem[] = manifests?.problems ?? [];
  const code = unreadable.length > 0 ? 2 : errors.length + findings.length > 0 ? 1 : 0;

  if (json) {
    io.out(
      JSON.stringify(
        {
          ok: code === 0,
          playbooks: pb.playbooks.map((p) => ({ id: p.playbook.id, file: p.file })),
          contracts: ct.contracts.map((c) => ({
            service: c.contract.service,
            namespace: c.contract.namespace ?? null,
            file: c.file,
          })),
          drills: dr.scenarios.map((s) => ({ id: s.scenario.id, file: s.file })),
          workloads: manifests?.workloads.length ?? null,
          errors: errors.map((e) => e.describe()),
          warnings,
          findings,
          unreadable,
        },
        null,
        2,
      ),
    );
    return code;
  }
  for (const p of pb.playbooks)
    io.out(
      `ok  playbook ${p.playbook.id} (${p.file}): ${p.playbook.steps.length} steps, ${p.playbook.mode} mode`,
    );
  for (const c of ct.contracts) io.out(`ok  contract ${c.contract.service} (${c.file})`);
  for (const s of dr.scenarios) io.out(`ok  drill ${s.scenario.id} (${s.file})`);
  for (const w of warnings) io.out(`warn ${w}`);
  for (const err of errors) io.err(`error ${err.describe()}`);
  for (const f of findings) io.err(`error ${f.message}`);
  for (const p of unreadable) io.err(`error ${p.file}:${p.line}:${p.column}: ${p.message}`);
  const manifestPart = manifests
    ? `, ${manifests.workloads.length} workload(s) in manifests, ${unreadable.length} unreadable document(s)`
    : '';
  io.out(
    `${pb.playbooks.length} playbook(s), ${ct.contracts.length} contract(s), ${dr.scenarios.length} drill(s)${manifestPart}; ${errors.length + findings.length} error(s), ${warnings.length} warning(s)`,
  );
  return code;
}
