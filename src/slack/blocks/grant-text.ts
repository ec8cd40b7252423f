// How a break-glass grant reads in words: its kind, what it opens, its status and its times. Shared by
// the thread message, `/egress grants` and the modals, so the three never describe a grant differently.
import type {
  EgressDestination,
  EgressSource,
  Grant,
  GrantKind,
  GrantSpec,
  GrantStatus,
} from '../../domain/grant.js';
import { escapeCode, escapeInline, oneLine, truncate } from './escape.js';
import { idText, mrkdwn, shortDuration } from './format.js';
import { LIMITS } from './limits.js';
import { richText } from './rich.js';
import type { RichTextBlock, SectionBlock } from './types.js';

export const grantKindLabels: Record<GrantKind, string> = {
  'egress-exception': 'egress exception',
  'access-elevation': 'access elevation',
};

export const grantStatusLabels: Record<GrantStatus, string> = {
  pending: 'waiting for approval',
  approved: 'approved — applying',
  active: 'active',
  denied: 'denied',
  request_expired: 'request expired (nobody decided in time)',
  revoked: 'revoked',
  expired: 'expired',
  failed: 'failed — nothing of it is left applied',
};

export const grantStatusEmoji: Record<GrantStatus, string> = {
  pending: '🟡',
  approved: '⏳',
  active: '🔓',
  denied: '⛔',
  request_expired: '⌛',
  revoked: '⏹️',
  expired: '🔒',
  failed: '❌',
};

/** `2026-12-02 17:05:09 UTC`: absolute, the same for every reader (a Slack date token follows it where it helps). */
export function utcText(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeInline(iso);
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `app=payments-api,tier=web` (equality terms, as typed in the modal). */
export function selectorText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function sourceText(source: EgressSource, incidentId: string): string {
  return source.kind === 'quarantined'
    ? `the pods ${idText(incidentId)} quarantined`
    : `pods ${escapeInline(selectorText(source.podSelector))}`;
}

function destinationText(d: EgressDestination): string {
  switch (d.kind) {
    case 'pods': {
      const sel = selectorText(d.podSelector);
      return sel === ''
        ? `every pod of namespace ${escapeInline(d.namespace)}`
        : `pods ${escapeInline(sel)} in namespace ${escapeInline(d.namespace)}`;
    }
    case 'cidr':
      return `CIDR ${escapeInline(d.cidr)}`;
    case 'fqdn':
      return `host ${escapeInline(d.fqdn)}`;
  }
}

/** `443/TCP, 53/UDP`. */
export function portsText(ports: readonly { port: number; protocol: string }[]): string {
  return ports.map((p) => `${p.port}/${p.protocol}`).join(', ');
}

/** One line (mrkdwn, escaped): what the grant opens, or whom it gives which role. */
export function describeGrantSpec(spec: GrantSpec, incidentId: string): string {
  if (spec.kind === 'egress-exception') {
    return `egress from ${sourceText(spec.source, incidentId)} in ${escapeInline(spec.namespace)} to ${destinationText(spec.destination)} on ${escapeInline(portsText(spec.ports))}`;
  }
  const who = spec.subjects.map((s) => `${s.kind}:${s.name}`).join(', ');
  return `${escapeInline(who)} bound to ClusterRole ${escapeInline(spec.clusterRole)} in ${escapeInline(spec.namespace)}`;
}

/** When it ends, for people: `ends <UTC>` once approved, `ends 2h after approval` before, `ended <UTC>` after. */
export function endsText(grant: Pick<Grant, 'status' | 'durationMs' | 'expiresAt' | 'ended'>): string {
  if (grant.ended) return `ended ${utcText(grant.ended.at)}`;
  if (grant.expiresAt) return `ends ${utcText(grant.expiresAt)}`;
  if (grant.status === 'pending' || grant.status === 'approved')
    return `ends ${shortDuration(grant.durationMs)} after approval`;
  return 'never started';
}

/** `1h12m left`, `expired 3m ago`: relative to `now` (ms). */
export function timeLeft(untilIso: string, now: number): string {
  const ms = Date.parse(untilIso) - now;
  return ms > 0 ? `${shortDuration(ms)} left` : `${shortDuration(-ms)} ago`;
}

const FENCE_ROOM = '```\n\n```'.length;

/**
 * YAML in ``` code blocks, escaped (entities, mentions, fences) and split on line boundaries across as
 * many sections as it needs, at most `maxBlocks`; what does not fit is cut visibly.
 */
export function yamlSections(yaml: string, maxBlocks: number): SectionBlock[] {
  const room = LIMITS.sectionText - FENCE_ROOM;
  const chunks: string[] = [];
  let current = '';
  for (const raw of yaml.replace(/\s+$/, '').split('\n')) {
    const line = truncate(escapeCode(raw), room);
    if (current !== '' && current.length + 1 + line.length > room) {
      chunks.push(current);
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') chunks.push(current);
  if (chunks.length > maxBlocks) {
    const hidden = chunks.length - maxBlocks + 1;
    chunks.splice(
      maxBlocks - 1,
      hidden,
      `… (${hidden} more part${hidden === 1 ? '' : 's'} of the YAML not shown)`,
    );
  }
  return chunks.map((c) => ({ type: 'section', text: mrkdwn(`\`\`\`\n${c}\n\`\`\``) }));
}

/** The requester's reason (it may span lines) and ticket, exactly as typed: a rich_text block. */
export function reasonAndTicket(reason: string, ticket: string | undefined): RichTextBlock {
  return richText([
    { text: 'Reason', bold: true },
    `\n${reason}\n`,
    { text: 'Ticket', bold: true },
    ' ',
    ticket ? oneLine(ticket) : { text: 'none', italic: true },
  ]);
}

/** The preview's warnings, one a line, as written. */
export function warningLines(warnings: readonly string[]): RichTextBlock {
  return richText([warnings.map((w) => `⚠️ ${oneLine(w)}`).join('\n')]);
}
