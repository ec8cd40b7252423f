import { CodedError } from '../domain/errors.js';
import { timelineFormats } from '../timeline/export.js';

// `/egress …` parsed into a command. Pure: a table of subcommands, each with its usage line, so help,
// errors and parsing cannot drift apart.

export type EgressCommand =
  | { name: 'help' }
  | { name: 'status'; id?: string }
  | { name: 'ack'; id: string }
  | { name: 'contain'; id: string }
  | { name: 'release'; id: string }
  | { name: 'rotate'; id: string; hook?: string }
  | { name: 'note'; id: string; text: string }
  | { name: 'timeline'; id: string; format: 'md' | 'json' }
  | { name: 'close'; id: string; reason: string }
  | { name: 'breakglass'; id?: string }
  | { name: 'grants'; all: boolean }
  | { name: 'drill'; scenario?: string };

interface Spec {
  usage: string;
  description: string;
  parse(args: string[], rest: (from: number) => string): EgressCommand;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$/;

function id(args: string[], usage: string): string {
  const value = args[0];
  if (!value) throw new CodedError('command_invalid', `an incident id is missing. Usage: \`${usage}\``);
  if (!ID.test(value))
    throw new CodedError(
      'command_invalid',
      `"${value.slice(0, 70)}" is not an incident id. Usage: \`${usage}\``,
    );
  return value;
}

export const subcommands: Record<EgressCommand['name'], Spec> = {
  help: { usage: '/egress help', description: 'this list', parse: () => ({ name: 'help' }) },
  status: {
    usage: '/egress status [id]',
    description: 'one incident, or every open incident',
    parse: (a) => (a[0] ? { name: 'status', id: id(a, '/egress status [id]') } : { name: 'status' }),
  },
  ack: {
    usage: '/egress ack <id>',
    description: 'take command of an incident',
    parse: (a) => ({ name: 'ack', id: id(a, '/egress ack <id>') }),
  },
  contain: {
    usage: '/egress contain <id>',
    description: 'preview containment, then confirm it',
    parse: (a) => ({ name: 'contain', id: id(a, '/egress contain <id>') }),
  },
  release: {
    usage: '/egress release <id>',
    description: 'undo containment (needs an approver)',
    parse: (a) => ({ name: 'release', id: id(a, '/egress release <id>') }),
  },
  rotate: {
    usage: '/egress rotate <id> [hook]',
    description: 'run the rotation step, or one rotation hook',
    parse: (a) => {
      const cmd: EgressCommand = { name: 'rotate', id: id(a, '/egress rotate <id> [hook]') };
      return a[1] ? { ...cmd, hook: a[1] } : cmd;
    },
  },
  note: {
    usage: '/egress note <id> <text>',
    description: 'add a note to the timeline',
    parse: (a, rest) => {
      const text = rest(1);
      if (!text)
        throw new CodedError(
          'command_invalid',
          'the note text is missing. Usage: `/egress note <id> <text>`',
        );
      return { name: 'note', id: id(a, '/egress note <id> <text>'), text };
    },
  },
  timeline: {
    usage: '/egress timeline <id> [md|json]',
    description: 'the timeline, as Markdown or JSON',
    parse: (a) => {
      const format = (a[1] ?? 'md').toLowerCase();
      if (!(timelineFormats as readonly string[]).includes(format)) {
        throw new CodedError('command_invalid', `format must be md or json, not "${format.slice(0, 20)}"`);
      }
      return {
        name: 'timeline',
        id: id(a, '/egress timeline <id> [md|json]'),
        format: format as 'md' | 'json',
      };
    },
  },
  breakglass: {
    usage: '/egress breakglass <id>',
    description: 'ask for a time-bound, two-person-approved exception (opens a form)',
    parse: (a) => {
      if (a.length > 1)
        throw new CodedError('command_invalid', 'one incident id only. Usage: `/egress breakglass <id>`');
      return a[0] ? { name: 'breakglass', id: id(a, '/egress breakglass <id>') } : { name: 'breakglass' };
    },
  },
  grants: {
    usage: '/egress grants [all]',
    description: 'live break-glass grants and their time left (all: with recently ended ones)',
    parse: (a) => {
      const what = a[0]?.toLowerCase();
      if (a.length > 1 || (what !== undefined && what !== 'all'))
        throw new CodedError(
          'command_invalid',
          `"${a.join(' ').slice(0, 40)}": usage \`/egress grants [all]\``,
        );
      return { name: 'grants', all: what === 'all' };
    },
  },
  drill: {
    usage: '/egress drill [scenario]',
    description: 'start a tabletop drill (alone: pick a scenario); every change is a dry-run',
    parse: (a) => {
      if (a.length > 1)
        throw new CodedError('command_invalid', 'one scenario at a time. Usage: `/egress drill [scenario]`');
      return a[0] ? { name: 'drill', scenario: a[0] } : { name: 'drill' };
    },
  },
  close: {
    usage: '/egress close <id> [reason]',
    description: 'close an incident',
    parse: (a, rest) => ({
      name: 'close',
      id: id(a, '/egress close <id> [reason]'),
      reason: rest(1) || 'closed',
    }),
  },
};

export function parseEgressCommand(text: string): EgressCommand {
  const trimmed = text.trim();
  const words = trimmed.split(/\s+/).filter(Boolean);
  const [name = 'help', ...args] = words;
  // Own keys only: `/egress constructor` must not find Object.prototype.constructor.
  const key = name.toLowerCase();
  const spec = Object.hasOwn(subcommands, key) ? subcommands[key as EgressCommand['name']] : undefined;
  if (!spec) {
    throw new CodedError(
      'command_invalid',
      `unknown subcommand "${name.slice(0, 40)}". Try one of: ${Object.keys(subcommands).join(', ')} (\`/egress help\`).`,
    );
  }
  // `rest(n)`: the original text after the n-th argument, spacing kept (notes are prose).
  const rest = (from: number) => {
    let remaining = trimmed.slice(name.length).trimStart();
    for (let i = 0; i < from; i++) remaining = remaining.slice((args[i] ?? '').length).trimStart();
    return remaining;
  };
  return spec.parse(args, rest);
}
