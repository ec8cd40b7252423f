import { parseEgressCommand } from '../../../src/slack/commands.js';

describe('/egress command parsing', () => {
  it.each([
    ['', { name: 'help' }],
    ['help', { name: 'help' }],
    ['status', { name: 'status' }],
    ['STATUS EGR-261125-ABCD', { name: 'status', id: 'EGR-261125-ABCD' }],
    ['ack EGR-1X2', { name: 'ack', id: 'EGR-1X2' }],
    ['rotate EGR-1X2 vault', { name: 'rotate', id: 'EGR-1X2', hook: 'vault' }],
    ['note EGR-1X2   saw   it <!channel>', { name: 'note', id: 'EGR-1X2', text: 'saw   it <!channel>' }],
    ['timeline EGR-1X2 json', { name: 'timeline', id: 'EGR-1X2', format: 'json' }],
    ['timeline EGR-1X2', { name: 'timeline', id: 'EGR-1X2', format: 'md' }],
    ['close EGR-1X2 false positive', { name: 'close', id: 'EGR-1X2', reason: 'false positive' }],
    ['close EGR-1X2', { name: 'close', id: 'EGR-1X2', reason: 'closed' }],
    ['drill exfil-unknown-fqdn', { name: 'drill', scenario: 'exfil-unknown-fqdn' }],
    ['drill', { name: 'drill' }],
    ['breakglass EGR-1X2', { name: 'breakglass', id: 'EGR-1X2' }],
    ['breakglass', { name: 'breakglass' }],
    ['grants', { name: 'grants', all: false }],
    ['grants ALL', { name: 'grants', all: true }],
  ])('%j', (text, expected) => expect(parseEgressCommand(text)).toEqual(expected));

  it.each([
    ['frobnicate', /^unknown subcommand "frobnicate". Try one of: help, status, ack/],
    ['ack', /^an incident id is missing. Usage: `\/egress ack <id>`$/],
    ['ack <@U123>', /is not an incident id/],
    ['note EGR-1X2', /the note text is missing/],
    ['timeline EGR-1X2 pdf', /^format must be md or json, not "pdf"$/],
    ['drill a b', /one scenario at a time/],
    ['breakglass ..', /^"\.\." is not an incident id/],
    ['breakglass ../../etc/passwd', /is not an incident id/],
    ['breakglass EGR-1X2 extra', /^one incident id only/],
    ['grants constructor', /usage `\/egress grants \[all\]`/],
    ['grants all of them', /usage `\/egress grants \[all\]`/],
  ])('%j is refused with a helpful message', (text, message) => {
    expect(() => parseEgressCommand(text)).toThrow(message);
  });
});
