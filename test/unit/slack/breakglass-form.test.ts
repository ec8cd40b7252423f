import { CodedError } from '../../../src/domain/errors.js';
import { EgressExceptionSpec, GrantSpec } from '../../../src/domain/grant.js';
import { BG_BLOCKS } from '../../../src/slack/blocks/breakglass-modals.js';
import { ACTION_IDS } from '../../../src/slack/blocks/ids.js';
import {
  errorsFromService,
  onInputBlocks,
  parsePorts,
  parseRequestForm,
  parseSelector,
  parseSubjects,
} from '../../../src/slack/breakglass/form.js';
import { ViewSeal } from '../../../src/slack/breakglass/seal.js';

// The request modal's state → GrantRequestInput: the syntax people type, hostile shapes a forged
// payload can carry, and the service's field errors mapped back onto the blocks they belong to.

/** view.state.values as Slack sends it: text inputs carry `value`, selects and radios `selected_option`. */
function state(fields: Record<string, string | { option: string }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [block, v] of Object.entries(fields)) {
    const action = block === BG_BLOCKS.kind ? ACTION_IDS.breakglassKind : 'value';
    out[block] = {
      [action]:
        typeof v === 'string'
          ? { type: 'plain_text_input', value: v }
          : { type: 'static_select', selected_option: { value: v.option } },
    };
  }
  return out;
}

const ctx = { incidentId: 'inc-1', namespace: 'prod', kind: 'egress-exception' as const };
const egress = (over: Record<string, string | { option: string }> = {}) =>
  state({
    [BG_BLOCKS.kind]: { option: 'egress-exception' },
    [BG_BLOCKS.source]: { option: 'quarantined' },
    [BG_BLOCKS.destKind]: { option: 'cidr' },
    [BG_BLOCKS.dest]: '203.0.113.7/32',
    [BG_BLOCKS.ports]: '443/tcp, 53/UDP',
    [BG_BLOCKS.duration]: { option: '7200000' },
    [BG_BLOCKS.reason]: '  copy the dump  ',
    ...over,
  });

