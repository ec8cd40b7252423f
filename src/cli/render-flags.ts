import type { z } from 'zod';
import { RenderOptions } from '../contracts/render-options.js';
import { CodedError } from '../domain/errors.js';

// The flags that say how contracts render, shared by `contracts render` and `attest` so both
// render the same objects from the same contract.

export const renderFlagOptions = {
  fqdn: { type: 'string' },
  'no-dns': { type: 'boolean', default: false },
  'app-label': { type: 'string' },
  'trust-domain': { type: 'string' },
} as const;

export interface RenderFlagValues {
  fqdn?: string | undefined;
  'no-dns'?: boolean | undefined;
  'app-label'?: string | undefined;
  'trust-domain'?: string | undefined;
}

const FLAG_OF: Record<string, string> = {
  fqdn: '--fqdn',
  dns: '--no-dns',
  appLabel: '--app-label',
  trustDomain: '--trust-domain',
};

export function renderOptionsFrom(values: RenderFlagValues): RenderOptions {
  const res = RenderOptions.safeParse({
    ...(values.fqdn === undefined ? {} : { fqdn: values.fqdn }),
    dns: !values['no-dns'],
    ...(values['app-label'] === undefined ? {} : { appLabel: values['app-label'] }),
    ...(values['trust-domain'] === undefined ? {} : { trustDomain: values['trust-domain'] }),
  });
  if (res.success) return res.data;
  const issue = res.error.issues[0] as z.core.$ZodIssue;
  const flag = FLAG_OF[String(issue.path[0])] ?? String(issue.path[0]);
  throw new CodedError('command_invalid', `${flag}: ${issue.message}`);
}

/** A path argument: refused when it climbs with `..` (CI templates paths; nothing is read or written above). */
export function checkedPath(flag: string, value: string): string {
  if (value.split(/[\\/]/).includes('..'))
    throw new CodedError(
      'command_invalid',
      `${flag} "${value}": a path with '..' segments is refused; give a path inside the working directory or an absolute one`,
    );
  return value;
}
