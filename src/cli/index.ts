import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../config/paths.js';
import { asCodedError, CodedError } from '../domain/errors.js';
import { attestCommand } from './attest.js';
import { contractsCommand } from './contracts.js';
import { drillCommand } from './drill.js';
import { grantsCommand } from './grants.js';
import { type Io, processIo } from './io.js';
import { serveCommand } from './serve.js';
import { nearest } from './suggest.js';
import { timelineCommand } from './timeline.js';
import { validateCommand } from './validate.js';

const usage = `egress-responder — incident-response playbooks for egress anomalies

Usage:
  egress-responder drill [<scenario>] [--config FILE] [--format md|json] [--cluster | --snapshot FILE] [--interactive | --auto]
                     a tabletop drill on the embedded store; every action dry-run (--cluster: KUBECONFIG, dryRun=All;
                     --snapshot: \`kubectl get … -o yaml\` output held in memory; neither, on the embedded
                     defaults: the example snapshot playbooks/drills/snapshots/prod.yaml); --interactive: a
                     facilitator answers checklists, confirmations and approvals at the prompt (--auto: stand-ins)
  egress-responder drill --list                                           list drill scenarios
  egress-responder validate [--config FILE] [--playbooks DIR] [--contracts DIR] [--drills DIR] [--actions]
                     [--manifests DIR|FILE|-] [--app-label KEY] [--namespace NS] [--format text|json]
                     with --manifests: every Deployment/StatefulSet/DaemonSet/CronJob needs an egress contract
                     (exit 0 clean, 1 findings, 2 usage or unreadable manifests)
  egress-responder contracts render [--contracts DIR] [--out DIR] [--format yaml|json] [--fqdn cilium|cidrs] [--no-dns]
                     each egress contract as its egress NetworkPolicy, Cilium FQDN policy and Istio ALLOWs
  egress-responder attest [--namespace NS] [--contracts DIR] [--format text|json] [--fqdn cilium|cidrs] [--no-dns]
                     the live NetworkPolicies and AuthorizationPolicies (KUBECONFIG, read-only) against what the
                     contracts render: missing, extra, changed, and the egress allowed beyond each contract
  egress-responder timeline <incident> [--format md|json] [--config FILE]  print a timeline from REDIS_URL
  egress-responder grants list [--all] [--format text|json] [--config FILE]
                     break-glass grants from REDIS_URL (live ones; --all: ended ones too)
  egress-responder grants revoke <id> --reason TEXT [--config FILE]
                     end a grant now and remove its objects (KUBECONFIG), as cli:<os user>
  egress-responder serve --config FILE                                    run the Slack bot and alert intake
  egress-responder --version                                              print the version
  egress-responder help`;

type Handler = (argv: string[], io: Io) => Promise<number>;

function formatOf(value: string | undefined): 'md' | 'json' {
  if (value === undefined || value === 'md' || value === 'json') return value ?? 'md';
  throw new CodedError('command_invalid', `--format must be md or json, not "${value}"`);
}