describe('the request form', () => {
  it('an egress exception reads into a spec the domain schema accepts', () => {
    const r = parseRequestForm(egress({ [BG_BLOCKS.ticket]: 'IR-7' }), ctx);
    expect(r).toEqual({
      ok: true,
      input: {
        incidentId: 'inc-1',
        spec: {
          kind: 'egress-exception',
          namespace: 'prod',
          source: { kind: 'quarantined' },
          destination: { kind: 'cidr', cidr: '203.0.113.7/32' },
          ports: [
            { port: 443, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
        },
        durationMs: 7_200_000,
        reason: 'copy the dump',
        ticket: 'IR-7',
      },
    });
    if (r.ok) expect(EgressExceptionSpec.safeParse(r.input.spec).success).toBe(true);
  });

  it('a selector source and a pods destination; an FQDN is lower-cased', () => {
    const r = parseRequestForm(
      egress({
        [BG_BLOCKS.source]: { option: 'selector' },
        [BG_BLOCKS.sourceSelector]: 'app=payments-api, tier=web',
        [BG_BLOCKS.destKind]: { option: 'pods' },
        [BG_BLOCKS.dest]: 'forensics/app=collector',
      }),
      ctx,
    );
    expect(r.ok && r.input.spec).toMatchObject({
      source: { kind: 'selector', podSelector: { app: 'payments-api', tier: 'web' } },
      destination: { kind: 'pods', namespace: 'forensics', podSelector: { app: 'collector' } },
    });
    const f = parseRequestForm(
      egress({ [BG_BLOCKS.destKind]: { option: 'fqdn' }, [BG_BLOCKS.dest]: 'Forensics.Example.COM.' }),
      ctx,
    );
    expect(f.ok && f.input.spec).toMatchObject({
      destination: { kind: 'fqdn', fqdn: 'forensics.example.com' },
    });
  });

  it('an access elevation reads subjects and the chosen role', () => {
    const r = parseRequestForm(
      state({
        [BG_BLOCKS.kind]: { option: 'access-elevation' },
        [BG_BLOCKS.subjects]: 'user:alice@example.com,  Group : ir-team',
        [BG_BLOCKS.role]: { option: 'egress-responder-forensics' },
        [BG_BLOCKS.duration]: { option: '3600000' },
        [BG_BLOCKS.reason]: 'read the logs',
      }),
      ctx,
    );
    expect(r.ok && r.input.spec).toEqual({
      kind: 'access-elevation',
      namespace: 'prod',
      subjects: [
        { kind: 'User', name: 'alice@example.com' },
        { kind: 'Group', name: 'ir-team' },
      ],
      clusterRole: 'egress-responder-forensics',
    });
    if (r.ok) expect(GrantSpec.safeParse(r.input.spec).success).toBe(true);
  });

  it('says precisely what is wrong, on the block it is about', () => {
    const r = parseRequestForm(
      egress({
        [BG_BLOCKS.sourceSelector]: 'app=x',
        [BG_BLOCKS.dest]: '',
        [BG_BLOCKS.ports]: '443/TCP, 99999, 53/ICMP',
        [BG_BLOCKS.reason]: '   ',
        [BG_BLOCKS.duration]: { option: 'forever' },
      }),
      ctx,
    );
    expect(r).toEqual({
      ok: false,
      errors: {
        [BG_BLOCKS.sourceSelector]: 'leave this empty, or choose "pods matching the selector" above',
        [BG_BLOCKS.dest]: 'where the path goes: a namespace (and selector), a CIDR or a host name',
        [BG_BLOCKS.ports]: '"99999" is not a port: write port/protocol such as 443/TCP (1 to 65535)',
        [BG_BLOCKS.reason]: 'a reason is required: it is kept in the timeline',
        [BG_BLOCKS.duration]: 'choose how long it lasts',
      },
    });
  });

  it('a huge reason is refused with its length, not cut', () => {
    const r = parseRequestForm(egress({ [BG_BLOCKS.reason]: 'x'.repeat(100_000) }), ctx);
    expect(r).toEqual({ ok: false, errors: { [BG_BLOCKS.reason]: '100000 characters: at most 2000' } });
  });

  it('hostile shapes: missing blocks, nulls, arrays, prototype names', () => {
    for (const values of [
      {},
      null,
      [],
      { __proto__: { bg_reason: { value: { value: 'x' } } } },
      { constructor: 1 },
    ]) {
      const r = parseRequestForm(values as Record<string, unknown>, ctx);
      expect(r.ok).toBe(false);
    }
    const weird = egress({ [BG_BLOCKS.kind]: { option: 'constructor' } });
    const r = parseRequestForm(weird, ctx);
    expect(r.ok && r.input.spec).toMatchObject({ kind: 'egress-exception' }); // unknown kind → the modal's own
  });

  it('selector terms keep odd keys as own keys (the service refuses them), never on the prototype', () => {
    const sel = parseSelector('__proto__=x, constructor=y');
    expect('value' in sel && Object.getPrototypeOf(sel.value)).toBe(Object.prototype);
    expect('value' in sel && Object.keys(sel.value)).toEqual(['__proto__', 'constructor']);
    expect(parseSelector('app')).toEqual({
      error: '"app" is not a label term: write key=value, comma-separated',
    });
    expect(parseSelector('a=1,a=2')).toEqual({ error: 'label "a" is given twice' });
    expect(parseSelector('a==1')).toMatchObject({ error: expect.stringContaining('not a label term') });
    expect(parseSelector('a!=1')).toMatchObject({ error: expect.stringContaining('not a label term') });
    expect(parseSelector('a=1,,b=2,')).toEqual({ value: { a: '1', b: '2' } });
  });

  it('ports and subjects', () => {
    expect(parsePorts('443')).toEqual({ value: [{ port: 443, protocol: 'TCP' }] });
    expect(parsePorts('8125 / sctp')).toEqual({ value: [{ port: 8125, protocol: 'SCTP' }] });
    expect(parsePorts('0/TCP')).toMatchObject({ error: expect.stringContaining('1 to 65535') });
    expect(parsePorts('')).toEqual({ error: 'at least one port, such as 443/TCP' });
    expect(parseSubjects('alice')).toEqual({
      error: '"alice": write User:NAME or Group:NAME, comma-separated',
    });
    expect(parseSubjects('ServiceAccount:x')).toMatchObject({ error: expect.stringContaining('User:NAME') });
  });
});

describe("the service's refusals on the form", () => {
  const refused = (issues: { path: string; message: string; value?: string }[]) =>
    new CodedError('action_params_invalid', 'the grant is not valid', { issues });

  it('puts each field issue under its block, in the service’s words', () => {
    const err = refused([
      {
        path: 'spec.destination.cidr',
        message: 'expected a CIDR such as 10.20.0.0/16',
        value: '"10.0.0.0/33"',
      },
      { path: 'spec.ports[1].port', message: 'too big' },
      { path: 'durationMs', message: 'at most 4h for an egress exception' },
      { path: 'spec.source.podSelector', message: 'bad label' },
    ]);
    expect(
      errorsFromService(err, 'the grant is not valid', { kind: 'egress-exception', sourceKind: 'selector' }),
    ).toEqual({
      [BG_BLOCKS.dest]: 'destination.cidr: expected a CIDR such as 10.20.0.0/16 (got "10.0.0.0/33")',
      [BG_BLOCKS.ports]: 'ports[1].port: too big',
      [BG_BLOCKS.duration]: 'durationMs: at most 4h for an egress exception',
      [BG_BLOCKS.sourceSelector]: 'source.podSelector: bad label',
    });
  });

  it('a field of the other kind, an unknown path, no issues or an internal error: under the kind', () => {
    const other = errorsFromService(refused([{ path: 'spec.clusterRole', message: 'not allowed' }]), 'x', {
      kind: 'egress-exception',
    });
    expect(other).toEqual({ [BG_BLOCKS.kind]: 'clusterRole: not allowed' });
    const plain = errorsFromService(
      new CodedError('not_authorized', 'it needs the responder role'),
      'it needs the responder role',
      {
        kind: 'egress-exception',
      },
    );
    expect(plain).toEqual({ [BG_BLOCKS.kind]: 'it needs the responder role' });
    const internal = errorsFromService(new Error('boom'), 'internal error (ref abc)', {
      kind: 'access-elevation',
    });
    expect(internal).toEqual({ [BG_BLOCKS.kind]: 'internal error (ref abc)' });
  });

  it('a refusal naming the source pods (not egress-isolated) goes under the source', () => {
    const err = new CodedError('request_refused', 'refused: payments-api-1 is not egress-isolated', {
      details: { pods: ['payments-api-1'] },
    });
    expect(errorsFromService(err, err.message, { kind: 'egress-exception', sourceKind: 'selector' })).toEqual(
      {
        [BG_BLOCKS.sourceSelector]: 'refused: payments-api-1 is not egress-isolated',
      },
    );
    expect(
      errorsFromService(err, err.message, { kind: 'egress-exception', sourceKind: 'quarantined' }),
    ).toEqual({
      [BG_BLOCKS.source]: 'refused: payments-api-1 is not egress-isolated',
    });
  });

  it('errors for blocks the view does not have move under the kind', () => {
    const blocks = [
      { type: 'input', block_id: BG_BLOCKS.kind },
      { type: 'input', block_id: BG_BLOCKS.reason },
      { type: 'section' },
    ];
    expect(
      onInputBlocks({ [BG_BLOCKS.role]: 'choose a role', [BG_BLOCKS.reason]: 'too long' }, blocks),
    ).toEqual({
      [BG_BLOCKS.kind]: 'choose a role',
      [BG_BLOCKS.reason]: 'too long',
    });
  });
});

describe('sealed private_metadata', () => {
  const seal = new ViewSeal('signing-secret');
  const sealed = seal.seal('review', 'U0AAA', { input: { incidentId: 'inc-1' } });

  it('opens for its purpose and the person it was opened for', () => {
    expect(seal.open('review', 'U0AAA', sealed)).toEqual({ input: { incidentId: 'inc-1' } });
    expect(new ViewSeal('signing-secret').open('review', 'U0AAA', sealed)).toBeDefined(); // another replica
  });

  it('does not open for someone else, another purpose, another key, or after any change', () => {
    expect(seal.open('review', 'U0BBB', sealed)).toBeUndefined();
    expect(seal.open('request', 'U0AAA', sealed)).toBeUndefined();
    expect(new ViewSeal('other-secret').open('review', 'U0AAA', sealed)).toBeUndefined();
    expect(seal.open('review', 'U0AAA', sealed.replace('inc-1', 'inc-2'))).toBeUndefined();
    const [mac, body] = [sealed.slice(0, sealed.indexOf('.')), sealed.slice(sealed.indexOf('.') + 1)];
    const forged = JSON.stringify({ ...JSON.parse(body), u: 'U0BBB' });
    expect(seal.open('review', 'U0BBB', `${mac}.${forged}`)).toBeUndefined();
    for (const junk of [undefined, '', '.', 'abc', `${mac}.`, `.${body}`, 42, { p: 'review' }]) {
      expect(seal.open('review', 'U0AAA', junk)).toBeUndefined();
    }
  });
});
