// The root message of an incident thread: built from a view model (pure data, easy to assert on),
// rendered to Block Kit, passed through enforceLimits. Repeats re-render it for chat.update.
import { type DestinationType, describeDestination } from '../../domain/alert.js';
import type { VerdictKind, ViolationReason } from '../../domain/contract.js';
import { foldedHostsLine } from '../../domain/folded-hosts.js';
import { type Incident, type IncidentStatus, type Mode, statusLabels } from '../../domain/incident.js';
import { escapeInline, oneLine } from './escape.js';
import { actorSegment, idText, mrkdwn, plain, plural, slackDate } from './format.js';
import { ACTION_IDS } from './ids.js';
import { enforceMessage } from './limits.js';
import { fallbackText, richText, type Segment } from './rich.js';
import type { Block, Button, SlackMessage } from './types.js';

/** The decisions the root message offers, in display order. */
export type IncidentAction =
  | 'ack'
  | 'contain'
  | 'rotate'
  | 'release'
  | 'breakglass'
  | 'false_positive'
  | 'timeline';

export interface IncidentView {
  id: string;
  status: IncidentStatus;
  statusLabel: string;
  drill: boolean;
  source: { service: string; namespace: string; identity?: string; pod?: string };
  destination: {
    type: DestinationType;
    name: string;
    namespace?: string;
    port: number;
    protocol: string;
    /** `fqdn exfil.example.net:443/https` (describeDestination). */
    description: string;
  };
  count: number;
  /** `1 alert`, `51 alerts`. */
  countLabel: string;
  /** `2000 distinct hosts folded (registrable domain evil.com): a.evil.com, …` (foldedHostsLine). */
  hostsFolded?: string;
  firstSeen: string;
  lastSeen: string;
  /** When the sender reported the alert resolved (cleared by a later repeat). */
  resolvedAt?: string;
  verdict: { kind: VerdictKind; reason?: ViolationReason; message: string };
  /** The first alert's one-line description from the sender, if any. */
  summary?: string;
  playbook: { id: string; title?: string; mode: Mode };
  /** Actor id (`slack:U123`) of whoever took command. */
  commander?: string;
  closeReason?: string;
  actions: IncidentAction[];
}

/**
 * Which buttons the root message shows:
 * - Take command: until someone has (no commander yet), and never once acknowledged or closed;
 * - Contain (preview): while containment is still possible (not contained, resolved or closed);
 * - Rotate credentials and Release containment: once containment has been applied (complete or not);
 * - Break-glass (a time-bound, approved exception for this incident) and Mark false positive: until closed;
 * - Timeline: always.
 */
export function incidentActions(status: IncidentStatus, commander?: string): IncidentAction[] {
  const out: IncidentAction[] = [];
  if (status === 'closed') return ['timeline'];
  if (!commander && status !== 'acknowledged') out.push('ack');
  if (status !== 'contained' && status !== 'resolved') out.push('contain');
  if (status === 'contained' || status === 'containment_incomplete') out.push('rotate', 'release');
  out.push('breakglass', 'false_positive', 'timeline');
  return out;
}

/** The view model of an incident's root message. Pure. */
export function incidentView(incident: Incident, playbookTitle?: string): IncidentView {
  const { alert, verdict } = incident;
  const d = alert.destination;
  const hostsLine = foldedHostsLine(incident.hosts);
  return {
    id: incident.id,
    status: incident.status,
    statusLabel: statusLabels[incident.status],
    drill: incident.drill,
    source: {
      service: alert.source.service,
      namespace: alert.source.namespace,
      ...(alert.source.identity ? { identity: alert.source.identity } : {}),
      ...(alert.source.pod ? { pod: alert.source.pod } : {}),
    },
    destination: {
      type: d.type,
      name: d.name,
      ...(d.namespace ? { namespace: d.namespace } : {}),
      port: d.port,
      protocol: d.protocol,
      description: describeDestination(d),
    },
    count: incident.count,
    countLabel: plural(incident.count, 'alert'),
    ...(hostsLine ? { hostsFolded: hostsLine } : {}),
    firstSeen: incident.firstSeen,
    lastSeen: incident.lastSeen,
    ...(incident.resolvedAt ? { resolvedAt: incident.resolvedAt } : {}),
    verdict: {
      kind: verdict.kind,
      ...(verdict.kind === 'violation' ? { reason: verdict.reason } : {}),
      message: verdict.message,
    },
    ...(alert.summary ? { summary: alert.summary } : {}),
    playbook: {
      id: incident.playbook.id,
      ...(playbookTitle ? { title: playbookTitle } : {}),
      mode: incident.mode,
    },
    ...(incident.commander ? { commander: incident.commander } : {}),
    ...(incident.closeReason ? { closeReason: incident.closeReason } : {}),
    actions: incidentActions(incident.status, incident.commander),
  };
}

export const statusEmoji: Record<IncidentStatus, string> = {
  open: '🔴',
  acknowledged: '🟠',
  containment_incomplete: '⚠️',
  contained: '🛡️',
  resolved: '✅',
  closed: '⚪',
};

const verdictEmoji: Record<VerdictKind, string> = {
  violation: '⛔',
  allowed: '✅',
  'no-contract': '❔',
};

const reasonLabels: Record<ViolationReason, string> = {
  unknown_destination: 'unknown destination',
  port_not_allowed: 'port not allowed',
  protocol_mismatch: 'protocol mismatch',
};

const modeNotes: Record<Mode, string> = {
  observe: '👀 *Observe mode:* actions are recorded, never applied.',
  soft: '✋ *Soft mode:* containment is proposed with a preview; a responder confirms it.',
  hard: '⚡ *Hard mode:* containment starts at once, without waiting for a responder.',
};

