import { randomBytes } from 'node:crypto';
import { matchesAny } from '../domain/glob.js';
import type { Mode } from '../domain/incident.js';
import { isoAt } from '../observability/clock.js';

/** The playbook id of an incident no playbook matched. */
export const EMPTY_PLAYBOOK_ID = '(none)';

/**
 * EGR-251125-7KQ2MX: date for people, six base32 characters (about 10^9 a day) for uniqueness; the
 * rare collision is retried with a fresh id when the incident is created.
 */
export function newIncidentId(now: number): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const date = isoAt(now).slice(2, 10).replaceAll('-', '');
  const suffix = [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
  return `EGR-${date}-${suffix}`;
}

/** The mode for a namespace: an exact override, else the first glob override that matches, else the playbook's. */
export function modeFor(
  namespace: string,
  playbookMode: Mode,
  overrides: Readonly<Record<string, Mode>>,
): Mode {
  // Own keys only: a namespace called `constructor` must not find Object.prototype.constructor.
  if (Object.hasOwn(overrides, namespace)) return overrides[namespace]!;
  const glob = Object.keys(overrides).find((k) => k.includes('*') && matchesAny([k], namespace));
  return glob ? overrides[glob]! : playbookMode;
}
