// Property-based fuzzing of the `/egress …` parser: any text a Slack user can type gives a command
// from the table, or CodedError('command_invalid') saying what was wrong. Never a TypeError.
import fc from 'fast-check';
import { type EgressCommand, parseEgressCommand, subcommands } from '../../../src/slack/commands.js';
import { NASTY_KEYS, nastyString, params, returnsOrRejectsPrecisely } from './support.js';

const names = Object.keys(subcommands);
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$/;

const word = fc.oneof(
  fc.constantFrom(...names),
  fc.constantFrom(...names).map((n) => n.toUpperCase()),
  fc.constantFrom(...NASTY_KEYS),
  fc.constantFrom('EGR-261125-ABCD', 'EGR-1X2', 'md', 'json', 'JSON', 'pdf', '<@U123>', '<!channel>', 'x'),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,70}$/),
  nastyString,
);
const space = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u3000', '\u200b', '\r\n');
const commandText = fc.oneof(
  fc.array(fc.tuple(word, space), { maxLength: 6 }).map((parts) => parts.map(([w, s]) => w + s).join('')),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

function checkCommand(cmd: EgressCommand): void {
  expect(Object.hasOwn(subcommands, cmd.name)).toBe(true);
  if ('id' in cmd && cmd.id !== undefined) expect(cmd.id).toMatch(ID);
  if (cmd.name === 'timeline') expect(['md', 'json']).toContain(cmd.format);
  if (cmd.name === 'note') expect(cmd.text).not.toBe('');
}

describe('/egress command fuzzing', () => {
  it('any text: a command from the table, or command_invalid', () => {
    fc.assert(
      fc.property(commandText, (text) => {
        const cmd = returnsOrRejectsPrecisely(() => parseEgressCommand(text), ['command_invalid']);
        if (cmd) checkCommand(cmd);
      }),
      params(),
    );
  });

  it('a subcommand named like an Object.prototype property is unknown, not a crash', () => {
    for (const name of [...NASTY_KEYS, 'CONSTRUCTOR', '__PROTO__', 'tostring', 'propertyIsEnumerable']) {
      if (name.trim() === '') continue;
      for (const text of [name, `${name} EGR-1X2`, `  ${name}\tx y`]) {
        expect(() => parseEgressCommand(text)).toThrow(expect.objectContaining({ code: 'command_invalid' }));
        expect(() => parseEgressCommand(text)).toThrow(/^unknown subcommand "/);
      }
    }
  });
});