function button(view: IncidentView, action: IncidentAction): Button {
  switch (action) {
    case 'ack':
      return {
        type: 'button',
        action_id: ACTION_IDS.ack,
        text: plain('Take command'),
        value: view.id,
        style: 'primary',
      };
    case 'contain':
      return {
        type: 'button',
        action_id: ACTION_IDS.containPreview,
        text: plain('Contain (preview)'),
        value: view.id,
      };
    case 'rotate':
      return {
        type: 'button',
        action_id: ACTION_IDS.rotate,
        text: plain('Rotate credentials'),
        value: view.id,
      };
    case 'release':
      return {
        type: 'button',
        action_id: ACTION_IDS.release,
        text: plain('Release containment'),
        value: view.id,
        confirm: {
          title: plain('Release containment?'),
          text: mrkdwn(
            `Asks an approver to undo the containment of ${idText(view.id)}: labels, policies and remedies go back to what they were.`,
          ),
          confirm: plain('Ask for release'),
          deny: plain('Cancel'),
        },
      };
    case 'breakglass':
      return {
        type: 'button',
        action_id: ACTION_IDS.breakglass,
        text: plain('Break-glass'),
        value: view.id,
      };
    case 'false_positive':
      return {
        type: 'button',
        action_id: ACTION_IDS.falsePositive,
        text: plain('Mark false positive'),
        value: view.id,
        style: 'danger',
        confirm: {
          title: plain('Mark as false positive?'),
          text: mrkdwn(
            `Incident ${idText(view.id)} will be closed as a false positive, and that is recorded in its timeline.`,
          ),
          confirm: plain('Mark false positive'),
          deny: plain('Cancel'),
          style: 'danger',
        },
      };
    case 'timeline':
      return {
        type: 'button',
        action_id: ACTION_IDS.timeline,
        text: plain('Timeline'),
        value: view.id,
      };
  }
}

/** Where from and where to: alert fields, shown as the sender wrote them (on one line each). */
function routeSegments(s: IncidentView['source'], d: IncidentView['destination']): Segment[] {
  return [
    { text: 'Source', bold: true },
    `  ${oneLine(s.service)} · namespace ${oneLine(s.namespace)} · `,
    s.identity ? oneLine(s.identity) : { text: 'identity unknown', italic: true },
    ...(s.pod ? [` · pod ${oneLine(s.pod)}`] : []),
    '\n',
    { text: 'Destination', bold: true },
    `  ${oneLine(d.description)}`,
  ];
}

function playbookField(p: IncidentView['playbook']): string {
  const name = p.title ? `${escapeInline(p.title)} (${idText(p.id)})` : idText(p.id);
  return `*Playbook*\n${name}\nmode: ${p.mode}`;
}

function verdictSegments(v: IncidentView['verdict']): Segment[] {
  return [
    `${verdictEmoji[v.kind]} `,
    { text: 'Contract verdict:', bold: true },
    ` ${v.kind}${v.reason ? ` (${reasonLabels[v.reason]})` : ''}\n${oneLine(v.message)}`,
  ];
}

/** One line for notifications and screen readers. */
function incidentFallback(view: IncidentView): string {
  const s = view.source;
  return fallbackText([
    `${view.drill ? '[DRILL] ' : ''}Egress incident ${view.id} (${view.statusLabel}): `,
    `${oneLine(`${s.service}.${s.namespace}`)} → ${oneLine(view.destination.description)}, ${view.countLabel}`,
  ]);
}

/** The root message of an incident thread. */
export function renderIncidentRoot(view: IncidentView): SlackMessage {
  const blocks: Block[] = [
    {
      type: 'header',
      text: plain(`${statusEmoji[view.status]} ${view.drill ? 'DRILL · ' : ''}Egress incident ${view.id}`),
    },
  ];
  if (view.drill) {
    blocks.push({
      type: 'context',
      elements: [mrkdwn('🧪 *DRILL* — made from a scenario; every action runs as a server-side dry run.')],
    });
  }
  const commander: Segment = view.commander
    ? actorSegment(view.commander)
    : { text: 'nobody yet', italic: true };
  blocks.push(
    richText([
      { text: 'Status:', bold: true },
      ` ${statusEmoji[view.status]} ${view.statusLabel}   ·   `,
      { text: 'Commander:', bold: true },
      ' ',
      commander,
    ]),
    richText(routeSegments(view.source, view.destination)),
    {
      type: 'section',
      fields: [
        mrkdwn(`*Count*\n${view.countLabel}`),
        mrkdwn(playbookField(view.playbook)),
        mrkdwn(`*First seen*\n${slackDate(view.firstSeen)}`),
        mrkdwn(`*Last seen*\n${slackDate(view.lastSeen)}`),
        ...(view.resolvedAt ? [mrkdwn(`*Resolved by the sender*\n${slackDate(view.resolvedAt)}`)] : []),
      ],
    },
  );
  if (view.hostsFolded) blocks.push(richText([oneLine(view.hostsFolded)]));
  blocks.push(richText(verdictSegments(view.verdict)));
  if (view.summary) blocks.push(richText([{ text: 'Alert:', bold: true }, ` ${oneLine(view.summary)}`]));
  if (view.status === 'closed') {
    const reason = view.closeReason ? [`: ${oneLine(view.closeReason)}`] : [];
    blocks.push(richText([{ text: 'Closed', bold: true }, ...reason]));
  } else {
    blocks.push({ type: 'context', elements: [mrkdwn(modeNotes[view.playbook.mode])] });
  }
  blocks.push({
    type: 'actions',
    block_id: `incident:${view.id}`,
    elements: view.actions.map((a) => button(view, a)),
  });
  return enforceMessage({ text: incidentFallback(view), blocks }, { incidentId: view.id });
}
