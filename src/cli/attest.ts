import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { attestInCluster } from '../actions/k8s/attest/read.js';
import { attestationReport } from '../actions/k8s/attest/report.js';
import { loadConfig } from '../config/load.js';
import { loadContracts } from '../contracts/load.js';
import { renderContracts } from '../contracts/render.js';
import type { RenderOptions } from '../contracts/render-options.js';
import { CodedError } from '../domain/errors.js';
import { createClusterIfConfigured } from '../main.js';
import { silentLogger } from '../observability/logger.js';
import type { Io } from './io.js';
import { checkedPath, renderFlagOptions, renderOptionsFrom } from './render-flags.js';

// `egress-responder attest`: the live NetworkPolicies, AuthorizationPolicies and Cilium policies
// (KUBECONFIG, read-only) against what the contracts render. Exit 0 clean, 1 drift or unreadable
// contracts, 2 usage. The text report is meant to be kept as evidence; --format json for machines.

const USAGE =
  'usage: egress-responder attest [--namespace NS] [--contracts DIR] [--format text|json] [--fqdn cilium|cidrs] [--no-dns] [--app-label KEY] [--trust-domain DOMAIN] [--config FILE]';

const describeOptions = (o: RenderOptions) =>
  `fqdn ${o.fqdn}, dns ${o.dns ? 'on' : 'off'}, app label ${o.appLabel}, trust domain ${o.trustDomain}`;

export async function attestCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      contracts: { type: 'string' },
      namespace: { type: 'string' },
      format: { type: 'string' },
      ...renderFlagOptions,
    },
  });
  if (positionals.length > 0)
    throw new CodedError(
      'command_invalid',
      `attest takes no argument (got "${positionals.join(' ')}")\n${USAGE}`,
    );
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new CodedError('command_invalid', `--format must be text or json, not "${format}"\n${USAGE}`);
  if (values.namespace !== undefined && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(values.namespace))
    throw new CodedError(
      'command_invalid',
      `--namespace "${values.namespace}": expected a Kubernetes namespace name`,
    );
  const opts = renderOptionsFrom(values);
  const config = await loadConfig(io.env, values.config);
  const dir = values.contracts ? resolve(checkedPath('--contracts', values.contracts)) : config.contracts;
  const cluster = await createClusterIfConfigured(config, silentLogger());
  if (!cluster)
    throw new CodedError('command_invalid', 'attest reads the cluster: set KUBECONFIG (or run it in a pod)');

  const set = await loadContracts(dir);
  const inScope = set.contracts.filter(
    (c) => values.namespace === undefined || c.contract.namespace === values.namespace,
  );
  if (inScope.length === 0 && set.errors.length === 0)
    throw new CodedError(
      'command_invalid',
      values.namespace === undefined
        ? `no egress contract in ${dir}: nothing to attest`
        : `no egress contract in ${dir} names namespace ${values.namespace}: nothing to attest`,
    );
  const renders = renderContracts(inScope, opts);
  const skipped = renders.flatMap((r) => r.problems.map((p) => `${r.file}: ${p}`));
  const results = await attestInCluster(cluster, renders, opts.appLabel);
  for (const err of set.errors) io.err(`error ${err.describe()}`);
  const at = new Date().toISOString();
  if (format === 'json') {
    io.out(
      JSON.stringify({ cluster: cluster.name, at, contracts: dir, options: opts, skipped, results }, null, 2),
    );
  } else {
    io.out(
      attestationReport(results, {
        cluster: cluster.name,
        at,
        contracts: dir,
        options: describeOptions(opts),
        skipped,
      }),
    );
  }
  const drift = results.some((r) => r.status === 'drift');
  return drift || set.errors.length > 0 ? 1 : 0;
}
