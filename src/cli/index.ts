import { parseArgs } from 'node:util';
import { asCodedError, CodedError } from '../domain/errors.js';
import { drillCommand } from './drill.js';
import { type Io, processIo } from './io.js';
import { serveCommand } from './serve.js';
import { timelineCommand } from './timeline.js';
import { validateCommand } from './validate.js';

const usage = `egress-responder — incident-response playbooks for egress anomalies

Usage:
  egress-responder drill [<scenario>] [--config FILE] [--format md|json] [--cluster | --snapshot FILE]
                     a tabletop drill on the embedded store; every action dry-run (--cluster: KUBECONFIG, dryRun=All;
                     --snapshot: \`kubectl get … -o yaml\` output held in memory; neither, on the embedded
                     defaults: the example snapshot playbooks/drills/snapshots/prod.yaml)
  egress-responder drill --list                                           list drill scenarios
  egress-responder validate [--config FILE] [--playbooks DIR] [--contracts DIR] [--drills DIR] [--actions]
  egress-responder timeline <incident> [--format md|json] [--config FILE]  print a timeline from REDIS_URL
  egress-responder serve --config FILE                                    run the Slack bot and alert intake
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
      },
    });
    return drillCommand(
      {
        scenario: positionals[0],
        config: values.config,
        format: formatOf(values.format),
        list: values.list ?? false,
        cluster: values.cluster ?? false,
        ...(values.snapshot === undefined ? {} : { snapshot: values.snapshot }),
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
      },
    });
    return validateCommand({ ...values, actions: values.actions ?? false }, io);
  },
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
  async serve(argv, io) {
    const { values } = parseArgs({ args: argv, options: { config: { type: 'string' } } });
    return serveCommand({ config: values.config }, io);
  },
  async help(_argv, io) {
    io.out(usage);
    return 0;
  },
};

/** Entry point: returns the exit code; never throws (errors are printed without a stack trace). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const handler = commands[name === '--help' || name === '-h' ? 'help' : name];
  if (!handler) {
    io.err(`unknown command "${name}"\n\n${usage}`);
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
