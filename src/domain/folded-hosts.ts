import type { FoldedHosts } from './incident.js';

/** Longest host shown in a sample line (names may be up to 1 024 characters). */
const SHOWN_HOST_CHARS = 80;

function shown(host: string): string {
  return host.length <= SHOWN_HOST_CHARS ? host : `${host.slice(0, SHOWN_HOST_CHARS - 1)}…`;
}

/**
 * What the Slack root message and the drill print about an incident's distinct hosts:
 * `2000 distinct hosts folded (registrable domain tunnel-example.net): 0.x7f.tunnel-example.net, …`.
 * `+` after the count when the store stopped counting at its cap (a lower bound). Undefined for an
 * incident of one host fingerprinted by host (nothing was folded by domain). Plain text: renderers
 * escape it for their medium.
 */
export function foldedHostsLine(hosts: FoldedHosts | undefined): string | undefined {
  if (!hosts || (hosts.count <= 1 && hosts.domain === undefined)) return undefined;
  const n = `${hosts.count}${hosts.capped ? '+' : ''}`;
  const what = `${n} distinct host${hosts.count === 1 && !hosts.capped ? '' : 's'} folded`;
  const by = hosts.domain === undefined ? '' : ` (registrable domain ${hosts.domain})`;
  const more = hosts.capped || hosts.count > hosts.sample.length ? ', …' : '';
  return `${what}${by}: ${hosts.sample.map(shown).join(', ')}${more}`;
}
