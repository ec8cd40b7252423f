import { z } from 'zod';
import { asCodedError, CodedError, showValue } from '../../../src/domain/errors.js';
import { zodIssues } from '../../../src/domain/zod-issues.js';

describe('coded errors', () => {
  it('describes each issue on its own line with path and value', () => {
    const err = new CodedError('alert_invalid', 'bad alert', {
      issues: [{ path: 'dst_port', message: 'expected a port number', value: '"abc"' }],
    });
    expect(err.describe()).toBe('bad alert\n  - dst_port: expected a port number (got "abc")');
  });

  it('wraps unknown throws as internal and not user-safe', () => {
    const err = asCodedError(new TypeError('boom'));
    expect(err.code).toBe('internal');
    expect(err.userSafe).toBe(false);
  });

  it('shortens huge values', () => {
    const shown = showValue('x'.repeat(10_000));
    expect(shown.length).toBeLessThan(120);
    expect(shown).toContain('10002 chars');
  });

  it('names unknown keys of strict objects one by one', () => {
    const schema = z.strictObject({ steps: z.array(z.strictObject({ id: z.string() })) });
    const input = { steps: [{ id: 'a' }, { id: 'b', uzes: 'x' }] };
    const res = schema.safeParse(input);
    expect(res.success).toBe(false);
    if (res.success) return;
    expect(zodIssues(res.error, input, 'playbook.yaml: ')).toEqual([
      { path: 'playbook.yaml: steps[1].uzes', message: 'unknown field (check the spelling)' },
    ]);
  });
});