// One row per subcommand: its options and what it runs.
const commands: Record<string, Handler> = {
  async drill(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        format: { type: 'string' },
        list: { type: 'boolean', default: false },
        cluster: { type: 'boolean', default: false },
        snapshot: { type: 'string' },
        interactive: { type: 'boolean', default: false },
        auto: { type: 'boolean', default: false },
      },
    });
    if (values.interactive && values.auto)
      throw new CodedError('command_invalid', '--interactive and --auto exclude each other');
    return drillCommand(
      {
        scenario: positionals[0],
        config: values.config,
        format: formatOf(values.format),
        list: values.list ?? false,
        cluster: values.cluster ?? false,
        ...(values.snapshot === undefined ? {} : { snapshot: values.snapshot }),
        interactive: values.interactive ?? false,
      },
      io,
    );
  },
  async validate(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        playbooks: { type: 'string' },
        contracts: { type: 'string' },
        drills: { type: 'string' },
        actions: { type: 'boolean', default: false },
        manifests: { type: 'string' },
        format: { type: 'string' },
        'app-label': { type: 'string' },
        namespace: { type: 'string' },
      },
    });
    const { format, 'app-label': appLabel, namespace, ...rest } = values;
    if (format !== undefined && format !== 'text' && format !== 'json')
      throw new CodedError('command_invalid', `--format must be text or json, not "${format}"`);
    return validateCommand(
      {
        ...rest,
        actions: values.actions ?? false,
        ...(format === undefined ? {} : { format }),
        ...(appLabel === undefined ? {} : { appLabel }),
        ...(namespace === undefined ? {} : { namespace }),
      },
      io,
    );
  },
  contracts: contractsCommand,
  attest: attestCommand,
  async timeline(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string' }, format: { type: 'string' } },
    });
    if (!positionals[0])
      throw new CodedError(
        'command_invalid',
        'usage: egress-responder timeline <incident> [--format md|json]',
      );
    return timelineCommand(
      { incident: positionals[0], format: formatOf(values.format), config: values.config },
      io,
    );
  },
  async grants(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        format: { type: 'string' },
        all: { type: 'boolean', default: false },
        reason: { type: 'string' },
      },
    });
    const [action, id, ...extra] = positionals;
    const usageOf = (what: string) =>
      new CodedError(
        'command_invalid',
        `${what}\nusage: egress-responder grants list [--all] [--format text|json] | grants revoke <id> --reason TEXT`,
      );
    if (action === 'list') {
      if (id !== undefined) throw usageOf(`grants list takes no argument (got "${id}")`);
      if (values.reason !== undefined) throw usageOf('--reason applies to grants revoke only');
      const format = values.format ?? 'text';
      if (format !== 'text' && format !== 'json')
        throw usageOf(`--format must be text or json, not "${format}"`);
      return grantsCommand({ action, all: values.all ?? false, format, config: values.config }, io);
    }
    if (action === 'revoke') {
      if (!id) throw usageOf('grants revoke needs the grant id');
      if (extra.length > 0) throw usageOf(`grants revoke takes one grant id (got also "${extra.join(' ')}")`);
      if (values.all || values.format !== undefined)
        throw usageOf('--all and --format apply to grants list only');
      if (!values.reason?.trim())
        throw usageOf('grants revoke needs --reason TEXT (it is recorded in the timeline)');
      return grantsCommand({ action, id, reason: values.reason, config: values.config }, io);
    }
    throw usageOf(
      action === undefined ? 'grants needs list or revoke' : `unknown grants command "${action}"`,
    );
  },
  async serve(argv, io) {
    const { values } = parseArgs({ args: argv, options: { config: { type: 'string' } } });
    return serveCommand({ config: values.config }, io);
  },
  async help(_argv, io) {
    io.out(usage);
    return 0;
  },
};

/** The version of the package this CLI runs from (src/ or dist/ alike). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** Entry point: returns the exit code; never throws (errors are printed without a stack trace). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name = 'help', ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(`egress-responder ${packageVersion()}`);
    return 0;
  }
  const key = name === '--help' || name === '-h' ? 'help' : name;
  // Own keys only: `constructor` or `__proto__` must be unknown commands, not Object.prototype's.
  const handler = Object.hasOwn(commands, key) ? commands[key] : undefined;
  if (!handler) {
    const guess = nearest(name, Object.keys(commands));
    const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
    io.err(
      `unknown command "${shown}"${guess ? `; did you mean ${guess}?` : ''}\n\n${guess ? 'run egress-responder help for every command' : usage}`,
    );
    return 2;
  }
  try {
    return await handler(rest, io);
  } catch (err) {
    // By its code, not `instanceof TypeError`: node:util's TypeError is another realm's under jest.
    const parseArgsCode = (err as { code?: unknown } | null)?.code;
    const coded =
      typeof parseArgsCode === 'string' && parseArgsCode.startsWith('ERR_PARSE_ARGS')
        ? new CodedError('command_invalid', (err as Error).message)
        : asCodedError(err);
    io.err(
      `egress-responder ${name}: ${coded.userSafe ? coded.describe() : `internal error: ${coded.message}`}`,
    );
    return coded.code === 'command_invalid' ? 2 : 1;
  }
}
