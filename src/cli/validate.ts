import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { loadContracts } from '../contracts/load.js';
import { loadScenarios } from '../drills/scenario.js';
import { createRegistry } from '../main.js';
import { loadPlaybooks, playbookWarnings } from '../playbooks/load.js';
import type { Io } from './io.js';

export interface ValidateArgs {
  config?: string;
  playbooks?: string;
  contracts?: string;
  drills?: string;
  actions: boolean;
}

/** Policy-as-code check for CI: every playbook, contract and drill scenario; exit 1 on any error. */
export async function validateCommand(args: ValidateArgs, io: Io): Promise<number> {
  const config = await loadConfig(io.env, args.config);
  const registry = createRegistry();
  if (args.actions) {
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
    contracts: args.contracts ? resolve(args.contracts) : config.contracts,
    drills: args.drills ? resolve(args.drills) : config.drills,
  };
  const [pb, ct, dr] = await Promise.all([
    loadPlaybooks(dirs.playbooks, registry),
    loadContracts(dirs.contracts),
    // Each drill alert goes through the real intake, with this config's Alertmanager label mapping.
    loadScenarios(dirs.drills, {
      maxAlerts: config.intake.maxAlertsPerRequest,
      ...(config.intake.alertmanagerLabels ? { alertmanagerLabels: config.intake.alertmanagerLabels } : {}),
    }),
  ]);
  const errors = [...pb.errors, ...ct.errors, ...dr.errors];
  for (const p of pb.playbooks)
    io.out(
      `ok  playbook ${p.playbook.id} (${p.file}): ${p.playbook.steps.length} steps, ${p.playbook.mode} mode`,
    );
  for (const c of ct.contracts) io.out(`ok  contract ${c.contract.service} (${c.file})`);
  for (const s of dr.scenarios) io.out(`ok  drill ${s.scenario.id} (${s.file})`);
  const warnings = pb.playbooks.flatMap(playbookWarnings);
  for (const w of warnings) io.out(`warn ${w}`);
  for (const err of errors) io.err(`error ${err.describe()}`);
  io.out(
    `${pb.playbooks.length} playbook(s), ${ct.contracts.length} contract(s), ${dr.scenarios.length} drill(s); ${errors.length} error(s), ${warnings.length} warning(s)`,
  );
  return errors.length > 0 ? 1 : 0;
}
